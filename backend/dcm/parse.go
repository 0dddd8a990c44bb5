package dcm

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// Element is one data element. Value holds the raw bytes as stored (in the
// data set's byte order) unless the value is bulk (see Options.MaxInline),
// in which case Value is nil and Offset/Length locate it in File.Source.
type Element struct {
	Tag       Tag
	VR        string
	Length    uint32 // as encoded; Undefined for undefined-length SQ/items/pixel data
	Offset    int64  // offset of the value in the data set source
	Value     []byte
	Items     []*DataSet // SQ items
	Fragments []Fragment // encapsulated Pixel Data: Fragments[0] is the Basic Offset Table
}

// Fragment is one item of encapsulated Pixel Data, located in File.Source.
type Fragment struct {
	Offset int64
	Length uint32
}

// Bulk reports whether the value was left in the source, not loaded.
func (e *Element) Bulk() bool {
	return e.Value == nil && e.Length != 0 && e.Items == nil && e.Fragments == nil
}

// Encapsulated reports whether this is encapsulated Pixel Data.
func (e *Element) Encapsulated() bool { return e.Fragments != nil }

// DataSet is an ordered list of elements (file order, which should be
// ascending tag order).
type DataSet struct {
	Elements  []*Element
	BigEndian bool
	Implicit  bool
}

// Get returns the element with that tag at this level, or nil.
func (ds *DataSet) Get(t Tag) *Element {
	if ds == nil {
		return nil
	}
	for _, e := range ds.Elements {
		if e.Tag == t {
			return e
		}
	}
	return nil
}

// Options tune parsing.
type Options struct {
	// MaxInline is the largest value loaded into memory; larger values are
	// bulk. 0 means 256 KiB. Pixel Data is always bulk.
	MaxInline int64
	// StopBeforePixels stops at the top-level Pixel Data element (it is
	// still recorded, with its offset, when it has a defined length).
	StopBeforePixels bool
	// MaxDepth bounds sequence nesting. 0 means 512.
	MaxDepth int
	// MaxInflated bounds the size of a deflated data set once inflated.
	// 0 means 2 GiB.
	MaxInflated int64
}

// File is a parsed Part 10 file (or a raw data set without meta).
type File struct {
	Meta           *DataSet // nil when the file has no File Meta Information
	TransferSyntax TransferSyntax
	DataSet        *DataSet
	// Source holds the data set bytes: the file itself, or the inflated
	// data set of a deflated file. Offsets of elements are relative to it.
	Source io.ReaderAt
	// DataSetOffset is where the data set starts in Source.
	DataSetOffset int64
	// Preamble reports a 128-byte preamble and "DICM" prefix.
	Preamble bool
	// Warnings lists what was tolerated (e.g. a wrong group length).
	Warnings []string

	closer io.Closer
}

// Close releases the file handle held by ParseFile. Safe to call on any File.
func (f *File) Close() error {
	if f == nil || f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// ParseFile opens and parses a file. The caller must Close the result.
func ParseFile(path string, opt Options) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	f, err := Parse(fh, st.Size(), opt)
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// ParseBytes parses an in-memory file.
func ParseBytes(b []byte, opt Options) (*File, error) {
	return Parse(bytes.NewReader(b), int64(len(b)), opt)
}

// Parse parses a Part 10 file of the given size read through r. Without a
// "DICM" prefix it tries a raw data set (ACR-NEMA style), guessing the
// encoding from the first element.
func Parse(r io.ReaderAt, size int64, opt Options) (*File, error) {
	if opt.MaxInline == 0 {
		opt.MaxInline = 256 << 10
	}
	if opt.MaxDepth == 0 {
		opt.MaxDepth = 512
	}
	if opt.MaxInflated == 0 {
		opt.MaxInflated = 2 << 30
	}
	f := &File{Source: r}
	var head [132]byte
	n, _ := r.ReadAt(head[:], 0)
	if size == 0 || n == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrNotDICOM)
	}
	var pos int64
	switch {
	case n == 132 && string(head[128:132]) == "DICM":
		f.Preamble = true
		pos = 132
	case n >= 4 && string(head[:4]) == "DICM":
		pos = 4
		f.Warnings = append(f.Warnings, "no preamble before DICM")
	default:
		return parseRaw(f, r, size, opt, head[:n])
	}
	c := newCursor(r, pos, size)
	defer c.release()
	meta, err := parseMeta(c, f)
	if err != nil {
		return nil, err
	}
	f.Meta = meta
	tsUID := trimUID(meta.Get(TagTransferSyntaxUID))
	ts, ok := LookupTS(tsUID)
	if !ok {
		if tsUID == "" {
			f.Warnings = append(f.Warnings, "no Transfer Syntax UID in the meta information; guessed from the data")
		} else {
			return nil, fmt.Errorf("%w: unknown transfer syntax %q", ErrMalformed, tsUID)
		}
	}
	f.TransferSyntax = ts
	if ts.Deflated {
		return parseDeflated(f, c, opt)
	}
	if ts.UID == "" || !ts.BigEndian {
		// Guess or check Implicit vs Explicit from the first element.
		probe := c.peek(6)
		if len(probe) == 6 {
			implicit := !isVR(probe[4], probe[5])
			if ts.UID == "" {
				if implicit {
					ts, _ = LookupTS(ImplicitVRLittleEndian)
				} else {
					ts, _ = LookupTS(ExplicitVRLittleEndian)
				}
				f.TransferSyntax = ts
			} else if implicit != ts.Implicit {
				f.Warnings = append(f.Warnings, "data set encoding disagrees with the transfer syntax; read as found")
				ts.Implicit = implicit
			}
		}
	}
	f.DataSetOffset = c.pos
	ds, err := parseDataSet(c, ts.Implicit, ts.BigEndian, -1, 0, opt, true)
	if err != nil {
		return nil, err
	}
	f.DataSet = ds
	return f, nil
}

func trimUID(e *Element) string {
	if e == nil {
		return ""
	}
	return string(bytes.TrimRight(e.Value, "\x00 "))
}

func parseMeta(c *cursor, f *File) (*DataSet, error) {
	ds := &DataSet{}
	for {
		p := c.peek(4)
		if len(p) < 4 {
			if len(ds.Elements) == 0 {
				return nil, fmt.Errorf("%w: truncated file meta information", ErrMalformed)
			}
			break
		}
		if binary.LittleEndian.Uint16(p) != 0x0002 {
			break
		}
		e, err := readElement(c, false, false, 0, Options{MaxInline: 1 << 16, MaxDepth: 1}, false)
		if err != nil {
			return nil, fmt.Errorf("file meta information: %w", err)
		}
		ds.Elements = append(ds.Elements, e)
	}
	if gl := ds.Get(TagFileMetaGroupLength); gl != nil && len(gl.Value) == 4 {
		want := int64(binary.LittleEndian.Uint32(gl.Value))
		got := c.pos - (gl.Offset + 4)
		if want != got {
			f.Warnings = append(f.Warnings, fmt.Sprintf("file meta group length says %d bytes, found %d", want, got))
		}
	}
	if ds.Get(TagTransferSyntaxUID) == nil && len(ds.Elements) == 0 {
		return nil, fmt.Errorf("%w: empty file meta information", ErrMalformed)
	}
	return ds, nil
}

func parseDeflated(f *File, c *cursor, opt Options) (*File, error) {
	zr := flate.NewReader(io.NewSectionReader(c.r, c.pos, c.end-c.pos))
	defer zr.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(zr, opt.MaxInflated+1))
	if err != nil {
		return nil, fmt.Errorf("%w: deflated data set: %v", ErrMalformed, err)
	}
	if n > opt.MaxInflated {
		return nil, fmt.Errorf("%w: deflated data set inflates beyond %d bytes", ErrMalformed, opt.MaxInflated)
	}
	data := buf.Bytes()
	f.Source = bytes.NewReader(data)
	f.DataSetOffset = 0
	dc := newCursor(f.Source, 0, int64(len(data)))
	defer dc.release()
	ds, err := parseDataSet(dc, false, false, -1, 0, opt, true)
	if err != nil {
		return nil, err
	}
	f.DataSet = ds
	return f, nil
}

// parseRaw handles a data set with no preamble and no meta information.
func parseRaw(f *File, r io.ReaderAt, size int64, opt Options, head []byte) (*File, error) {
	if len(head) < 8 {
		return nil, fmt.Errorf("%w: too short", ErrNotDICOM)
	}
	le, be := binary.LittleEndian.Uint16(head), binary.BigEndian.Uint16(head)
	var bigEndian bool
	switch {
	case le == 0x0008 || le == 0x0002:
	case be == 0x0008 || be == 0x0002:
		bigEndian = true
	default:
		return nil, fmt.Errorf("%w: no DICM prefix and no data set at the start", ErrNotDICOM)
	}
	implicit := !isVR(head[4], head[5])
	if bigEndian && implicit {
		return nil, fmt.Errorf("%w: implicit VR big endian", ErrNotDICOM)
	}
	uid := ImplicitVRLittleEndian
	if bigEndian {
		uid = ExplicitVRBigEndian
	} else if !implicit {
		uid = ExplicitVRLittleEndian
	}
	f.TransferSyntax, _ = LookupTS(uid)
	f.Warnings = append(f.Warnings, "no preamble and no file meta information")
	c := newCursor(r, 0, size)
	defer c.release()
	ds, err := parseDataSet(c, implicit, bigEndian, -1, 0, opt, true)
	if err != nil {
		return nil, err
	}
	f.DataSet = ds
	return f, nil
}

// ParseDataSet parses a raw data set (no meta) in the given transfer
// syntax, as received over the network (e.g. a C-FIND identifier).
func ParseDataSet(b []byte, ts TransferSyntax) (*DataSet, error) {
	if ts.Deflated {
		zr := flate.NewReader(bytes.NewReader(b))
		defer zr.Close()
		inf, err := io.ReadAll(io.LimitReader(zr, 64<<20))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		b = inf
	}
	c := newCursor(bytes.NewReader(b), 0, int64(len(b)))
	defer c.release()
	return parseDataSet(c, ts.Implicit, ts.BigEndian, -1, 0, Options{MaxInline: 64 << 20, MaxDepth: 64}, false)
}

// parseDataSet reads elements until end (or, with end < 0, until the end of
// the source or an item delimiter when depth > 0).
func parseDataSet(c *cursor, implicit, bigEndian bool, end int64, depth int, opt Options, top bool) (*DataSet, error) {
	ds := &DataSet{BigEndian: bigEndian, Implicit: implicit}
	for {
		if end >= 0 && c.pos >= end {
			if c.pos > end {
				return nil, fmt.Errorf("%w: element runs past the end of its item", ErrMalformed)
			}
			return ds, nil
		}
		if end < 0 && c.pos >= c.end {
			if depth > 0 {
				return nil, fmt.Errorf("%w: item not terminated before the end of the file", ErrMalformed)
			}
			return ds, nil
		}
		if end < 0 && depth > 0 {
			if p := c.peek(4); len(p) == 4 && tagOf(p, bigEndian) == TagItemDelimitation {
				c.skip(8)
				return ds, nil
			}
		}
		e, err := readElement(c, implicit, bigEndian, depth, opt, top)
		if err != nil {
			return nil, err
		}
		ds.Elements = append(ds.Elements, e)
		if top && opt.StopBeforePixels && e.Tag == TagPixelData {
			return ds, nil
		}
	}
}

func tagOf(p []byte, bigEndian bool) Tag {
	if bigEndian {
		return NewTag(binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]))
	}
	return NewTag(binary.LittleEndian.Uint16(p), binary.LittleEndian.Uint16(p[2:]))
}

func isVR(a, b byte) bool { return a >= 'A' && a <= 'Z' && b >= 'A' && b <= 'Z' }

func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// DictVR returns the dictionary VR of a tag ("UN" when unknown).
func DictVR(t Tag) string {
	switch {
	case t.Element() == 0x0000:
		return "UL"
	case t == TagPixelData:
		return "OW"
	case t.Group()&0xFF00 == 0x6000 && t.Element() == 0x3000:
		return "OW"
	case t.Group()&1 == 1 && t.Element() >= 0x0010 && t.Element() <= 0x00FF:
		return "LO" // private creator
	}
	info, err := tag.Find(tag.Tag{Group: t.Group(), Element: t.Element()})
	if err != nil || len(info.VRs) == 0 {
		return "UN"
	}
	vr := info.VRs[0]
	if vr == "OB" && len(info.VRs) > 1 { // "OB or OW": OW in implicit VR
		vr = "OW"
	}
	if vr == "US" && len(info.VRs) > 1 { // "US or SS"
		return "US"
	}
	return vr
}

// Keyword returns the dictionary keyword of a tag, or "".
func Keyword(t Tag) string {
	info, err := tag.Find(tag.Tag{Group: t.Group(), Element: t.Element()})
	if err != nil {
		return ""
	}
	return info.Keyword
}

func readElement(c *cursor, implicit, bigEndian bool, depth int, opt Options, top bool) (*Element, error) {
	start := c.pos
	h := c.read(8)
	if len(h) < 8 {
		return nil, fmt.Errorf("%w: truncated element header at offset %d", ErrMalformed, start)
	}
	bo := binary.ByteOrder(binary.LittleEndian)
	if bigEndian {
		bo = binary.BigEndian
	}
	t := NewTag(bo.Uint16(h), bo.Uint16(h[2:]))
	e := &Element{Tag: t}
	if t.Group() == 0xFFFE {
		return nil, fmt.Errorf("%w: unexpected %s at offset %d", ErrMalformed, t, start)
	}
	if implicit && t.Group() != 0x0002 {
		e.VR = DictVR(t)
		e.Length = bo.Uint32(h[4:])
	} else {
		if !isVR(h[4], h[5]) {
			return nil, fmt.Errorf("%w: invalid VR %q for %s at offset %d", ErrMalformed, h[4:6], t, start)
		}
		e.VR = string(h[4:6])
		if longVR(e.VR) {
			l := c.read(4)
			if len(l) < 4 {
				return nil, fmt.Errorf("%w: truncated element header at offset %d", ErrMalformed, start)
			}
			e.Length = bo.Uint32(l)
		} else {
			e.Length = uint32(bo.Uint16(h[6:]))
		}
	}
	e.Offset = c.pos
	switch {
	case t == TagPixelData && e.Length == Undefined && depth == 0:
		if err := readFragments(c, e, bo); err != nil {
			return nil, err
		}
		return e, nil
	case e.VR == "SQ" || (e.Length == Undefined && (e.VR == "UN" || implicit)):
		if depth+1 > opt.MaxDepth {
			return nil, fmt.Errorf("%w: sequences nested deeper than %d", ErrMalformed, opt.MaxDepth)
		}
		itemImplicit := implicit
		if e.VR == "UN" {
			itemImplicit = true // PS3.5 6.2.2: UN with undefined length is Implicit VR LE
			e.VR = "SQ"
		}
		e.VR = "SQ"
		if err := readItems(c, e, itemImplicit, bigEndian, depth, opt); err != nil {
			return nil, err
		}
		return e, nil
	case e.Length == Undefined:
		return nil, fmt.Errorf("%w: undefined length for %s %s", ErrMalformed, t, e.VR)
	}
	if int64(e.Length) > c.end-c.pos {
		return nil, fmt.Errorf("%w: %s length %d runs past the end of the data (%d bytes left)", ErrMalformed, t, e.Length, c.end-c.pos)
	}
	if t == TagPixelData || int64(e.Length) > opt.MaxInline {
		c.skip(int64(e.Length))
		return e, nil
	}
	v := c.read(int(e.Length))
	if len(v) < int(e.Length) {
		return nil, fmt.Errorf("%w: %s value truncated", ErrMalformed, t)
	}
	e.Value = append([]byte(nil), v...)
	return e, nil
}

func readItems(c *cursor, e *Element, implicit, bigEndian bool, depth int, opt Options) error {
	var end int64 = -1
	if e.Length != Undefined {
		end = c.pos + int64(e.Length)
		if end > c.end {
			return fmt.Errorf("%w: sequence %s runs past the end of the data", ErrMalformed, e.Tag)
		}
	}
	e.Items = []*DataSet{}
	for {
		if end >= 0 && c.pos >= end {
			return nil
		}
		h := c.read(8)
		if len(h) < 8 {
			return fmt.Errorf("%w: sequence %s not terminated before the end of the data", ErrMalformed, e.Tag)
		}
		t := tagOf(h, bigEndian)
		var l uint32
		if bigEndian {
			l = binary.BigEndian.Uint32(h[4:])
		} else {
			l = binary.LittleEndian.Uint32(h[4:])
		}
		switch t {
		case TagSequenceDelimitation:
			if end >= 0 {
				return fmt.Errorf("%w: sequence delimiter in a defined-length sequence", ErrMalformed)
			}
			return nil
		case TagItem:
		default:
			return fmt.Errorf("%w: %s inside sequence %s where an item was expected", ErrMalformed, t, e.Tag)
		}
		var itemEnd int64 = -1
		if l != Undefined {
			itemEnd = c.pos + int64(l)
			if itemEnd > c.end || (end >= 0 && itemEnd > end) {
				return fmt.Errorf("%w: item of %s runs past its end", ErrMalformed, e.Tag)
			}
		}
		item, err := parseDataSet(c, implicit, bigEndian, itemEnd, depth+1, opt, false)
		if err != nil {
			return err
		}
		e.Items = append(e.Items, item)
	}
}

func readFragments(c *cursor, e *Element, bo binary.ByteOrder) error {
	e.Fragments = []Fragment{}
	for {
		h := c.read(8)
		if len(h) < 8 {
			if len(e.Fragments) > 0 {
				return nil // tolerated: no sequence delimiter at the end of the file
			}
			return fmt.Errorf("%w: encapsulated pixel data truncated", ErrMalformed)
		}
		t := NewTag(bo.Uint16(h), bo.Uint16(h[2:]))
		l := bo.Uint32(h[4:])
		switch t {
		case TagSequenceDelimitation:
			return nil
		case TagItem:
		default:
			return fmt.Errorf("%w: %s inside encapsulated pixel data", ErrMalformed, t)
		}
		if l == Undefined || int64(l) > c.end-c.pos {
			return fmt.Errorf("%w: pixel data fragment of %d bytes runs past the end of the file", ErrMalformed, l)
		}
		e.Fragments = append(e.Fragments, Fragment{Offset: c.pos, Length: l})
		c.skip(int64(l))
	}
}

// cursor reads a ReaderAt sequentially through a window buffer.
type cursor struct {
	r        io.ReaderAt
	pos, end int64
	buf      []byte
	bufPos   int64 // source offset of buf[0]
}

func newCursor(r io.ReaderAt, pos, end int64) *cursor {
	return &cursor{r: r, pos: pos, end: end, bufPos: pos}
}

const window = 64 << 10

// windows recycles the cursors' read windows: a parse otherwise allocates
// 64 KiB, which for an import or a receive of many small headers is most of
// its garbage. Nothing parsed points into a window (values are copied), so
// a cursor returns it when its parse ends.
var windows = sync.Pool{New: func() any { b := make([]byte, window); return &b }}

// release hands the cursor's window back; the cursor must not be used after.
func (c *cursor) release() {
	if cap(c.buf) == window {
		b := c.buf[:window]
		windows.Put(&b)
	}
	c.buf = nil
}

// fill makes n bytes at pos available in buf if the source has them.
func (c *cursor) fill(n int) []byte {
	if c.pos+int64(n) > c.end {
		n = int(c.end - c.pos)
		if n <= 0 {
			return nil
		}
	}
	off := c.pos - c.bufPos
	if off >= 0 && off+int64(n) <= int64(len(c.buf)) {
		return c.buf[off : off+int64(n)]
	}
	size := window
	if n > size {
		size = n
	}
	if rem := c.end - c.pos; int64(size) > rem {
		size = int(rem)
	}
	if cap(c.buf) < size {
		if c.buf == nil && size <= window {
			c.buf = (*windows.Get().(*[]byte))[:window]
		} else {
			c.buf = make([]byte, size)
		}
	}
	c.buf = c.buf[:size]
	m, err := c.r.ReadAt(c.buf, c.pos)
	if m < size && err != nil {
		c.buf = c.buf[:m]
	}
	c.bufPos = c.pos
	if m < n {
		return c.buf[:m]
	}
	return c.buf[:n]
}

func (c *cursor) peek(n int) []byte { return c.fill(n) }

func (c *cursor) read(n int) []byte {
	b := c.fill(n)
	c.pos += int64(len(b))
	return b
}

func (c *cursor) skip(n int64) { c.pos += n }
