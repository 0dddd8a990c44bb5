// Package render turns a frame of a pixel.Image into an 8-bit picture: the
// modality transform (rescale or Modality LUT, from package pixel), the VOI
// transform (window centre/width with the VOI LUT Function LINEAR,
// LINEAR_EXACT or SIGMOID, or a VOI LUT Sequence table), the presentation
// (MONOCHROME1 and Presentation LUT Shape INVERSE invert), palette colour
// expansion, and optional overlays (60xx,3000) burnt in. Results are
// image.Gray or image.RGBA values, or PNG bytes.
//
// Window choice: the window passed in; else the file's first window; else
// its first VOI LUT; else a min/max window over the frame's modality values.
//
// Every function is safe for concurrent use with the same *pixel.Image; the
// caller keeps the Image (and its file) open for the duration of the call.
package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
)

// ErrBadWindow: a window with a width that is not a positive number.
var ErrBadWindow = errors.New("invalid window")

type options struct {
	overlays bool
}

// Option tunes rendering.
type Option func(*options)

// WithOverlays burns overlay planes (60xx,3000) into the picture (default
// true, as DCMTK dcm2pnm does).
func WithOverlays(on bool) Option { return func(o *options) { o.overlays = on } }

func newOptions(opts []Option) options {
	o := options{overlays: true}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Render renders frame n of img with window win (nil: the file's own) into
// an *image.Gray (monochrome) or *image.RGBA (colour, palette).
func Render(ctx context.Context, img *pixel.Image, n int, win *Window, opts ...Option) (image.Image, error) {
	o := newOptions(opts)
	if win != nil && (math.IsNaN(win.Width) || math.IsNaN(win.Center) || math.IsInf(win.Width, 0) || math.IsInf(win.Center, 0) || win.Width <= 0) {
		return nil, fmt.Errorf("%w: centre %v width %v", ErrBadWindow, win.Center, win.Width)
	}
	b, err := img.Frame(ctx, n)
	if err != nil {
		return nil, err
	}
	in := img.Info
	var out image.Image
	switch {
	case in.SamplesPerPixel == 3:
		out = renderRGB(b, in)
	case in.Palette():
		out = renderPalette(b, in, img.Palette())
	default:
		out = renderMono(b, img, n, win)
	}
	if o.overlays {
		burnOverlays(img, n, out)
	}
	return out, nil
}

// RenderPNG renders frame n (see Render) and encodes it as PNG.
func RenderPNG(ctx context.Context, img *pixel.Image, n int, win *Window, opts ...Option) ([]byte, error) {
	m, err := Render(ctx, img, n, win, opts...)
	if err != nil {
		return nil, err
	}
	return EncodePNG(m)
}

// EncodePNG encodes a picture as PNG (fast compression).
func EncodePNG(m image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// inverted reports MONOCHROME1 or Presentation LUT Shape INVERSE (both mean
// that the lowest values are displayed white; they are not combined).
func inverted(img *pixel.Image) bool {
	shape := strings.ToUpper(img.File.DataSet.Text(dcm.TagPresentationLUTShape))
	return img.Info.Photometric == "MONOCHROME1" || shape == "INVERSE"
}

// voiFunc returns the map from modality value to [0, 1].
func voiFunc(img *pixel.Image, n int, samples func(func(int64)), win *Window) func(float64) float64 {
	ds := img.File.DataSet
	fileWins := FrameWindows(img, n)
	switch {
	case win != nil:
		w := *win
		if w.Function == "" {
			w.Function = strings.ToUpper(ds.Text(dcm.TagVOILUTFunction))
		}
		return w.mapper()
	case len(fileWins) > 0 && fileWins[0].Width > 0:
		return fileWins[0].mapper()
	}
	if luts := VOILUTs(img); len(luts) > 0 {
		l := luts[0]
		maxOut := float64(l.MaxOut())
		return func(x float64) float64 {
			return math.Min(1, float64(l.Lookup(int64(math.Round(x))))/maxOut)
		}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	m := img.FrameModality(n)
	samples(func(v int64) {
		x := m.Apply(v)
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	})
	if lo > hi { // nothing but padding
		return func(float64) float64 { return 0 }
	}
	return MinMaxWindow(lo, hi).mapper()
}

func to8(y float64) uint8 {
	v := math.Round(y * 255)
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func renderMono(b []byte, img *pixel.Image, n int, win *Window) *image.Gray {
	in := img.Info
	npx := in.Rows * in.Columns
	vals := pixel.Samples(b, in)
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	m := img.FrameModality(n)
	padLo, padHi, padded := padding(img)
	each := func(f func(int64)) {
		if m.LUT != nil || padded {
			for _, v := range vals {
				if !padded || v < padLo || v > padHi {
					f(v)
				}
			}
			return
		}
		f(lo) // a rescale is monotonic: the extremes are enough
		f(hi)
	}
	voi := voiFunc(img, n, each, win)
	inv := inverted(img)
	tr := func(v int64) uint8 {
		o := to8(voi(m.Apply(v)))
		if inv {
			o = 255 - o
		}
		return o
	}
	out := image.NewGray(image.Rect(0, 0, in.Columns, in.Rows))
	if npx == 0 {
		return out
	}
	if hi-lo < 1<<20 && hi-lo < 4*int64(npx) {
		// a table over the values present
		table := make([]uint8, hi-lo+1)
		for i := range table {
			table[i] = tr(lo + int64(i))
		}
		for i := 0; i < npx; i++ {
			out.Pix[i] = table[vals[i]-lo]
		}
		return out
	}
	for i := 0; i < npx; i++ {
		out.Pix[i] = tr(vals[i])
	}
	return out
}

// padding returns the range of stored values that Pixel Padding Value
// (0028,0120) and Pixel Padding Range Limit (0028,0121) declare as padding,
// which the min/max window leaves out.
func padding(img *pixel.Image) (lo, hi int64, ok bool) {
	ds := img.File.DataSet
	read := func(t dcm.Tag) (int64, bool) {
		v, ok := ds.Int(t)
		if !ok {
			return 0, false
		}
		if e := ds.Get(t); e != nil && e.VR != "SS" && img.Info.Signed() && v > 32767 && v <= 65535 {
			v -= 65536
		}
		return int64(v), true
	}
	p, ok := read(dcm.NewTag(0x0028, 0x0120))
	if !ok {
		return 0, 0, false
	}
	lo, hi = p, p
	if l, ok := read(dcm.NewTag(0x0028, 0x0121)); ok {
		lo, hi = min(p, l), max(p, l)
	}
	return lo, hi, true
}

// scale8 maps a sample of maxv full scale onto 0..255.
func scale8(v, maxv int64) uint8 {
	if maxv == 255 {
		return uint8(v)
	}
	if v <= 0 {
		return 0
	}
	if v >= maxv {
		return 255
	}
	return uint8((v*255 + maxv/2) / maxv)
}

func renderRGB(b []byte, in pixel.Info) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, in.Columns, in.Rows))
	npx := in.Rows * in.Columns
	if in.BitsAllocated == 8 && in.BitsStored == 8 {
		for i := 0; i < npx; i++ {
			copy(out.Pix[4*i:4*i+3], b[3*i:3*i+3])
			out.Pix[4*i+3] = 255
		}
		return out
	}
	vals := pixel.Samples(b, in)
	maxv := int64(1)<<in.BitsStored - 1
	for i := 0; i < npx; i++ {
		out.Pix[4*i] = scale8(vals[3*i], maxv)
		out.Pix[4*i+1] = scale8(vals[3*i+1], maxv)
		out.Pix[4*i+2] = scale8(vals[3*i+2], maxv)
		out.Pix[4*i+3] = 255
	}
	return out
}

// paletteMax is the full scale of the palette entries: 2^Bits-1, except
// that 16-bit tables whose entries all fit in 8 bits (a common writer
// mistake) are read as 8-bit.
func paletteMax(p *pixel.Palette) int64 {
	if p.Bits() <= 8 {
		return 255
	}
	for _, l := range []*pixel.LUT{p.Red, p.Green, p.Blue} {
		for _, v := range l.Data {
			if v > 255 {
				return 65535
			}
		}
	}
	return 255
}

func renderPalette(b []byte, in pixel.Info, p *pixel.Palette) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, in.Columns, in.Rows))
	vals := pixel.Samples(b, in)
	maxv := paletteMax(p)
	for i := 0; i < in.Rows*in.Columns; i++ {
		r, g, bl := p.RGB(vals[i])
		out.Pix[4*i] = scale8(int64(r), maxv)
		out.Pix[4*i+1] = scale8(int64(g), maxv)
		out.Pix[4*i+2] = scale8(int64(bl), maxv)
		out.Pix[4*i+3] = 255
	}
	return out
}

// Placeholder returns a size x size PNG standing for an image that cannot be
// decoded: a grey tile with a diagonal cross.
func Placeholder(size int) []byte {
	if size < 8 {
		size = 8
	}
	m := image.NewGray(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			c := uint8(48)
			if x == y || x == size-1-y || x == 0 || y == 0 || x == size-1 || y == size-1 {
				c = 160
			}
			m.SetGray(x, y, color.Gray{Y: c})
		}
	}
	b, _ := EncodePNG(m)
	return b
}
