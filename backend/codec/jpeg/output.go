package jpeg

import (
	"encoding/binary"
	"strings"

	"lightbox/backend/codec"
)

// output writes the decoded planes into dst as canonical samples.
func (s *state) output(p codec.Params, dst []byte) error {
	if s.sof == mSOF2 {
		if err := s.finishProgressive(); err != nil {
			return err
		}
	}
	if s.direct {
		return nil // written by storeBlock
	}
	shift := 0
	if s.sof == mSOF3 {
		shift = s.al
	}
	wide := p.BitsAllocated == 16
	w, h := s.width, s.height
	if s.ncomp == 1 {
		c := &s.comps[0]
		for y := 0; y < h; y++ {
			row := c.plane[y*c.stride : y*c.stride+w]
			if wide {
				o := dst[2*y*w : 2*(y+1)*w]
				o = o[:2*len(row)]
				for x, v := range row {
					v <<= shift
					o[2*x] = byte(v)
					o[2*x+1] = byte(v >> 8)
				}
			} else {
				o := dst[y*w : (y+1)*w]
				for x, v := range row {
					o[x] = byte(v << shift)
				}
			}
		}
		return nil
	}
	ycc := s.isYCbCr(p)
	cv := newConverter(s.precision)
	c0, c1, c2 := &s.comps[0], &s.comps[1], &s.comps[2]
	var ups [3]upsampler
	for k, c := range []*component{c0, c1, c2} {
		ups[k] = s.newUpsampler(c)
	}
	i := 0
	for y := 0; y < h; y++ {
		r0, r1, r2 := ups[0].row(y), ups[1].row(y), ups[2].row(y)
		for x := 0; x < w; x++ {
			a, b, c := r0[x], r1[x], r2[x]
			if ycc {
				a, b, c = cv.rgb(a, b, c)
			}
			if wide {
				binary.LittleEndian.PutUint16(dst[i:], uint16(a<<shift))
				binary.LittleEndian.PutUint16(dst[i+2:], uint16(b<<shift))
				binary.LittleEndian.PutUint16(dst[i+4:], uint16(c<<shift))
				i += 6
			} else {
				dst[i], dst[i+1], dst[i+2] = byte(a<<shift), byte(b<<shift), byte(c<<shift)
				i += 3
			}
		}
	}
	return nil
}

// isYCbCr decides whether three lossy components hold Y, Cb, Cr. A YBR
// Photometric Interpretation says so; for RGB (or anything else) the
// markers decide: an Adobe APP14 segment by its transform flag, component
// identifiers 'R','G','B' mean RGB, and a JFIF APP0 segment means YCbCr.
// Lossless JPEG is never converted.
func (s *state) isYCbCr(p codec.Params) bool {
	if s.sof == mSOF3 || s.ncomp != 3 {
		return false
	}
	if strings.HasPrefix(p.Photometric, "YBR") {
		return true
	}
	if s.adobe {
		return s.transform != 0
	}
	if s.comps[0].id == 'R' && s.comps[1].id == 'G' && s.comps[2].id == 'B' {
		return false
	}
	return s.jfif
}

// converter turns Y, Cb, Cr into R, G, B with the equations of JFIF, in
// fixed point with 16 fraction bits and rounding, clamped to the precision.
type converter struct {
	center, maxv int32
}

func newConverter(precision int) converter {
	return converter{center: 1 << (precision - 1), maxv: 1<<precision - 1}
}

const (
	fix1402 = 91881  // 1.402 << 16
	fix0344 = 22554  // 0.344136 << 16
	fix0714 = 46802  // 0.714136 << 16
	fix1772 = 116130 // 1.772 << 16
	half    = 1 << 15
)

func (c converter) rgb(y, cb, cr int32) (int32, int32, int32) {
	cb -= c.center
	cr -= c.center
	r := y + (fix1402*cr+half)>>16
	g := y + (-fix0344*cb-fix0714*cr+half)>>16
	b := y + (fix1772*cb+half)>>16
	return c.clamp(r), c.clamp(g), c.clamp(b)
}

func (c converter) clamp(v int32) int32 {
	if v < 0 {
		return 0
	}
	if v > c.maxv {
		return c.maxv
	}
	return v
}

// upsampler yields full-width rows of a component. Components subsampled
// by two horizontally (and optionally vertically) are interpolated with
// the triangle filter that libjpeg calls fancy upsampling (the reference
// decoders use it); other ratios replicate samples.
type upsampler struct {
	c          *component
	fx, fy     int // hmax/h and vmax/v
	hmax, vmax int
	buf, colsm []int32
}

func (s *state) newUpsampler(c *component) upsampler {
	u := upsampler{c: c, hmax: s.hmax, vmax: s.vmax}
	if c.h == s.hmax && c.v == s.vmax {
		return u
	}
	u.fx, u.fy = s.hmax/c.h, s.vmax/c.v
	if s.hmax%c.h != 0 || s.vmax%c.v != 0 {
		u.fx, u.fy = -1, -1 // odd ratios: plain replication
	}
	u.buf = make([]int32, s.width)
	u.colsm = make([]int32, c.w)
	return u
}

func (u *upsampler) row(y int) []int32 {
	c := u.c
	if u.buf == nil {
		return c.plane[y*c.stride:]
	}
	out := u.buf
	switch {
	case u.fx == 2 && u.fy == 1:
		in := c.plane[y*c.stride:][:c.w]
		triangle(in, out, 1, 2, 1)
	case u.fx == 2 && u.fy == 2:
		cy := y / 2
		far := cy - 1
		if y%2 == 1 {
			far = cy + 1
		}
		far = max(0, min(far, c.h0-1))
		near, fr := c.plane[cy*c.stride:][:c.w], c.plane[far*c.stride:][:c.w]
		for i := range u.colsm {
			u.colsm[i] = 3*near[i] + fr[i]
		}
		triangle(u.colsm, out, 4, 8, 7)
	default:
		in := c.plane[(y*c.v/u.vmax)*c.stride:]
		for x := range out {
			out[x] = in[x*c.h/u.hmax]
		}
	}
	return out
}

// triangle doubles a row horizontally: each output is 3/4 of its nearest
// input and 1/4 of the next nearest, with the rounding biases of libjpeg
// (scale is the weight of in already: 1, or 4 after vertical filtering).
func triangle(in, out []int32, scale, biasLeft, biasRight int32) {
	n := len(in)
	shift := uint(2)
	if scale == 4 {
		shift = 4
	}
	for i := 0; i < n; i++ {
		cur := 3 * in[i]
		l, r := in[max(i-1, 0)], in[min(i+1, n-1)]
		a, b := (cur+l+biasLeft)>>shift, (cur+r+biasRight)>>shift
		if i == 0 {
			a = (4*in[0] + biasLeft) >> shift
		}
		if i == n-1 {
			b = (4*in[n-1] + biasRight) >> shift
		}
		if 2*i < len(out) {
			out[2*i] = a
		}
		if 2*i+1 < len(out) {
			out[2*i+1] = b
		}
	}
}
