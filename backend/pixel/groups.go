package pixel

import (
	"math"

	"lightbox/backend/dcm"
)

// Functional group tags (Enhanced multi-frame IODs, PS3.3 C.7.6.16).
const (
	TagSharedFunctionalGroups   dcm.Tag = 0x52009229
	TagPerFrameFunctionalGroups dcm.Tag = 0x52009230
	TagPixelValueTransformation dcm.Tag = 0x00289145
	TagFrameVOILUT              dcm.Tag = 0x00289132
)

// FunctionalGroup returns the first item of the functional group macro
// sequence seq (e.g. TagFrameVOILUT) that applies to frame n: from the
// Per-frame Functional Groups Sequence when frame n's item has it, else from
// the Shared Functional Groups Sequence; nil when neither has it.
func (img *Image) FunctionalGroup(n int, seq dcm.Tag) *dcm.DataSet {
	ds := img.File.DataSet
	if per := ds.Seq(TagPerFrameFunctionalGroups); n >= 0 && n < len(per) {
		if items := per[n].Seq(seq); len(items) > 0 {
			return items[0]
		}
	}
	if shared := ds.Seq(TagSharedFunctionalGroups); len(shared) > 0 {
		if items := shared[0].Seq(seq); len(items) > 0 {
			return items[0]
		}
	}
	return nil
}

// FrameModality returns the modality transform of frame n: the data set's
// own (Modality LUT or Rescale Slope/Intercept at the top level) or, for
// enhanced multi-frame images, the Pixel Value Transformation functional
// group of that frame.
func (img *Image) FrameModality(n int) Modality {
	ds := img.File.DataSet
	if img.modality.LUT != nil || ds.Get(dcm.TagRescaleSlope) != nil || ds.Get(dcm.TagRescaleIntercept) != nil {
		return img.modality
	}
	fg := img.FunctionalGroup(n, TagPixelValueTransformation)
	if fg == nil {
		return img.modality
	}
	m := Modality{Slope: 1, Type: fg.Text(dcm.TagRescaleType)}
	if s, ok := fg.Float(dcm.TagRescaleSlope); ok && s != 0 && !math.IsNaN(s) && !math.IsInf(s, 0) {
		m.Slope = s
	}
	if c, ok := fg.Float(dcm.TagRescaleIntercept); ok && !math.IsNaN(c) && !math.IsInf(c, 0) {
		m.Intercept = c
	}
	return m
}
