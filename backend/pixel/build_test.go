package pixel

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"lightbox/backend/codec"
	"lightbox/backend/dcm"
)

// builder writes small Part 10 files for the tests, in Explicit VR Little
// or Big Endian.
type builder struct {
	be  bool
	buf []byte
}

func newBuilder(ts string) *builder {
	b := &builder{be: ts == dcm.ExplicitVRBigEndian}
	b.buf = dcm.AppendMeta(nil, dcm.MetaInfo{SOPClassUID: "1.2.840.10008.5.1.4.1.1.7", SOPInstanceUID: "2.25.1",
		TransferSyntaxUID: ts, ImplementationClassUID: "2.25.2"})
	return b
}

func (b *builder) order() binary.AppendByteOrder {
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

// el appends one element (value padded to even length).
func (b *builder) el(t dcm.Tag, vr string, v []byte) *builder {
	if len(v)%2 == 1 {
		pad := byte(' ')
		if vr == "OB" || vr == "UI" {
			pad = 0
		}
		v = append(append([]byte(nil), v...), pad)
	}
	b.buf = appendHeader(b.buf, b.order(), t, vr, uint32(len(v)))
	b.buf = append(b.buf, v...)
	return b
}

func appendHeader(dst []byte, bo binary.AppendByteOrder, t dcm.Tag, vr string, n uint32) []byte {
	dst = bo.AppendUint16(dst, t.Group())
	dst = bo.AppendUint16(dst, t.Element())
	dst = append(dst, vr...)
	if longVR(vr) {
		dst = append(dst, 0, 0)
		return bo.AppendUint32(dst, n)
	}
	return bo.AppendUint16(dst, uint16(n))
}

func (b *builder) us(t dcm.Tag, vals ...int) *builder {
	var v []byte
	for _, x := range vals {
		v = b.order().AppendUint16(v, uint16(x))
	}
	return b.el(t, "US", v)
}

func (b *builder) str(t dcm.Tag, vr, s string) *builder { return b.el(t, vr, []byte(s)) }

func (b *builder) ow(t dcm.Tag, words ...uint16) *builder {
	var v []byte
	for _, x := range words {
		v = b.order().AppendUint16(v, x)
	}
	return b.el(t, "OW", v)
}

// image writes the Image Pixel module attributes.
func (b *builder) image(rows, cols, spp, ba, bs, hb, pr int, photometric string) *builder {
	b.us(dcm.TagSamplesPerPixel, spp).str(dcm.TagPhotometric, "CS", photometric)
	return b.us(dcm.TagRows, rows).us(dcm.TagColumns, cols).us(dcm.TagBitsAllocated, ba).
		us(dcm.TagBitsStored, bs).us(dcm.TagHighBit, hb).us(dcm.TagPixelRepresentation, pr)
}

func (b *builder) frames(n int) *builder {
	return b.str(dcm.TagNumberOfFrames, "IS", strconv.Itoa(n))
}

// encap appends encapsulated Pixel Data: the offset table, then fragments.
func (b *builder) encap(bot []byte, frags ...[]byte) *builder {
	bo := b.order()
	b.buf = appendHeader(b.buf, bo, dcm.TagPixelData, "OB", dcm.Undefined)
	item := func(v []byte) {
		b.buf = bo.AppendUint16(b.buf, 0xFFFE)
		b.buf = bo.AppendUint16(b.buf, 0xE000)
		b.buf = bo.AppendUint32(b.buf, uint32(len(v)))
		b.buf = append(b.buf, v...)
	}
	item(bot)
	for _, f := range frags {
		item(f)
	}
	b.buf = bo.AppendUint16(b.buf, 0xFFFE)
	b.buf = bo.AppendUint16(b.buf, 0xE0DD)
	b.buf = bo.AppendUint32(b.buf, 0)
	return b
}

func (b *builder) parse() (*dcm.File, error) { return dcm.ParseBytes(b.buf, dcm.Options{}) }

// copyCodec is a test codec whose compressed frame is the raw frame: it
// checks that the frame layer hands over exactly the frame's bytes.
type copyCodec struct{}

func (copyCodec) Decode(src []byte, p codec.Params, dst []byte) error {
	if len(src) != len(dst) {
		return fmt.Errorf("%w: %d bytes for a frame of %d", codec.ErrMismatch, len(src), len(dst))
	}
	copy(dst, src)
	return nil
}

func le32s(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

func le64s(v ...uint64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}
