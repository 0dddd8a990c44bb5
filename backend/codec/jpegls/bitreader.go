package jpegls

import (
	"encoding/binary"
	"math/bits"
)

// bitReader reads the entropy-coded segment of a scan (or of one restart
// interval), most significant bit first, removing the stuffed 0 bit that
// follows every 0xFF byte (T.87 A.1). src ends where the next marker starts,
// so every 0xFF inside it is followed by a byte below 0x80.
//
// Past the end it supplies zero bits and counts them in pad; the caller
// checks overrun() after each line, so the hot loops carry no error paths.
type bitReader struct {
	src    []byte
	pos    int
	acc    uint64 // valid bits left-aligned
	n      uint   // number of valid bits in acc
	pad    int    // zero bits supplied beyond the end of src
	prevFF bool   // the last byte taken was 0xFF
	lim    int    // refill may read 8 bytes at pos <= lim (-1 after a 0xFF)
	bad    bool   // an impossible code was met (sticky)
}

func (r *bitReader) reset(src []byte) {
	*r = bitReader{src: src, lim: len(src) - 8}
}

// overrun reports whether bits beyond the end of the segment were consumed
// or an invalid code was seen.
func (r *bitReader) overrun() bool {
	return r.bad || r.pad > int(r.n)
}

const (
	lsb01 = 0x0101010101010101
	msb80 = 0x8080808080808080
)

// refill tops acc, which holds n < 57 valid bits, up to more than 56 bits
// with whole bytes when the next eight bytes hold no 0xFF (small enough to
// be inlined in the hot loops); otherwise it returns n unchanged, and fill
// does the work.
func (r *bitReader) refill(acc uint64, n uint) (uint64, uint) {
	if r.pos > r.lim {
		return acc, n
	}
	v := binary.BigEndian.Uint64(r.src[r.pos:])
	if x := ^v; (x-lsb01)&^x&msb80 != 0 { // a 0xFF byte in v
		return acc, n
	}
	m := (64 - n) >> 3
	r.pos += int(m)
	// the bits of v past the m whole bytes are left out
	return acc | v>>(n&63)&^(1<<(64-n-8*m)-1), n + 8*m
}

// fill tops the cache up to more than 56 bits.
func (r *bitReader) fill() {
	if r.n > 56 {
		return
	}
	if acc, n := r.refill(r.acc, r.n); n != r.n {
		r.acc, r.n = acc, n
		return
	}
	for r.n <= 56 {
		if r.pos >= len(r.src) {
			r.pad += int(64 - r.n)
			r.n = 64
			return
		}
		b := r.src[r.pos]
		r.pos++
		if r.prevFF {
			r.acc |= uint64(b&0x7f) << (57 - r.n)
			r.n += 7
		} else {
			r.acc |= uint64(b) << (56 - r.n)
			r.n += 8
		}
		r.prevFF = b == 0xFF
	}
	r.lim = len(r.src) - 8
	if r.prevFF {
		r.lim = -1
	}
}

// bits reads k bits, 0 <= k <= 32.
func (r *bitReader) bits(k uint) int {
	if r.n < k {
		r.fill()
	}
	v := r.acc >> (64 - k)
	if k == 0 {
		v = 0
	}
	r.acc <<= k
	r.n -= k
	return int(v)
}

func (r *bitReader) bit() int {
	if r.n == 0 {
		r.fill()
	}
	v := r.acc >> 63
	r.acc <<= 1
	r.n--
	return int(v)
}

// golomb reads a length-limited Golomb code (T.87 A.5.3): a unary prefix of
// z zeros ended by a 1, then k bits when z < limitq, or qbpp bits holding
// value-1 when z == limitq (limitq = LIMIT-qbpp-1). k <= maxK.
func (r *bitReader) golomb(k uint, limitq int, qbpp uint) int {
	z := uint(bits.LeadingZeros64(r.acc))
	if int(z) < limitq && z+1+k <= r.n {
		acc := r.acc << (z + 1)
		r.acc = acc << k
		r.n -= z + 1 + k
		return int(z)<<k | int(acc>>(63-k)>>1)
	}
	return r.golombSlow(k, limitq, qbpp)
}

func (r *bitReader) golombSlow(k uint, limitq int, qbpp uint) int {
	if r.n < 40 {
		r.fill()
		if z := uint(bits.LeadingZeros64(r.acc)); int(z) < limitq && z+1+k <= r.n {
			acc := r.acc << (z + 1)
			r.acc = acc << k
			r.n -= z + 1 + k
			return int(z)<<k | int(acc>>(63-k)>>1)
		}
	}
	z := 0
	for r.bit() == 0 {
		z++
		if z > limitq {
			r.bad = true
			return 0
		}
	}
	if z < limitq {
		return z<<k | r.bits(k)
	}
	return r.bits(qbpp) + 1
}
