package render

import (
	"image"

	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
)

// Overlay is one overlay plane (group 60xx) with its bits in Overlay Data
// (60xx,3000).
type Overlay struct {
	Group        uint16
	Rows, Cols   int
	Type         string // G (graphics) or R (ROI)
	Origin       [2]int // row, column of the first overlay pixel, 1-based
	Frames       int    // Number of Frames in Overlay (1 when absent)
	FirstFrame   int    // Image Frame Origin, 1-based
	Description  string
	AllFrames    bool   // no Number of Frames in Overlay: the plane applies to every frame
	bits         []byte // packed, least significant bit first, frame after frame
	bitsReadable bool
}

// maxOverlayBytes bounds the overlay data read for one plane.
const maxOverlayBytes = 64 << 20

// Overlays lists the overlay planes of img that carry Overlay Data.
func Overlays(img *pixel.Image) []Overlay {
	ds := img.File.DataSet
	var out []Overlay
	for g := uint16(0x6000); g <= 0x601E; g += 2 {
		data := ds.Get(dcm.NewTag(g, 0x3000))
		if data == nil {
			continue
		}
		o := Overlay{Group: g, Frames: 1, FirstFrame: 1}
		o.Rows = ds.IntOr(dcm.NewTag(g, 0x0010), 0)
		o.Cols = ds.IntOr(dcm.NewTag(g, 0x0011), 0)
		o.Type = ds.Text(dcm.NewTag(g, 0x0040))
		o.Description = ds.Text(dcm.NewTag(g, 0x0022))
		if org := ds.Ints(dcm.NewTag(g, 0x0050)); len(org) == 2 {
			o.Origin = [2]int{int(int16(org[0])), int(int16(org[1]))}
		} else {
			o.Origin = [2]int{1, 1}
		}
		if n, ok := ds.Int(dcm.NewTag(g, 0x0015)); !ok {
			o.AllFrames = true
		} else if n > 0 {
			o.Frames = n
		}
		if n := ds.IntOr(dcm.NewTag(g, 0x0051), 1); n > 0 {
			o.FirstFrame = n
		}
		if ba := ds.IntOr(dcm.NewTag(g, 0x0100), 1); ba != 1 || o.Rows <= 0 || o.Cols <= 0 {
			continue
		}
		b, err := img.ElementBytes(data, maxOverlayBytes)
		if err != nil {
			continue
		}
		if ds.BigEndian && data.VR == "OW" {
			b = append([]byte(nil), b...)
			for i := 0; i+1 < len(b); i += 2 {
				b[i], b[i+1] = b[i+1], b[i]
			}
		}
		need := (int64(o.Rows)*int64(o.Cols)*int64(o.Frames) + 7) / 8
		if int64(len(b)) < need {
			continue
		}
		o.bits, o.bitsReadable = b, true
		out = append(out, o)
	}
	return out
}

// At reports whether the overlay bit of overlay frame f at (row, col) of
// the overlay is set.
func (o Overlay) At(f, row, col int) bool {
	if !o.bitsReadable || f < 0 || f >= o.Frames || row < 0 || col < 0 || row >= o.Rows || col >= o.Cols {
		return false
	}
	i := (f*o.Rows+row)*o.Cols + col
	return o.bits[i>>3]>>(i&7)&1 == 1
}

// burnOverlays paints set overlay bits of image frame n white.
func burnOverlays(img *pixel.Image, n int, dst image.Image) {
	ovs := Overlays(img)
	if len(ovs) == 0 {
		return
	}
	b := dst.Bounds()
	for _, o := range ovs {
		f := n + 1 - o.FirstFrame // overlay frame for image frame n
		if o.AllFrames {
			f = 0
		}
		if f < 0 || f >= o.Frames {
			continue
		}
		for r := 0; r < o.Rows; r++ {
			y := o.Origin[0] - 1 + r
			if y < b.Min.Y || y >= b.Max.Y {
				continue
			}
			for c := 0; c < o.Cols; c++ {
				x := o.Origin[1] - 1 + c
				if x < b.Min.X || x >= b.Max.X || !o.At(f, r, c) {
					continue
				}
				switch m := dst.(type) {
				case *image.Gray:
					m.Pix[m.PixOffset(x, y)] = 255
				case *image.RGBA:
					i := m.PixOffset(x, y)
					m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = 255, 255, 255, 255
				}
			}
		}
	}
}
