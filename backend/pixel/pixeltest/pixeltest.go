// Package pixeltest builds small DICOM Part 10 files in memory for the
// tests of the frame layer and the renderer (as net/http/httptest does for
// HTTP). Not for production code.
package pixeltest

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"lightbox/backend/codec"
	"lightbox/backend/dcm"
)

// Builder writes small Part 10 files for the tests, in Explicit VR Little
// or Big Endian.
type Builder struct {
	be  bool
	Buf []byte
}

// New starts a file in transfer syntax ts (its data set in Explicit VR,
// big endian for Explicit VR Big Endian, little endian otherwise).
func New(ts string) *Builder {
	b := &Builder{be: ts == dcm.ExplicitVRBigEndian}
	b.Buf = dcm.AppendMeta(nil, dcm.MetaInfo{SOPClassUID: "1.2.840.10008.5.1.4.1.1.7", SOPInstanceUID: "2.25.1",
		TransferSyntaxUID: ts, ImplementationClassUID: "2.25.2"})
	return b
}

func (b *Builder) order() binary.AppendByteOrder {
	if b.be {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func longVR(vr string) bool {
	switch vr {
	case "OB", "OW", "OV", "SQ", "UN", "UT":
		return true
	}
	return false
}

// El appends one element (value padded to even length).
func (b *Builder) El(t dcm.Tag, vr string, v []byte) *Builder {
	if len(v)%2 == 1 {
		pad := byte(' ')
		if vr == "OB" || vr == "UI" {
			pad = 0
		}
		v = append(append([]byte(nil), v...), pad)
	}
	b.Buf = AppendHeader(b.Buf, b.order(), t, vr, uint32(len(v)))
	b.Buf = append(b.Buf, v...)
	return b
}

// AppendHeader appends an explicit VR element header.
func AppendHeader(dst []byte, bo binary.AppendByteOrder, t dcm.Tag, vr string, n uint32) []byte {
	dst = bo.AppendUint16(dst, t.Group())
	dst = bo.AppendUint16(dst, t.Element())
	dst = append(dst, vr...)
	if longVR(vr) {
		dst = append(dst, 0, 0)
		return bo.AppendUint32(dst, n)
	}
	return bo.AppendUint16(dst, uint16(n))
}

// US appends a US element.
func (b *Builder) US(t dcm.Tag, vals ...int) *Builder {
	var v []byte
	for _, x := range vals {
		v = b.order().AppendUint16(v, uint16(x))
	}
	return b.El(t, "US", v)
}

// Str appends a text element.
func (b *Builder) Str(t dcm.Tag, vr, s string) *Builder { return b.El(t, vr, []byte(s)) }

// OW appends an OW element.
func (b *Builder) OW(t dcm.Tag, words ...uint16) *Builder {
	var v []byte
	for _, x := range words {
		v = b.order().AppendUint16(v, x)
	}
	return b.El(t, "OW", v)
}

// Image writes the Image Pixel module attributes.
func (b *Builder) Image(rows, cols, spp, ba, bs, hb, pr int, photometric string) *Builder {
	b.US(dcm.TagSamplesPerPixel, spp).Str(dcm.TagPhotometric, "CS", photometric)
	return b.US(dcm.TagRows, rows).US(dcm.TagColumns, cols).US(dcm.TagBitsAllocated, ba).
		US(dcm.TagBitsStored, bs).US(dcm.TagHighBit, hb).US(dcm.TagPixelRepresentation, pr)
}

// Frames appends Number of Frames.
func (b *Builder) Frames(n int) *Builder {
	return b.Str(dcm.TagNumberOfFrames, "IS", strconv.Itoa(n))
}

// Encap appends encapsulated Pixel Data: the offset table, then fragments.
func (b *Builder) Encap(bot []byte, frags ...[]byte) *Builder {
	bo := b.order()
	b.Buf = AppendHeader(b.Buf, bo, dcm.TagPixelData, "OB", dcm.Undefined)
	item := func(v []byte) {
		b.Buf = bo.AppendUint16(b.Buf, 0xFFFE)
		b.Buf = bo.AppendUint16(b.Buf, 0xE000)
		b.Buf = bo.AppendUint32(b.Buf, uint32(len(v)))
		b.Buf = append(b.Buf, v...)
	}
	item(bot)
	for _, f := range frags {
		item(f)
	}
	b.Buf = bo.AppendUint16(b.Buf, 0xFFFE)
	b.Buf = bo.AppendUint16(b.Buf, 0xE0DD)
	b.Buf = bo.AppendUint32(b.Buf, 0)
	return b
}

// Parse parses the file built so far.
func (b *Builder) Parse() (*dcm.File, error) { return dcm.ParseBytes(b.Buf, dcm.Options{}) }

// CopyCodec is a test codec whose compressed frame is the raw frame: it
// checks that the frame layer hands over exactly the frame's bytes.
type CopyCodec struct{}

func (CopyCodec) Decode(src []byte, p codec.Params, dst []byte) error {
	if len(src) != len(dst) {
		return fmt.Errorf("%w: %d bytes for a frame of %d", codec.ErrMismatch, len(src), len(dst))
	}
	copy(dst, src)
	return nil
}

// LE32 encodes little-endian 32-bit values.
func LE32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

// LE64 encodes little-endian 64-bit values.
func LE64(v ...uint64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}

// Elem encodes one Explicit VR Little Endian element (value padded to even
// length with a space, or NUL for UI/OB), for building sequence items.
func Elem(t dcm.Tag, vr string, v []byte) []byte {
	b := &Builder{}
	return b.El(t, vr, v).Buf
}

// Item wraps encoded elements into a defined-length sequence item
// (little endian); concatenate items for the value of an SQ element.
func Item(elements ...[]byte) []byte {
	var body []byte
	for _, e := range elements {
		body = append(body, e...)
	}
	out := binary.LittleEndian.AppendUint16(nil, 0xFFFE)
	out = binary.LittleEndian.AppendUint16(out, 0xE000)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}
