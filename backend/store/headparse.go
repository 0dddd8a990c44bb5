package store

import (
	"io"

	"lightbox/backend/dcm"
)

// earlyHeader is an object's header parsed while the rest of the object
// was still arriving: everything before a top-level Pixel Data element of
// defined length, read from the in-memory head alone.
type earlyHeader struct {
	info  *extracted
	pxEnd int64        // where the Pixel Data value ends
	row   *earlyLookup // the duplicate check's query, made at the same time
}

// unbounded stands for the size of an object still arriving: the header
// parse must not stop at what has been written so far. Reads past the head
// fail, so a header longer than the head is simply not parsed early.
const unbounded = 1 << 62

// headReader reads the in-memory head; past it, io.EOF.
type headReader []byte

func (h headReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(h)) {
		return 0, io.EOF
	}
	n := copy(p, h[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// parseEarly parses the head once it is full (headSize bytes). Commit uses
// the result when the object ends exactly where its Pixel Data ends (so
// that no element was missed); otherwise it parses the whole file. Any
// failure here only means the header is parsed at Commit.
func (in *Incoming) parseEarly() {
	info, pxEnd, ok := headerFromHead(*in.head, in.s.text)
	if !ok {
		return
	}
	in.early = &earlyHeader{info: info, pxEnd: pxEnd, row: in.s.lookupEarly(info.inst.SOPInstanceUID)}
}

// headerFromHead extracts the index values from the first bytes of an
// object: ok when they hold every element before a top-level Pixel Data
// element of defined length, which ends at pxEnd. For an object of pxEnd
// bytes the values are those of a parse of the whole object.
func headerFromHead(head []byte, text TextDecoder) (info *extracted, pxEnd int64, ok bool) {
	f, err := dcm.Parse(headReader(head), unbounded, dcm.Options{MaxInline: 64 << 10, StopBeforePixels: true})
	if err != nil || f.DataSet == nil || f.TransferSyntax.Deflated {
		return nil, 0, false
	}
	px := f.DataSet.Get(dcm.TagPixelData)
	if px == nil || px.Length == dcm.Undefined || px.Encapsulated() || px.Offset < 0 {
		return nil, 0, false
	}
	info, err = extract(f, text)
	if err != nil {
		return nil, 0, false // reported by the full parse at Commit
	}
	return info, px.Offset + int64(px.Length), true
}
