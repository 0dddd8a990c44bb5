package pixel

import (
	"encoding/binary"
	"fmt"
	"math"

	"lightbox/backend/dcm"
)

// LUT is a lookup table as DICOM describes it (Modality LUT, VOI LUT,
// palette colour tables): Data[i] is the output for input FirstMapped+i;
// inputs below or above the table map to its first or last entry.
type LUT struct {
	FirstMapped int
	Bits        int // bits per entry, from the descriptor (8 or 16, up to 16)
	Data        []uint16
	Explanation string
}

// Lookup maps an input value through the table.
func (l *LUT) Lookup(v int64) uint16 {
	i := v - int64(l.FirstMapped)
	if i < 0 {
		return l.Data[0]
	}
	if i >= int64(len(l.Data)) {
		return l.Data[len(l.Data)-1]
	}
	return l.Data[i]
}

// MaxOut is the largest possible output, 2^Bits-1.
func (l *LUT) MaxOut() int { return 1<<l.Bits - 1 }

const maxLUTEntries = 65536

// descriptor reads a LUT descriptor: entries (0 means 65536), first mapped
// value (signed when signedInput and the value does not fit), bits.
func descriptor(ds *dcm.DataSet, t dcm.Tag, signedInput bool) (entries, first, bits int, err error) {
	d := ds.Ints(t)
	if len(d) < 3 {
		return 0, 0, 0, invalid("%s has %d values, not 3", t, len(d))
	}
	entries, first, bits = d[0]&0xFFFF, d[1], d[2]
	if entries == 0 {
		entries = maxLUTEntries
	}
	if e := ds.Get(t); e != nil && e.VR != "SS" && signedInput && first > 32767 && first <= 65535 {
		first -= 65536
	}
	if bits < 1 || bits > 16 {
		// Some writers put 0 or garbage here; 16 is the safe reading.
		bits = 16
	}
	return entries, first, bits, nil
}

// words decodes 16-bit LUT data in the data set's byte order.
func words(ds *dcm.DataSet, b []byte) []uint16 {
	bo := binary.ByteOrder(binary.LittleEndian)
	if ds.BigEndian {
		bo = binary.BigEndian
	}
	out := make([]uint16, len(b)/2)
	for i := range out {
		out[i] = bo.Uint16(b[2*i:])
	}
	return out
}

// parseLUT reads a LUT from a data set (a Modality or VOI LUT Sequence item,
// or the top level for palettes) given its descriptor and data tags.
func parseLUT(f *dcm.File, ds *dcm.DataSet, descTag, dataTag dcm.Tag, signedInput bool) (*LUT, error) {
	entries, first, bits, err := descriptor(ds, descTag, signedInput)
	if err != nil {
		return nil, err
	}
	raw, err := elementBytes(f, ds.Get(dataTag), 2*maxLUTEntries)
	if err != nil {
		return nil, err
	}
	w := words(ds, raw)
	if bits <= 8 && len(w)*2 == entries && entries > 1 {
		// 8-bit entries packed two per word (the low byte first in LE).
		packed := make([]uint16, 0, entries)
		for i := range w {
			lo, hi := w[i]&0xFF, w[i]>>8
			if ds.BigEndian {
				lo, hi = hi, lo
			}
			packed = append(packed, lo, hi)
		}
		w = packed
	}
	if len(w) == 0 {
		return nil, invalid("%s is empty", dataTag)
	}
	if len(w) > entries {
		w = w[:entries]
	}
	return &LUT{FirstMapped: first, Bits: bits, Data: w}, nil
}

// Modality is the modality transform: a rescale (Slope, Intercept) or, when
// the data set has a Modality LUT Sequence, a LUT.
type Modality struct {
	Slope, Intercept float64
	Type             string // RescaleType, or ModalityLUTType for a LUT
	LUT              *LUT
}

// Apply maps a stored value to its modality value.
func (m Modality) Apply(stored int64) float64 {
	if m.LUT != nil {
		return float64(m.LUT.Lookup(stored))
	}
	return float64(stored)*m.Slope + m.Intercept
}

// Identity reports a transform that changes nothing.
func (m Modality) Identity() bool { return m.LUT == nil && m.Slope == 1 && m.Intercept == 0 }

func parseModality(f *dcm.File, in Info) (Modality, error) {
	ds := f.DataSet
	m := Modality{Slope: 1}
	if in.Monochrome() {
		if items := ds.Seq(dcm.TagModalityLUTSequence); len(items) > 0 {
			l, err := ParseLUT(f, items[0], in.Signed())
			if err == nil {
				m.LUT = l
				m.Type = items[0].Text(dcm.NewTag(0x0028, 0x3004))
				return m, nil
			}
			// tolerated: fall back to the rescale
		}
	}
	if s, ok := ds.Float(dcm.TagRescaleSlope); ok && s != 0 && !math.IsNaN(s) && !math.IsInf(s, 0) {
		m.Slope = s
	}
	if c, ok := ds.Float(dcm.TagRescaleIntercept); ok && !math.IsNaN(c) && !math.IsInf(c, 0) {
		m.Intercept = c
	}
	m.Type = ds.Text(dcm.TagRescaleType)
	return m, nil
}

// Palette holds the three colour tables of a PALETTE COLOR image.
type Palette struct {
	Red, Green, Blue *LUT
}

// Bits is the width of the palette entries (8 or 16).
func (p *Palette) Bits() int {
	if p.Red.Bits <= 8 && p.Green.Bits <= 8 && p.Blue.Bits <= 8 {
		return 8
	}
	return 16
}

// RGB maps a stored index to its colour, entries at Bits() width.
func (p *Palette) RGB(index int64) (r, g, b uint16) {
	return p.Red.Lookup(index), p.Green.Lookup(index), p.Blue.Lookup(index)
}

func parsePalette(f *dcm.File) (*Palette, error) {
	ds := f.DataSet
	var p Palette
	tabs := []struct {
		dst            **LUT
		desc, data, sg dcm.Tag
	}{
		{&p.Red, dcm.TagRedPaletteDescriptor, dcm.TagRedPaletteData, dcm.TagSegRedPaletteData},
		{&p.Green, dcm.TagGreenPaletteDescriptor, dcm.TagGreenPaletteData, dcm.TagSegGreenPaletteData},
		{&p.Blue, dcm.TagBluePaletteDescriptor, dcm.TagBluePaletteData, dcm.TagSegBluePaletteData},
	}
	for _, t := range tabs {
		var l *LUT
		var err error
		if ds.Get(t.data) == nil && ds.Get(t.sg) != nil {
			l, err = parseSegmented(f, ds, t.desc, t.sg)
		} else {
			l, err = parseLUT(f, ds, t.desc, t.data, false)
		}
		if err != nil {
			return nil, fmt.Errorf("palette: %w", err)
		}
		*t.dst = l
	}
	// 16-bit descriptors over data that only uses 8 bits: keep the declared
	// width (the values are what they are); nothing to fix here.
	return &p, nil
}

// parseSegmented expands a segmented palette table (PS3.3 C.7.9.2).
func parseSegmented(f *dcm.File, ds *dcm.DataSet, descTag, dataTag dcm.Tag) (*LUT, error) {
	entries, first, bits, err := descriptor(ds, descTag, false)
	if err != nil {
		return nil, err
	}
	raw, err := elementBytes(f, ds.Get(dataTag), 2*maxLUTEntries)
	if err != nil {
		return nil, err
	}
	seg := words(ds, raw)
	out := make([]uint16, 0, entries)
	budget := maxSegmentOps
	if err := expandSegments(seg, 0, len(seg), &out, entries, false, &budget); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, invalid("%s: segmented palette yields no entries", dataTag)
	}
	return &LUT{FirstMapped: first, Bits: bits, Data: out}, nil
}

// maxSegmentOps bounds the segments decoded for one table (indirect
// segments may copy the same segments many times).
const maxSegmentOps = 1 << 18

// expandSegments decodes the segments in seg[from:to] (word indices),
// appending to out, which may not grow beyond limit entries.
func expandSegments(seg []uint16, from, to int, out *[]uint16, limit int, nested bool, budget *int) error {
	bad := func(format string, a ...any) error {
		return invalid("segmented palette: "+format, a...)
	}
	i := from
	for i < to {
		if i+2 > to {
			return bad("truncated segment header at word %d", i)
		}
		op, n := seg[i], int(seg[i+1])
		i += 2
		if *budget--; *budget < 0 {
			return bad("too many segments")
		}
		switch op {
		case 0: // discrete
			if i+n > to {
				return bad("discrete segment of %d runs past the data", n)
			}
			if len(*out)+n > limit {
				return bad("more than %d entries", limit)
			}
			*out = append(*out, seg[i:i+n]...)
			i += n
		case 1: // linear from the previous value to y1 over n entries
			if i+1 > to {
				return bad("truncated linear segment")
			}
			if len(*out) == 0 {
				return bad("linear segment first")
			}
			if len(*out)+n > limit {
				return bad("more than %d entries", limit)
			}
			y0, y1 := float64((*out)[len(*out)-1]), float64(seg[i])
			for k := 1; k <= n; k++ {
				*out = append(*out, uint16(math.Round(y0+(y1-y0)*float64(k)/float64(n))))
			}
			i++
		case 2: // indirect: copy n segments starting at a byte offset
			if nested {
				return bad("indirect segment inside an indirect segment")
			}
			if i+2 > to {
				return bad("truncated indirect segment")
			}
			off := int(uint32(seg[i]) | uint32(seg[i+1])<<16)
			i += 2
			if off%2 != 0 || off/2 >= len(seg) {
				return bad("indirect offset %d out of range", off)
			}
			start := off / 2
			for k := 0; k < n; k++ {
				end, err := segmentEnd(seg, start)
				if err != nil {
					return err
				}
				if err := expandSegments(seg, start, end, out, limit, true, budget); err != nil {
					return err
				}
				start = end
			}
		default:
			return bad("unknown segment type %d", op)
		}
	}
	return nil
}

// segmentEnd returns the word index just past the segment at start.
func segmentEnd(seg []uint16, start int) (int, error) {
	if start+2 > len(seg) {
		return 0, invalid("segmented palette: segment at word %d runs past the data", start)
	}
	var end int
	switch seg[start] {
	case 0:
		end = start + 2 + int(seg[start+1])
	case 1:
		end = start + 3
	case 2:
		end = start + 4
	default:
		return 0, invalid("segmented palette: unknown segment type %d", seg[start])
	}
	if end > len(seg) {
		return 0, invalid("segmented palette: segment at word %d runs past the data", start)
	}
	return end, nil
}

// expand maps palette indices to rgb8 or rgb16 canonical samples.
func (p *Palette) expand(b []byte, in Info) ([]byte, string, error) {
	n := in.Rows * in.Columns
	bits := p.Bits()
	w := 1
	if bits > 8 {
		w = 2
	}
	out := make([]byte, n*3*w)
	for i := 0; i < n; i++ {
		idx := sampleAt(b, i, in)
		r, g, bl := p.RGB(idx)
		if w == 1 {
			out[3*i], out[3*i+1], out[3*i+2] = byte(r), byte(g), byte(bl)
		} else {
			binary.LittleEndian.PutUint16(out[6*i:], r)
			binary.LittleEndian.PutUint16(out[6*i+2:], g)
			binary.LittleEndian.PutUint16(out[6*i+4:], bl)
		}
	}
	return out, fmt.Sprintf("rgb%d", 8*w), nil
}

// ParseLUT reads the LUT of a Modality or VOI LUT Sequence item (LUT
// Descriptor 0028,3002, LUT Data 0028,3006, LUT Explanation 0028,3003).
// signedInput says that the input values may be negative, so that a first
// mapped value above 32767 in a US descriptor is read as negative.
func ParseLUT(f *dcm.File, item *dcm.DataSet, signedInput bool) (*LUT, error) {
	l, err := parseLUT(f, item, dcm.TagLUTDescriptor, dcm.TagLUTData, signedInput)
	if err != nil {
		return nil, err
	}
	l.Explanation = item.Text(dcm.NewTag(0x0028, 0x3003))
	return l, nil
}

// ElementBytes returns the value of an element of the image's file, read
// from the source when it was left there (bulk), refusing values larger
// than max bytes. It returns nil for a nil element.
func (img *Image) ElementBytes(e *dcm.Element, max int64) ([]byte, error) {
	return elementBytes(img.File, e, max)
}
