package app

import (
	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
	"lightbox/backend/store"
)

// InstanceMeta is what the viewer's image loader and metadata provider need.
type InstanceMeta struct {
	ID                          uint      `json:"id"`
	SOPInstanceUID              string    `json:"sopInstanceUID"`
	SOPClassUID                 string    `json:"sopClassUID"`
	StudyInstanceUID            string    `json:"studyInstanceUID"`
	SeriesInstanceUID           string    `json:"seriesInstanceUID"`
	TransferSyntaxUID           string    `json:"transferSyntaxUID"`
	Rows                        int       `json:"rows"`
	Columns                     int       `json:"columns"`
	Frames                      int       `json:"frames"`
	SamplesPerPixel             int       `json:"samplesPerPixel"`
	BitsAllocated               int       `json:"bitsAllocated"`
	BitsStored                  int       `json:"bitsStored"`
	HighBit                     int       `json:"highBit"`
	PixelRepresentation         int       `json:"pixelRepresentation"`
	PhotometricInterpretation   string    `json:"photometricInterpretation"`
	PlanarConfiguration         int       `json:"planarConfiguration"`
	DataType                    string    `json:"dataType"`
	RescaleSlope                float64   `json:"rescaleSlope"`
	RescaleIntercept            float64   `json:"rescaleIntercept"`
	RescaleType                 string    `json:"rescaleType"`
	Modality                    string    `json:"modality"`
	WindowCenter                []float64 `json:"windowCenter"`
	WindowWidth                 []float64 `json:"windowWidth"`
	WindowExplanation           []string  `json:"windowExplanation"`
	VOILUTFunction              string    `json:"voiLUTFunction"`
	PixelSpacing                []float64 `json:"pixelSpacing"`
	ImagerPixelSpacing          []float64 `json:"imagerPixelSpacing"`
	SpacingSource               string    `json:"spacingSource"`
	ImagePositionPatient        []float64 `json:"imagePositionPatient"`
	ImageOrientationPatient     []float64 `json:"imageOrientationPatient"`
	SliceThickness              *float64  `json:"sliceThickness"`
	SliceLocation               *float64  `json:"sliceLocation"`
	FrameOfReferenceUID         string    `json:"frameOfReferenceUID"`
	FrameTime                   *float64  `json:"frameTime"`
	RecommendedDisplayFrameRate *float64  `json:"recommendedDisplayFrameRate"`
	PatientName                 string    `json:"patientName"`
	PatientID                   string    `json:"patientID"`
	PatientBirthDate            string    `json:"patientBirthDate"`
	PatientSex                  string    `json:"patientSex"`
	PatientAge                  string    `json:"patientAge"`
	StudyDate                   string    `json:"studyDate"`
	StudyTime                   string    `json:"studyTime"`
	StudyDescription            string    `json:"studyDescription"`
	SeriesDescription           string    `json:"seriesDescription"`
	SeriesNumber                int       `json:"seriesNumber"`
	InstanceNumber              int       `json:"instanceNumber"`
	InstitutionName             string    `json:"institutionName"`
	BodyPart                    string    `json:"bodyPart"`
	PatientOrientation          []string  `json:"patientOrientation"` // (0020,0020) row and column directions, e.g. ["A","F"]; [] if absent
	// Smallest/Largest Image Pixel Value (0028,0106/0107) as stored
	// values (before the modality LUT); absent when the file has none.
	MinValue *int64   `json:"minValue,omitempty"`
	MaxValue *int64   `json:"maxValue,omitempty"`
	Error    string   `json:"error,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Tags only the meta endpoint reads.
var (
	tagPatientOrientation      = dcm.Tag(0x00200020)
	tagSmallestImagePixelValue = dcm.Tag(0x00280106)
	tagLargestImagePixelValue  = dcm.Tag(0x00280107)
)

// pixelValue reads a US-or-SS pixel value attribute. Implicit VR files
// give it the dictionary's first VR (US), so for a signed 16-bit image the
// bits are reinterpreted as SS.
func pixelValue(ds *dcm.DataSet, t dcm.Tag, signed16 bool) *int64 {
	v, ok := ds.Int(t)
	if !ok {
		return nil
	}
	if e := ds.Get(t); signed16 && e != nil && e.VR != "SS" && v > 32767 && v <= 65535 {
		v -= 65536
	}
	x := int64(v)
	return &x
}

func optFloat(ds *dcm.DataSet, t dcm.Tag) *float64 {
	if v, ok := ds.Float(t); ok {
		return &v
	}
	return nil
}

func fixed(v []float64, n int) []float64 {
	if len(v) != n {
		return nil
	}
	return v
}

func (a *App) buildMeta(in *store.Instance, f *dcm.File, img *pixel.Image) *InstanceMeta {
	ds := f.DataSet
	dec := a.decoderFor(ds)
	text := func(t dcm.Tag) string {
		e := ds.Get(t)
		if e == nil {
			return ""
		}
		s, _ := dec.Decode(e.VR, e.Value)
		return s
	}
	m := &InstanceMeta{ID: in.ID, SOPInstanceUID: in.SOPInstanceUID, SOPClassUID: in.SOPClassUID,
		StudyInstanceUID: ds.UID(dcm.TagStudyInstanceUID), SeriesInstanceUID: ds.UID(dcm.TagSeriesInstanceUID),
		TransferSyntaxUID: f.TransferSyntax.UID, Modality: ds.Text(dcm.TagModality),
		RescaleSlope: 1, RescaleType: ds.Text(dcm.TagRescaleType),
		WindowCenter: ds.Floats(dcm.TagWindowCenter), WindowWidth: ds.Floats(dcm.TagWindowWidth),
		VOILUTFunction: ds.Text(dcm.TagVOILUTFunction),
		PixelSpacing:   fixed(ds.Floats(dcm.TagPixelSpacing), 2), ImagerPixelSpacing: fixed(ds.Floats(dcm.TagImagerPixelSpacing), 2),
		ImagePositionPatient: fixed(ds.Floats(dcm.TagImagePositionPatient), 3), ImageOrientationPatient: fixed(ds.Floats(dcm.TagImageOrientation), 6),
		SliceThickness: optFloat(ds, dcm.TagSliceThickness), SliceLocation: optFloat(ds, dcm.TagSliceLocation),
		FrameOfReferenceUID: ds.UID(dcm.TagFrameOfReferenceUID), FrameTime: optFloat(ds, dcm.TagFrameTime),
		RecommendedDisplayFrameRate: optFloat(ds, dcm.TagRecommendedFrameRate),
		PatientName:                 text(dcm.TagPatientName), PatientID: text(dcm.TagPatientID), PatientBirthDate: ds.Text(dcm.TagPatientBirthDate),
		PatientSex: ds.Text(dcm.TagPatientSex), PatientAge: ds.Text(dcm.TagPatientAge), StudyDate: ds.Text(dcm.TagStudyDate),
		StudyTime: ds.Text(dcm.TagStudyTime), StudyDescription: text(dcm.TagStudyDescription), SeriesDescription: text(dcm.TagSeriesDescription),
		SeriesNumber: ds.IntOr(dcm.TagSeriesNumber, 0), InstanceNumber: ds.IntOr(dcm.TagInstanceNumber, 0),
		InstitutionName: text(dcm.TagInstitutionName), BodyPart: ds.Text(dcm.TagBodyPartExamined)}
	m.WindowExplanation, _ = dec.DecodeValues("LO", ds.Raw(dcm.TagWindowExplanation))
	switch {
	case m.PixelSpacing != nil:
		m.SpacingSource = "PixelSpacing"
	case m.ImagerPixelSpacing != nil:
		m.SpacingSource = "ImagerPixelSpacing"
	}
	if m.WindowExplanation == nil {
		m.WindowExplanation = []string{}
	}
	m.PatientOrientation = []string{}
	if po := ds.Texts(tagPatientOrientation); len(po) == 2 && po[0] != "" && po[1] != "" {
		m.PatientOrientation = po
	}
	signed16 := ds.IntOr(dcm.TagPixelRepresentation, 0) == 1 && ds.IntOr(dcm.TagBitsAllocated, 16) == 16
	m.MinValue = pixelValue(ds, tagSmallestImagePixelValue, signed16)
	m.MaxValue = pixelValue(ds, tagLargestImagePixelValue, signed16)
	if img != nil {
		info := img.Info
		m.Rows, m.Columns, m.Frames, m.SamplesPerPixel = info.Rows, info.Columns, info.Frames, info.SamplesPerPixel
		m.BitsAllocated, m.BitsStored, m.HighBit, m.PixelRepresentation = info.BitsAllocated, info.BitsStored, info.HighBit, info.PixelRepresentation
		m.PhotometricInterpretation, m.PlanarConfiguration, m.DataType = info.Photometric, info.PlanarConfiguration, info.DataType
		if info.Palette() {
			m.DataType = "rgb8"
			if p := img.Palette(); p != nil && p.Bits() > 8 {
				m.DataType = "rgb16"
			}
		}
		mod := img.Modality()
		if mod.LUT == nil {
			m.RescaleSlope, m.RescaleIntercept = mod.Slope, mod.Intercept
		}
		if mod.Type != "" {
			m.RescaleType = mod.Type
		}
		m.Warnings = info.Warnings
	} else {
		m.Rows, m.Columns = ds.IntOr(dcm.TagRows, 0), ds.IntOr(dcm.TagColumns, 0)
		m.Frames = ds.IntOr(dcm.TagNumberOfFrames, 1)
	}
	return m
}
