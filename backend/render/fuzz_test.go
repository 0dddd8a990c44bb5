package render

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
	"lightbox/backend/pixel/pixeltest"
	"lightbox/backend/testcorpus"
)

// FuzzRender runs parser, frame layer and the LUT pipeline (windows, VOI
// LUTs, palettes, overlays, thumbnails) on arbitrary input: errors are fine,
// panics and hangs are not.
func FuzzRender(f *testing.F) {
	dir := testcorpus.Dir(f)
	for _, p := range []string{"images/ct/ele/ct_ele_01.dcm", "images/cr/cr_ele.dcm", "images/pal/pal_ele.dcm",
		"images/sc8/sc8_ele.dcm", "images/odd/odd_ebe.dcm", "external/pydicom/liver_1frame.dcm"} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, 40.0, 400.0)
	}
	f.Add(pixeltest.New(dcm.ExplicitVRLittleEndian).Image(3, 3, 1, 8, 8, 7, 0, "MONOCHROME2").
		US(dcm.NewTag(0x6000, 0x0010), 2).US(dcm.NewTag(0x6000, 0x0011), 2).
		El(dcm.NewTag(0x6000, 0x0050), "SS", u16(1, 2)).US(dcm.NewTag(0x6000, 0x0100), 1).
		El(dcm.NewTag(0x6000, 0x3000), "OW", u16(0b1001)).El(dcm.TagPixelData, "OB", make([]byte, 9)).Buf, 1.0, 2.0)
	f.Add(pixeltest.New(dcm.ExplicitVRLittleEndian).Image(1, 4, 1, 16, 16, 15, 0, "MONOCHROME2").
		El(dcm.TagVOILUTSequence, "SQ", voiItem(99, 8, 10, 20, 30)).El(dcm.TagPixelData, "OW", u16(0, 100, 200, 300)).Buf, 0.0, 0.0)
	f.Fuzz(func(t *testing.T, data []byte, c, w float64) {
		file, err := dcm.ParseBytes(data, dcm.Options{MaxInflated: 16 << 20})
		if err != nil {
			return
		}
		img, err := pixel.FromFile(file, pixel.WithMaxFrameBytes(4<<20))
		if err != nil {
			return
		}
		ctx := context.Background()
		for _, win := range []*Window{nil, {Center: c, Width: w}, {Center: c, Width: w, Function: Sigmoid}} {
			m, err := Render(ctx, img, 0, win)
			if err != nil {
				continue
			}
			if b := m.Bounds(); b.Dx() != img.Info.Columns || b.Dy() != img.Info.Rows {
				t.Fatalf("rendered %v for %dx%d", b, img.Info.Columns, img.Info.Rows)
			}
		}
		_, _ = Thumbnail(ctx, img, 32)
	})
}
