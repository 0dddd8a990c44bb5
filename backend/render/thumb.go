package render

import (
	"context"
	"fmt"
	"image"

	"lightbox/backend/pixel"
)

// Thumbnail renders the middle frame of img with its own window and scales
// it to fit in size x size pixels (aspect kept; area-averaged when
// shrinking, nearest neighbour when enlarging), as PNG.
func Thumbnail(ctx context.Context, img *pixel.Image, size int, opts ...Option) ([]byte, error) {
	if size < 1 || size > 4096 {
		return nil, fmt.Errorf("render: thumbnail size %d out of range 1..4096", size)
	}
	m, err := Render(ctx, img, img.Info.Frames/2, nil, opts...)
	if err != nil {
		return nil, err
	}
	return EncodePNG(Fit(m, size))
}

// Fit scales m (an *image.Gray or *image.RGBA from Render) to fit in
// size x size pixels, keeping its aspect ratio.
func Fit(m image.Image, size int) image.Image {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 {
		return m
	}
	nw, nh := size, size
	if w >= h {
		nh = max(1, (h*size+w/2)/w)
	} else {
		nw = max(1, (w*size+h/2)/h)
	}
	if nw == w && nh == h {
		return m
	}
	var src []byte
	var ch int
	switch t := m.(type) {
	case *image.Gray:
		src, ch = t.Pix, 1
	case *image.RGBA:
		src, ch = t.Pix, 4
	default:
		return m
	}
	px := resample(src, w, h, ch, nw, nh)
	if ch == 1 {
		return &image.Gray{Pix: px, Stride: nw, Rect: image.Rect(0, 0, nw, nh)}
	}
	return &image.RGBA{Pix: px, Stride: 4 * nw, Rect: image.Rect(0, 0, nw, nh)}
}

// weights lists, for each output index, the input indices it covers and
// their coverage (box filter with fractional edges when shrinking; the
// nearest input when enlarging).
type span struct {
	first int
	w     []float64
}

func weights(in, out int) []span {
	sp := make([]span, out)
	scale := float64(in) / float64(out)
	for o := range sp {
		if scale <= 1 {
			i := min(in-1, int((float64(o)+0.5)*scale))
			sp[o] = span{first: i, w: []float64{1}}
			continue
		}
		a, b := float64(o)*scale, float64(o+1)*scale
		first := int(a)
		last := min(in-1, int(b-1e-9))
		ws := make([]float64, last-first+1)
		for i := first; i <= last; i++ {
			lo, hi := max(a, float64(i)), min(b, float64(i+1))
			ws[i-first] = (hi - lo) / scale
		}
		sp[o] = span{first: first, w: ws}
	}
	return sp
}

// resample scales interleaved 8-bit pixels of ch channels, separably.
func resample(src []byte, w, h, ch, nw, nh int) []byte {
	xs, ys := weights(w, nw), weights(h, nh)
	tmp := make([]float64, nw*h*ch) // horizontal pass
	for y := 0; y < h; y++ {
		row := src[y*w*ch:]
		for x, s := range xs {
			for c := 0; c < ch; c++ {
				var acc float64
				for k, wt := range s.w {
					acc += wt * float64(row[(s.first+k)*ch+c])
				}
				tmp[(y*nw+x)*ch+c] = acc
			}
		}
	}
	out := make([]byte, nw*nh*ch)
	for y, s := range ys {
		for x := 0; x < nw; x++ {
			for c := 0; c < ch; c++ {
				var acc float64
				for k, wt := range s.w {
					acc += wt * tmp[((s.first+k)*nw+x)*ch+c]
				}
				v := acc + 0.5
				if v > 255 {
					v = 255
				}
				out[(y*nw+x)*ch+c] = byte(v)
			}
		}
	}
	return out
}
