package jpeg

import (
	"fmt"

	"lightbox/backend/codec"
)

// bitReader reads entropy-coded data: it removes the stuffed zero byte after
// each 0xFF and stops at a marker, after which it supplies zero bits. The
// number of zero bytes supplied is counted so that a scan that reads past
// its data can be reported (overrun).
type bitReader struct {
	data   []byte
	pos    int    // next byte of data to load
	acc    uint64 // the low n bits are unread bits, oldest highest
	n      uint
	marker bool // a marker (or the end of data) was reached
	zeros  int  // zero bytes supplied past the end of the entropy data
}

func (r *bitReader) init(data []byte, pos int) {
	*r = bitReader{data: data, pos: pos}
}

// fill loads bytes until more than 56 bits are buffered.
func (r *bitReader) fill() {
	for r.n <= 56 {
		var b byte
		if !r.marker && r.pos < len(r.data) {
			b = r.data[r.pos]
			if b != 0xFF {
				r.pos++
			} else if r.pos+1 < len(r.data) && r.data[r.pos+1] == 0 {
				r.pos += 2
			} else {
				r.marker = true
				b = 0
				r.zeros++
			}
		} else {
			r.marker = true
			r.zeros++
		}
		r.acc = r.acc<<8 | uint64(b)
		r.n += 8
	}
}

// bits returns the next s bits (s <= 16) as an unsigned value.
func (r *bitReader) bits(s uint) int32 {
	if r.n < s {
		r.fill()
	}
	r.n -= s
	return int32(r.acc>>r.n) & (1<<s - 1)
}

// bit returns the next bit.
func (r *bitReader) bit() int32 {
	if r.n == 0 {
		r.fill()
	}
	r.n--
	return int32(r.acc>>r.n) & 1
}

// receiveExtend reads s extra bits and extends them into a signed
// difference (F.2.2.1 EXTEND).
func (r *bitReader) receiveExtend(s uint) int32 {
	if s == 0 {
		return 0
	}
	v := r.bits(s)
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// overrun reports whether more than a few bits past the end of the entropy
// data were consumed.
func (r *bitReader) overrun() bool {
	return r.zeros*8 > int(r.n)+16
}

// restart drops the buffered bits, and skips the RSTn marker that must
// follow. If the marker is not where expected, it resynchronises on the next
// RST marker, as tolerant decoders do.
func (r *bitReader) restart() error {
	r.acc, r.n, r.marker, r.zeros = 0, 0, false, 0
	p := r.pos
	for p+1 < len(r.data) {
		if r.data[p] == 0xFF {
			m := r.data[p+1]
			if m >= 0xD0 && m <= 0xD7 {
				r.pos = p + 2
				return nil
			}
			if m != 0 && m != 0xFF {
				break // another marker: the restart marker is missing
			}
		}
		p++
	}
	return fmt.Errorf("jpeg: %w: restart marker missing", codec.ErrCorrupt)
}

// nextMarker returns the position of the next marker other than a RSTn at
// or after the reader's position.
func (r *bitReader) nextMarker() int {
	p := r.pos
	for p+1 < len(r.data) {
		if r.data[p] == 0xFF {
			m := r.data[p+1]
			if m != 0 && m != 0xFF && (m < 0xD0 || m > 0xD7) {
				return p
			}
		}
		p++
	}
	return len(r.data)
}

const (
	fastBits = 9
	fastSize = 1 << fastBits
)

// huffTable is a Huffman decoding table (C.2 / F.2.2.3) with a lookup table
// for codes of up to fastBits bits.
type huffTable struct {
	present bool
	fast    [fastSize]uint16 // code length << 8 | value; 0: longer code
	// fastAC, for AC tables: a code of run r and size s whose code and
	// extra bits fit in fastBits, as value << 16 | r << 8 | total length.
	fastAC [fastSize]int32
	// fastDiff, for DC and lossless tables: a code of size s whose code and
	// extra bits fit in fastBits, as difference << 8 | total length.
	fastDiff [fastSize]int32
	maxcode  [18]int32 // largest code of each length, -1 if none
	valptr   [17]int32 // index in vals of the first code of a length
	mincode  [17]int32
	vals     [256]byte
}

// build sets up the table from the 16 code counts and the values of a DHT
// segment.
func (h *huffTable) build(counts []byte, vals []byte) error {
	*h = huffTable{}
	total := 0
	for _, c := range counts {
		total += int(c)
	}
	if total > 256 || total != len(vals) {
		return fmt.Errorf("jpeg: %w: Huffman table with %d codes", codec.ErrCorrupt, total)
	}
	copy(h.vals[:], vals)
	code, k := int32(0), int32(0)
	for l := 1; l <= 16; l++ {
		c := int32(counts[l-1])
		if code+c > 1<<l {
			return fmt.Errorf("jpeg: %w: Huffman code lengths overflow", codec.ErrCorrupt)
		}
		h.valptr[l] = k
		h.mincode[l] = code
		if c == 0 {
			h.maxcode[l] = -1
		} else {
			h.maxcode[l] = code + c - 1
			if l <= fastBits {
				for i := int32(0); i < c; i++ {
					v := uint16(l)<<8 | uint16(vals[k+i])
					first := (code + i) << (fastBits - l)
					for j := int32(0); j < 1<<(fastBits-l); j++ {
						h.fast[first+j] = v
					}
				}
			}
		}
		code += c
		k += c
		code <<= 1
	}
	h.maxcode[17] = 0x7FFFFFFF
	h.present = true
	for peek := range h.fastDiff {
		e := h.fast[peek]
		l, sz := uint(e>>8), uint(e&0xFF)
		if e == 0 || sz > 16 || sz < 16 && l+sz > fastBits {
			continue
		}
		var v int32 = 32768 // SSSS 16: no extra bits
		if sz < 16 {
			v = int32(peek>>(fastBits-l-sz)) & (1<<sz - 1)
			if sz > 0 && v < 1<<(sz-1) {
				v += -1<<sz + 1
			}
		}
		h.fastDiff[peek] = v<<8 | int32(l+sz%16)
	}
	for peek := range h.fastAC {
		e := h.fast[peek]
		l, rs := uint(e>>8), e&0xFF
		r, sz := int32(rs>>4), uint(rs&15)
		if e == 0 || sz == 0 || l+sz > fastBits {
			continue
		}
		v := int32(peek>>(fastBits-l-sz)) & (1<<sz - 1)
		if v < 1<<(sz-1) {
			v += -1<<sz + 1
		}
		h.fastAC[peek] = v<<16 | r<<8 | int32(l+sz)
	}
	return nil
}

// decode returns the next Huffman-coded value, or -1 for an invalid code.
func (r *bitReader) decode(h *huffTable) int32 {
	if r.n < 16 {
		r.fill()
	}
	if e := h.fast[(r.acc>>(r.n-fastBits))&(fastSize-1)]; e != 0 {
		r.n -= uint(e >> 8)
		return int32(e & 0xFF)
	}
	return r.decodeSlow(h)
}

func (r *bitReader) decodeSlow(h *huffTable) int32 {
	for l := uint(fastBits + 1); l <= 16; l++ {
		code := int32(r.acc>>(r.n-l)) & (1<<l - 1)
		if code <= h.maxcode[l] {
			r.n -= l
			return int32(h.vals[h.valptr[l]+code-h.mincode[l]])
		}
	}
	return -1
}
