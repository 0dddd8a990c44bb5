package pixel

import (
	"context"
	"os"
	"testing"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel/pixeltest"
	"lightbox/backend/testcorpus"
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
	f.Add(pixeltest.New(dcm.ExplicitVRBigEndian).Image(1, 3, 1, 8, 8, 7, 0, "MONOCHROME2").Frames(2).
		OW(dcm.TagPixelData, 1, 2, 3).Buf)
	f.Add(pixeltest.New(dcm.ExplicitVRLittleEndian).Image(3, 3, 1, 1, 1, 0, 0, "MONOCHROME2").Frames(3).
		El(dcm.TagPixelData, "OB", []byte{1, 2, 3, 4}).Buf)
	f.Add(pixeltest.New(dcm.JPEGLosslessSV1).Image(1, 8, 1, 8, 8, 7, 0, "MONOCHROME2").Frames(2).
		Encap(pixeltest.LE32(0, 22), []byte{0xFF, 0xD8}, []byte{1, 2, 3, 4}, []byte{0xFF, 0xD8, 0xFF, 0xD9}).Buf)
	f.Add(pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 4, 1, 8, 8, 7, 0, "PALETTE COLOR").
		US(dcm.TagRedPaletteDescriptor, 4, 0, 16).US(dcm.TagGreenPaletteDescriptor, 4, 0, 16).
		US(dcm.TagBluePaletteDescriptor, 4, 0, 16).
		OW(dcm.TagSegRedPaletteData, 0, 1, 0, 1, 3, 300).OW(dcm.TagSegGreenPaletteData, 0, 2, 7, 8, 2, 1, 0, 0).
		OW(dcm.TagSegBluePaletteData, 0, 1, 5, 1, 3, 5).El(dcm.TagPixelData, "OB", []byte{0, 1, 2, 3}).Buf)
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
