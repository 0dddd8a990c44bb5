package pixel

import (
	"context"
	"os"
	"testing"

	"lightbox/backend/dcm"
	"lightbox/backend/internal/testcorpus"
)

// FuzzFrames runs the parser and the frame layer (with every default codec)
// on arbitrary input: it must return errors, never panic, hang or allocate
// beyond the limits. Seeded with the corpus files up to 128 KiB and the
// synthetic files of the unit tests.
func FuzzFrames(f *testing.F) {
	for _, r := range testcorpus.Manifest(f) {
		st, err := os.Stat(r["abspath"])
		if err != nil || st.Size() > 128<<10 {
			continue
		}
		b, err := os.ReadFile(r["abspath"])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(newBuilder(dcm.ExplicitVRBigEndian).image(1, 3, 1, 8, 8, 7, 0, "MONOCHROME2").frames(2).
		ow(dcm.TagPixelData, 1, 2, 3).buf)
	f.Add(newBuilder(dcm.ExplicitVRLittleEndian).image(3, 3, 1, 1, 1, 0, 0, "MONOCHROME2").frames(3).
		el(dcm.TagPixelData, "OB", []byte{1, 2, 3, 4}).buf)
	f.Add(newBuilder(dcm.JPEGLosslessSV1).image(1, 8, 1, 8, 8, 7, 0, "MONOCHROME2").frames(2).
		encap(le32s(0, 22), []byte{0xFF, 0xD8}, []byte{1, 2, 3, 4}, []byte{0xFF, 0xD8, 0xFF, 0xD9}).buf)
	f.Add(newBuilder(dcm.ExplicitVRLittleEndian).image(1, 4, 1, 8, 8, 7, 0, "PALETTE COLOR").
		us(dcm.TagRedPaletteDescriptor, 4, 0, 16).us(dcm.TagGreenPaletteDescriptor, 4, 0, 16).
		us(dcm.TagBluePaletteDescriptor, 4, 0, 16).
		ow(dcm.TagSegRedPaletteData, 0, 1, 0, 1, 3, 300).ow(dcm.TagSegGreenPaletteData, 0, 2, 7, 8, 2, 1, 0, 0).
		ow(dcm.TagSegBluePaletteData, 0, 1, 5, 1, 3, 5).el(dcm.TagPixelData, "OB", []byte{0, 1, 2, 3}).buf)
	codecs := DefaultCodecs()
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := dcm.ParseBytes(data, dcm.Options{MaxInflated: 16 << 20})
		if err != nil {
			return
		}
		img, err := FromFile(file, WithCodecs(codecs), WithMaxFrameBytes(4<<20))
		if err != nil {
			return
		}
		ctx := context.Background()
		for n := 0; n < img.Info.Frames && n < 3; n++ {
			b, err := img.Frame(ctx, n)
			if err != nil {
				continue
			}
			if len(b) != img.Info.FrameSize() {
				t.Fatalf("frame %d has %d bytes, want %d", n, len(b), img.Info.FrameSize())
			}
			if _, _, err := img.FrameForViewer(ctx, n); err != nil {
				t.Fatalf("frame %d decoded but not for the viewer: %v", n, err)
			}
			if _, err := img.Probe(ctx, img.Info.Columns-1, img.Info.Rows-1, n); err != nil {
				t.Fatalf("probe of a decoded frame: %v", err)
			}
		}
	})
}
