package render

import (
	"math"
	"strings"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
)

// VOI LUT Functions (0028,1056).
const (
	Linear      = "LINEAR"
	LinearExact = "LINEAR_EXACT"
	Sigmoid     = "SIGMOID"
)

// Window is a VOI window: Center and Width in modality units, applied with
// Function (LINEAR when empty).
type Window struct {
	Center, Width float64
	Function      string
	Explanation   string
}

// FileWindows returns the windows a data set declares (Window Center and
// Width, several values paired in order, with their explanations and the
// VOI LUT Function). Explanations are the raw default-repertoire text.
func FileWindows(ds *dcm.DataSet) []Window {
	c, w := ds.Floats(dcm.TagWindowCenter), ds.Floats(dcm.TagWindowWidth)
	ex := ds.Texts(dcm.TagWindowExplanation)
	fn := strings.ToUpper(ds.Text(dcm.TagVOILUTFunction))
	var out []Window
	for i := 0; i < len(c) && i < len(w); i++ {
		if math.IsNaN(c[i]) || math.IsNaN(w[i]) || math.IsInf(c[i], 0) || math.IsInf(w[i], 0) {
			continue
		}
		win := Window{Center: c[i], Width: w[i], Function: fn}
		if i < len(ex) {
			win.Explanation = ex[i]
		}
		out = append(out, win)
	}
	return out
}

// FrameWindows returns the windows for frame n of img: the data set's own
// (FileWindows) or, for enhanced multi-frame images, those of the Frame VOI
// LUT functional group of that frame.
func FrameWindows(img *pixel.Image, n int) []Window {
	if w := FileWindows(img.File.DataSet); len(w) > 0 {
		return w
	}
	if fg := img.FunctionalGroup(n, pixel.TagFrameVOILUT); fg != nil {
		return FileWindows(fg)
	}
	return nil
}

// VOILUTs returns the tables of the VOI LUT Sequence (0028,3010); items that
// cannot be read are left out.
func VOILUTs(img *pixel.Image) []*pixel.LUT {
	var out []*pixel.LUT
	signed := img.Info.Signed() || img.Modality().Intercept < 0
	for _, item := range img.File.DataSet.Seq(dcm.TagVOILUTSequence) {
		if l, err := pixel.ParseLUT(img.File, item, signed); err == nil {
			out = append(out, l)
		}
	}
	return out
}

// apply maps a modality value through the window onto [0, 1].
func (w Window) apply(x float64) float64 { return w.mapper()(x) }

// mapper returns the window as a function from modality value to [0, 1],
// with the VOI LUT Function resolved once.
func (w Window) mapper() func(float64) float64 {
	c, wd := w.Center, w.Width
	switch strings.ToUpper(strings.TrimSpace(w.Function)) {
	case LinearExact: // PS3.3 C.11.2.1.3.2
		if wd <= 0 {
			wd = math.SmallestNonzeroFloat64
		}
		return func(x float64) float64 {
			switch {
			case x <= c-wd/2:
				return 0
			case x > c+wd/2:
				return 1
			}
			return (x-c)/wd + 0.5
		}
	case Sigmoid: // PS3.3 C.11.2.1.3.1
		if wd <= 0 {
			wd = 1
		}
		return func(x float64) float64 { return 1 / (1 + math.Exp(-4*(x-c)/wd)) }
	default: // LINEAR, PS3.3 C.11.2.1.2.1
		if wd < 1 {
			wd = 1
		}
		lo, hi := c-0.5-(wd-1)/2, c-0.5+(wd-1)/2
		return func(x float64) float64 {
			switch {
			case x <= lo:
				return 0
			case x > hi:
				return 1
			}
			return (x-(c-0.5))/(wd-1) + 0.5
		}
	}
}

// MinMaxWindow returns the window spanning [lo, hi] of modality values.
func MinMaxWindow(lo, hi float64) Window {
	return Window{Center: (lo + hi + 1) / 2, Width: hi - lo + 1, Function: Linear, Explanation: "min/max"}
}
