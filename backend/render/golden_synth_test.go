package render

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
	"lightbox/backend/pixel/pixeltest"
)

// TestGoldenSynthetic renders small synthetic files that exercise what the
// corpus does not (an overlay plane, a VOI LUT Sequence, MONOCHROME1 with a
// rescale) and compares them with dcm2pnm: within +-1. (DCMTK cannot read
// segmented palettes; those were checked against pydicom's apply_color_lut
// when the code was written: all 256 entries identical for discrete and
// linear segments.)
func TestGoldenSynthetic(t *testing.T) {
	tool, err := exec.LookPath("dcm2pnm")
	if err != nil {
		t.Skip("dcm2pnm not installed")
	}
	ramp := func(n int, step uint16) []byte {
		var v []uint16
		for i := 0; i < n; i++ {
			v = append(v, uint16(i)*step)
		}
		return u16(v...)
	}
	var lut []uint16
	for i := 0; i < 256; i++ {
		lut = append(lut, uint16((i*i)/64)) // a curve, 10-bit output
	}
	cases := []struct {
		name string
		args []string
		win  *Window
		file *pixeltest.Builder
	}{
		{"overlay", []string{"+Ww", "2048", "4096"}, &Window{Center: 2048, Width: 4096},
			pixeltest.New(dcm.ExplicitVRLittleEndian).Image(8, 16, 1, 16, 12, 11, 0, "MONOCHROME2").
				US(dcm.NewTag(0x6000, 0x0010), 4).US(dcm.NewTag(0x6000, 0x0011), 8).Str(dcm.NewTag(0x6000, 0x0040), "CS", "G").
				El(dcm.NewTag(0x6000, 0x0050), "SS", u16(3, 5)).US(dcm.NewTag(0x6000, 0x0100), 1).US(dcm.NewTag(0x6000, 0x0102), 0).
				El(dcm.NewTag(0x6000, 0x3000), "OW", []byte{0xFF, 0x81, 0x81, 0xFF}).
				El(dcm.TagPixelData, "OW", ramp(128, 31))},
		{"VOI LUT sequence", []string{"+Wl", "1"}, nil,
			pixeltest.New(dcm.ExplicitVRLittleEndian).Image(8, 16, 1, 16, 12, 11, 0, "MONOCHROME2").
				El(dcm.TagVOILUTSequence, "SQ", voiItem(0, 10, lut...)).
				El(dcm.TagPixelData, "OW", ramp(128, 2))},
		{"MONOCHROME1 window", []string{"+Ww", "100", "200"}, &Window{Center: 100, Width: 200},
			pixeltest.New(dcm.ExplicitVRLittleEndian).Image(8, 16, 1, 16, 16, 15, 1, "MONOCHROME1").
				Str(dcm.TagRescaleIntercept, "DS", "-100").Str(dcm.TagRescaleSlope, "DS", "3").
				El(dcm.TagPixelData, "OW", ramp(128, 1))},
	}
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in.dcm"), filepath.Join(dir, "ref.png")
			if err := os.WriteFile(in, c.file.Buf, 0o600); err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{"+on"}, c.args...), in, out)
			if msg, err := exec.CommandContext(ctx, tool, args...).CombinedOutput(); err != nil {
				t.Fatalf("dcm2pnm %v: %v\n%s", args, err, msg)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			f, err := c.file.Parse()
			if err != nil {
				t.Fatal(err)
			}
			img, err := pixel.FromFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Render(ctx, img, 0, c.win)
			if err != nil {
				t.Fatal(err)
			}
			maxDiff, over := compare(t, got, ref)
			t.Logf("max difference %d", maxDiff)
			if over > 0 {
				t.Errorf("%d samples differ by more than 1 from dcm2pnm (max %d)", over, maxDiff)
			}
		})
	}
}
