// Package tagtree turns a parsed data set into the tree the tag browser
// shows: every element, sequences included, with text decoded by the data
// set's own character set (package charset) and binary values summarised.
// It reads only values already in memory: bulk values are summarised, never
// loaded. Build is safe for concurrent use.
package tagtree

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"lightbox/backend/charset"
	"lightbox/backend/dcm"
)

// Node is one element.
type Node struct {
	Tag         string    `json:"tag"`
	Keyword     string    `json:"keyword"`
	VR          string    `json:"vr"`
	Length      int64     `json:"length"` // -1 for undefined
	Value       string    `json:"value"`
	Substituted bool      `json:"substituted,omitempty"`
	Items       [][]*Node `json:"items,omitempty"`
}

// maxItems bounds how many sequence items and elements are listed.
const maxItems = 10000

// Build returns the nodes of ds. opts are passed to charset.NewDecoder
// (e.g. a fallback character set).
func Build(ds *dcm.DataSet, opts ...charset.Option) []*Node {
	dec := charset.NewDecoder(values(ds.Raw(dcm.TagSpecificCharacterSet)), opts...)
	count := 0
	return build(ds, dec, opts, &count)
}

func values(b []byte) []string {
	if b == nil {
		return nil
	}
	parts := strings.Split(string(b), `\`)
	for i := range parts {
		parts[i] = strings.Trim(parts[i], " \x00")
	}
	return parts
}

func build(ds *dcm.DataSet, dec *charset.Decoder, opts []charset.Option, count *int) []*Node {
	if raw := ds.Raw(dcm.TagSpecificCharacterSet); raw != nil {
		dec = charset.NewDecoder(values(raw), opts...)
	}
	out := make([]*Node, 0, len(ds.Elements))
	for _, e := range ds.Elements {
		*count++
		if *count > maxItems {
			break
		}
		n := &Node{Tag: e.Tag.String(), Keyword: dcm.Keyword(e.Tag), VR: e.VR, Length: int64(e.Length)}
		if e.Length == dcm.Undefined {
			n.Length = -1
		}
		switch {
		case e.Items != nil:
			n.Value = fmt.Sprintf("%d item(s)", len(e.Items))
			for _, it := range e.Items {
				n.Items = append(n.Items, build(it, dec, opts, count))
			}
		case e.Fragments != nil:
			n.Value = fmt.Sprintf("<encapsulated: offset table + %d fragment(s)>", len(e.Fragments)-1)
		case e.Bulk():
			n.Value = fmt.Sprintf("<%s, %d bytes>", e.VR, e.Length)
		default:
			n.Value, n.Substituted = format(ds, e, dec)
		}
		out = append(out, n)
	}
	return out
}

func format(ds *dcm.DataSet, e *dcm.Element, dec *charset.Decoder) (string, bool) {
	bo := binary.ByteOrder(binary.LittleEndian)
	if ds.BigEndian {
		bo = binary.BigEndian
	}
	v := e.Value
	join := func(n, size int, f func(b []byte) string) string {
		var parts []string
		for i := 0; i+size <= len(v) && i/size < n; i += size {
			parts = append(parts, f(v[i:]))
		}
		s := strings.Join(parts, `\`)
		if len(v)/size > n {
			s += fmt.Sprintf(`\... (%d values)`, len(v)/size)
		}
		return s
	}
	switch e.VR {
	case "US":
		return join(32, 2, func(b []byte) string { return strconv.Itoa(int(bo.Uint16(b))) }), false
	case "SS":
		return join(32, 2, func(b []byte) string { return strconv.Itoa(int(int16(bo.Uint16(b)))) }), false
	case "UL":
		return join(32, 4, func(b []byte) string { return strconv.FormatUint(uint64(bo.Uint32(b)), 10) }), false
	case "SL":
		return join(32, 4, func(b []byte) string { return strconv.Itoa(int(int32(bo.Uint32(b)))) }), false
	case "FL":
		return join(32, 4, func(b []byte) string {
			return strconv.FormatFloat(float64(math.Float32frombits(bo.Uint32(b))), 'g', -1, 32)
		}), false
	case "FD":
		return join(32, 8, func(b []byte) string { return strconv.FormatFloat(math.Float64frombits(bo.Uint64(b)), 'g', -1, 64) }), false
	case "AT":
		return join(32, 4, func(b []byte) string { return dcm.NewTag(bo.Uint16(b), bo.Uint16(b[2:])).String() }), false
	case "OB", "OW", "OF", "OD", "OL", "OV", "UN", "SV", "UV":
		if len(v) <= 16 {
			return fmt.Sprintf("% X", v), false
		}
		return fmt.Sprintf("<%s, %d bytes: % X ...>", e.VR, len(v), v[:16]), false
	}
	s, bad := dec.Decode(e.VR, v)
	if len(s) > 4096 {
		s = s[:4096] + "..."
	}
	return s, bad
}
