package dcm

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// Text returns the raw value of an element as a string with trailing
// padding (space, NUL) removed. Use it for VRs in the default repertoire
// (UI, CS, DA, TM, DS, IS, AE...); text in other VRs needs package charset.
func (ds *DataSet) Text(t Tag) string {
	e := ds.Get(t)
	if e == nil {
		return ""
	}
	return strings.TrimRight(string(e.Value), "\x00 ")
}

// Raw returns the raw bytes of a value, or nil.
func (ds *DataSet) Raw(t Tag) []byte {
	if e := ds.Get(t); e != nil {
		return e.Value
	}
	return nil
}

// Texts splits a default-repertoire value at backslashes, trimming each.
func (ds *DataSet) Texts(t Tag) []string {
	s := ds.Text(t)
	if s == "" {
		return nil
	}
	parts := strings.Split(s, `\`)
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func (ds *DataSet) order() binary.ByteOrder {
	if ds.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// Ints returns the values of a US, SS, UL, SL, or IS element.
func (ds *DataSet) Ints(t Tag) []int {
	e := ds.Get(t)
	if e == nil {
		return nil
	}
	bo := ds.order()
	var out []int
	switch e.VR {
	case "US", "OW":
		for i := 0; i+2 <= len(e.Value); i += 2 {
			out = append(out, int(bo.Uint16(e.Value[i:])))
		}
	case "SS":
		for i := 0; i+2 <= len(e.Value); i += 2 {
			out = append(out, int(int16(bo.Uint16(e.Value[i:]))))
		}
	case "UL":
		for i := 0; i+4 <= len(e.Value); i += 4 {
			out = append(out, int(bo.Uint32(e.Value[i:])))
		}
	case "SL":
		for i := 0; i+4 <= len(e.Value); i += 4 {
			out = append(out, int(int32(bo.Uint32(e.Value[i:]))))
		}
	case "IS", "DS":
		for _, s := range ds.Texts(t) {
			if s == "" {
				continue
			}
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			} else if f, err := strconv.ParseFloat(s, 64); err == nil {
				out = append(out, int(f))
			}
		}
	case "UN":
		// Implicit VR with a tag unknown to the dictionary: guess by length.
		if len(e.Value) == 2 {
			out = append(out, int(bo.Uint16(e.Value)))
		} else if len(e.Value) == 4 {
			out = append(out, int(bo.Uint32(e.Value)))
		}
	}
	return out
}

// Int returns the first value of Ints and whether there was one.
func (ds *DataSet) Int(t Tag) (int, bool) {
	v := ds.Ints(t)
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// IntOr returns the first value or def.
func (ds *DataSet) IntOr(t Tag, def int) int {
	if v, ok := ds.Int(t); ok {
		return v
	}
	return def
}

// Floats returns the values of a DS, IS, FL, or FD element.
func (ds *DataSet) Floats(t Tag) []float64 {
	e := ds.Get(t)
	if e == nil {
		return nil
	}
	bo := ds.order()
	var out []float64
	switch e.VR {
	case "FL":
		for i := 0; i+4 <= len(e.Value); i += 4 {
			out = append(out, float64(math.Float32frombits(bo.Uint32(e.Value[i:]))))
		}
	case "FD":
		for i := 0; i+8 <= len(e.Value); i += 8 {
			out = append(out, math.Float64frombits(bo.Uint64(e.Value[i:])))
		}
	case "US", "SS", "UL", "SL":
		for _, n := range ds.Ints(t) {
			out = append(out, float64(n))
		}
	default:
		for _, s := range ds.Texts(t) {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
				out = append(out, f)
			}
		}
	}
	return out
}

// Float returns the first value of Floats and whether there was one.
func (ds *DataSet) Float(t Tag) (float64, bool) {
	v := ds.Floats(t)
	if len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// Seq returns the items of a sequence, or nil.
func (ds *DataSet) Seq(t Tag) []*DataSet {
	if e := ds.Get(t); e != nil {
		return e.Items
	}
	return nil
}

// UID returns a UID value without padding.
func (ds *DataSet) UID(t Tag) string {
	return string(bytes.TrimRight(ds.Raw(t), "\x00 "))
}

// TagOf returns the tag of a dictionary keyword (e.g. "PatientName").
func TagOf(keyword string) (Tag, bool) {
	info, err := tag.FindByKeyword(keyword)
	if err != nil {
		return 0, false
	}
	return NewTag(info.Tag.Group, info.Tag.Element), true
}
