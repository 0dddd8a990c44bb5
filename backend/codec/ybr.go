package codec

import (
	"encoding/binary"
	"math"
)

// The YBR_FULL to RGB conversion of PS3.3 C.7.6.3.1.2, shared by the frame
// layer (native YBR_FULL data) and by every codec whose samples are
// YBR_FULL without a transform of the codestream's own (RLE, JPEG-LS, and a
// JPEG 2000 stream without a multiple component transform).
//
// Rounding. The reference for every one of these paths is pydicom's
// convert_color_space (the corpus checksums of the native and RLE files,
// and the JPEG-LS stress cases decoded by dcmdjpls and then converted by
// pydicom): single-precision arithmetic, with the coefficients of its
// matrix rounded to float32, Y + Cb*m + Cr*m summed in that order, then
// floor(x + 0.5) and a clamp to the sample range. That reproduces the
// reference bit for bit on all 2^24 8-bit inputs (ybr_test.go checks a
// large part of them against pydicom), where the three copies this
// function replaced did not: double precision with the JFIF coefficients
// and round-half-to-even differed on 9250 of the 50331648 output samples,
// and 16.16 fixed point on 17259; they agreed on the test files only. The
// references do not differ from one another, so there is no rounding
// parameter. pydicom converts 8-bit samples only; wider samples use the same
// arithmetic with the centre 2^(bits-1) and the range [0, 2^bits-1]
// (float32 represents every such sum up to 16 bits to within 1/64), and
// samples wider than 16 bits, which float32 cannot hold, are converted in
// double precision with the exact coefficients.

// The coefficients of pydicom's matrix, rounded to float32 as it does.
const (
	ybrCrR = float32(1.402)
	ybrCbG = float32(-0.114 * 1.772 / 0.587)
	ybrCrG = float32(-0.299 * 1.402 / 0.587)
	ybrCbB = float32(1.772)
)

// YBRFullToRGB converts interleaved Y, Cb, Cr samples in b to R, G, B in
// place (see above for the rounding). b holds canonical samples (see the
// package comment): bytesPerSample 1, 2 or 4 bytes each, little-endian;
// bits is their precision (BitsStored, or the codestream's precision),
// which sets the centre of Cb and Cr and the clamp. A bits outside
// [2, 8*bytesPerSample] is taken as 8*bytesPerSample; any other
// bytesPerSample leaves b unchanged. A trailing partial pixel is left as
// it is.
func YBRFullToRGB(b []byte, bytesPerSample, bits int) {
	if bits < 2 || bits > 8*bytesPerSample {
		bits = 8 * bytesPerSample
	}
	switch bytesPerSample {
	case 1:
		half, top := float32(int(1)<<(bits-1)), float32(int(1)<<bits-1)
		for i := 0; i+3 <= len(b); i += 3 {
			p := b[i : i+3 : i+3]
			r, g, bl := ybr32(float32(p[0]), float32(p[1])-half, float32(p[2])-half, top)
			p[0], p[1], p[2] = byte(r), byte(g), byte(bl)
		}
	case 2:
		half, top := float32(int(1)<<(bits-1)), float32(int(1)<<bits-1)
		le := binary.LittleEndian
		for i := 0; i+6 <= len(b); i += 6 {
			p := b[i : i+6 : i+6]
			r, g, bl := ybr32(float32(le.Uint16(p)), float32(le.Uint16(p[2:]))-half, float32(le.Uint16(p[4:]))-half, top)
			le.PutUint16(p, uint16(r))
			le.PutUint16(p[2:], uint16(g))
			le.PutUint16(p[4:], uint16(bl))
		}
	case 4:
		half, top := float64(uint64(1)<<(bits-1)), float64(uint64(1)<<bits-1)
		le := binary.LittleEndian
		round := func(v float64) uint32 { return uint32(min(max(math.Floor(v+0.5), 0), top)) }
		for i := 0; i+12 <= len(b); i += 12 {
			p := b[i : i+12 : i+12]
			y := float64(le.Uint32(p))
			cb, cr := float64(le.Uint32(p[4:]))-half, float64(le.Uint32(p[8:]))-half
			le.PutUint32(p, round(y+1.402*cr))
			le.PutUint32(p[4:], round(y+(-0.114*1.772/0.587)*cb+(-0.299*1.402/0.587)*cr))
			le.PutUint32(p[8:], round(y+1.772*cb))
		}
	}
}

// ybr32 converts one pixel in single precision (cb and cr centred),
// rounding and clamping to [0, top].
func ybr32(y, cb, cr, top float32) (r, g, b int) {
	round := func(v float32) int {
		return int(min(max(float32(math.Floor(float64(v+0.5))), 0), top))
	}
	// written out so that each product is rounded to float32 before the
	// sum, as in the reference (no fused multiply-add)
	pr := ybrCrR * cr
	pgb, pgr := ybrCbG*cb, ybrCrG*cr
	pb := ybrCbB * cb
	return round(y + float32(pr)), round(y + float32(pgb) + float32(pgr)), round(y + float32(pb))
}
