package render

import (
	"context"
	"path/filepath"
	"testing"

	"lightbox/backend/pixel"
	"lightbox/backend/testcorpus"
)

// BenchmarkRender measures the LUT pipeline and PNG encoding on a corpus CT
// slice (128x128, int16) and the US cine (120x160 RGB); bytes are the
// canonical input bytes of one frame.
func BenchmarkRender(b *testing.B) {
	dir := testcorpus.Dir(b)
	ctx := context.Background()
	for _, file := range []string{"images/ct/ele/ct_ele_01.dcm", "images/us/us_ele.dcm", "images/pal/pal_ele.dcm"} {
		img, err := pixel.Open(filepath.Join(dir, file))
		if err != nil {
			b.Fatal(err)
		}
		defer img.Close()
		win := &Window{Center: 40, Width: 400}
		b.Run(filepath.Base(file)+"/gray-or-rgb", func(b *testing.B) {
			b.SetBytes(int64(img.Info.FrameSize()))
			for i := 0; i < b.N; i++ {
				if _, err := Render(ctx, img, 0, win); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(filepath.Base(file)+"/png", func(b *testing.B) {
			b.SetBytes(int64(img.Info.FrameSize()))
			for i := 0; i < b.N; i++ {
				if _, err := RenderPNG(ctx, img, 0, win); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(filepath.Base(file)+"/thumbnail64", func(b *testing.B) {
			b.SetBytes(int64(img.Info.FrameSize()))
			for i := 0; i < b.N; i++ {
				if _, err := Thumbnail(ctx, img, 64); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
