package jpegls

import (
	"encoding/binary"
	"math/bits"
)

// The scan decoder proper: context modelling, regular and run mode
// (T.87 Annex A), for one component per line (interleave none and line) and
// for sample-interleaved pixels.

// jTable is the run-length order table J of T.87 A.7.1.
var jTable = [32]uint{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15}

const (
	maxK  = 24 // no valid stream needs a Golomb parameter this large
	minC  = -128
	maxC  = 127
	nCtx  = 365
	maxNc = 4
)

type regCtx struct {
	a, b, c, n int
}

type runCtx struct {
	a, n, nn int
}

// coder holds the parameters and the adaptive state of one scan.
type coder struct {
	width  int
	maxval int
	near   int
	rng    int // RANGE
	qbpp   uint
	limit  int // LIMIT
	limitq int // LIMIT - qbpp - 1
	reset  int
	t3     int
	step   int // 2*NEAR+1
	wrap   int // RANGE*(2*NEAR+1)
	quant  []int32
	ctx    [nCtx]regCtx
	rctx   [2]runCtx
	runIdx [maxNc]int
	br     bitReader
	// out receives line samples directly (8 or 16-bit output): obps 1 or
	// 2 for contiguous samples (one component), -1 or -2 for samples
	// ostride bytes apart; 0: the caller stores the line.
	out     []byte
	obps    int
	ostride int
	initA   int
	quant81 []int32 // quant * 81
	quant9  []int32 // quant * 9
}

// setup computes the derived parameters (T.87 A.2.1) and the gradient
// quantisation tables (A.3.3) for thresholds t1 <= t2 <= t3.
// The tables are left as they are in scratch when rebuild is false.
func (s *coder) setup(width, maxval, near, t1, t2, t3, reset int, scratch []int32, rebuild bool) []int32 {
	s.width, s.maxval, s.near, s.reset, s.t3 = width, maxval, near, reset, t3
	s.rng = (maxval+2*near)/(2*near+1) + 1
	s.qbpp = uint(bitLen(s.rng - 1))
	bpp := max(2, bitLen(maxval))
	s.limit = 2 * (bpp + max(8, bpp))
	s.limitq = s.limit - int(s.qbpp) - 1
	s.step = 2*near + 1
	s.wrap = s.rng * s.step
	s.initA = max(2, (s.rng+32)/64)
	n := 2*t3 + 1
	if cap(scratch) < 3*n {
		scratch = make([]int32, 3*n)
		rebuild = true
	}
	s.quant = scratch[:n]
	s.quant81 = scratch[n : 2*n]
	s.quant9 = scratch[2*n : 3*n]
	if !rebuild {
		return scratch
	}
	for i := range n {
		d := i - t3
		var q int32
		switch {
		case d <= -t3:
			q = -4
		case d <= -t2:
			q = -3
		case d <= -t1:
			q = -2
		case d < -near:
			q = -1
		case d <= near:
			q = 0
		case d < t1:
			q = 1
		case d < t2:
			q = 2
		case d < t3:
			q = 3
		default:
			q = 4
		}
		s.quant[i], s.quant81[i], s.quant9[i] = q, 81*q, 9*q
	}
	return scratch
}

// bitLen returns ceil(log2(v+1)), the bits needed for v >= 0.
func bitLen(v int) int {
	n := 0
	for v > 0 {
		n++
		v >>= 1
	}
	return n
}

// resetState reinitialises the context variables (scan start and restart).
func (s *coder) resetState() {
	for i := range s.ctx {
		s.ctx[i] = regCtx{a: s.initA, n: 1}
	}
	s.rctx[0] = runCtx{a: s.initA, n: 1}
	s.rctx[1] = runCtx{a: s.initA, n: 1}
	s.runIdx = [maxNc]int{}
}

// context returns the signed context number Q of T.87 A.3.4 for the local
// gradients.
func (s *coder) context(d1, d2, d3 int) int {
	t := s.t3
	return int(s.quant81[min(max(d1, -t), t)+t] + s.quant9[min(max(d2, -t), t)+t] + s.quant[min(max(d3, -t), t)+t])
}

// predict is the MED predictor of T.87 A.4.1, which is the median of ra,
// rb and ra+rb-rc.
func predict(ra, rb, rc int) int {
	return min(max(ra+rb-rc, min(ra, rb)), max(ra, rb))
}

// regular decodes one sample in regular mode (T.87 A.4-A.6) for signed
// context q and the MED prediction px. It is the sample-interleaved path;
// decodeLine carries the same steps written out in its loop (a call per
// sample there costs about a tenth of the decoding time), and the stress
// test checks both against the reference decoders.
func (s *coder) regular(q, px int) int {
	sign := 1
	if q < 0 {
		sign = -1
		q = -q
	}
	c := &s.ctx[q]
	px += sign * c.c
	if px > s.maxval {
		px = s.maxval
	} else if px < 0 {
		px = 0
	}
	k := golombK(c.n, c.a)
	if k > maxK {
		s.br.bad = true
		k = maxK
	}
	m := s.br.golomb(k, s.limitq, s.qbpp)
	e := m>>1 ^ -(m & 1)
	if k == 0 && s.near == 0 && 2*c.b+c.n-1 < 0 {
		e = ^e
	}
	// context update and bias correction (A.6)
	if e < 0 {
		c.a -= e
	} else {
		c.a += e
	}
	c.b += e * s.step
	if c.n == s.reset {
		c.a >>= 1
		c.b >>= 1
		c.n >>= 1
	}
	c.n++
	if c.b+c.n <= 0 {
		c.b += c.n
		if c.b <= -c.n {
			c.b = -c.n + 1
		}
		if c.c > minC {
			c.c--
		}
	} else if c.b > 0 {
		c.b -= c.n
		if c.b > 0 {
			c.b = 0
		}
		if c.c < maxC {
			c.c++
		}
	}
	return s.reconstruct(px + sign*e*s.step)
}

// reconstruct applies the modular reduction of the reconstructed value and
// clamps it to [0, MAXVAL].
func (s *coder) reconstruct(rx int) int {
	if rx < -s.near {
		rx += s.wrap
	} else if rx > s.maxval+s.near {
		rx -= s.wrap
	}
	if rx < 0 {
		return 0
	}
	if rx > s.maxval {
		return s.maxval
	}
	return rx
}

// interruption decodes the run interruption sample (T.87 A.7.2) with
// run index ri, predicted from ra and rb. sampleMode forces RItype 0 as
// the sample-interleaved mode does.
func (s *coder) interruption(ra, rb, ri int, sampleMode bool) int {
	ritype := 0
	px, sign := rb, 1
	if !sampleMode && abs(ra-rb) <= s.near {
		ritype, px = 1, ra
	} else if ra > rb {
		sign = -1
	}
	c := &s.rctx[ritype]
	k := golombK(c.n, c.a+(c.n>>1)*ritype)
	if k > maxK {
		s.br.bad = true
		k = maxK
	}
	br := &s.br
	limitq := s.limit - int(jTable[ri]) - 2 - int(s.qbpp)
	if br.n < 40 {
		br.fill()
	}
	var m int
	if z := uint(bits.LeadingZeros64(br.acc)); int(z) < limitq && z+1+k <= br.n {
		acc := br.acc << (z + 1)
		br.acc = acc << k
		br.n -= z + 1 + k
		m = int(z)<<k | int(acc>>(63-k)>>1)
	} else {
		m = br.golombSlow(k, limitq, s.qbpp)
	}
	t := m + ritype
	mp := t & 1
	e := (t + 1) >> 1
	if (k != 0 || 2*c.nn >= c.n) == (mp == 1) {
		e = -e
	}
	if e < 0 {
		c.nn++
	}
	c.a += (m + 1 - ritype) >> 1
	if c.n == s.reset {
		c.a >>= 1
		c.n >>= 1
		c.nn >>= 1
	}
	c.n++
	return s.reconstruct(px + sign*e*s.step)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// runLength decodes the length of a run starting with remaining samples
// left in the line (T.87 A.7.1.2). It returns the run length and whether
// the run was interrupted (then the interruption sample follows the run).
func (s *coder) runLength(ri *int, remaining int) (int, bool) {
	n := 0
	for n < remaining {
		if s.br.bit() == 0 {
			j := jTable[*ri]
			n += s.br.bits(j)
			if n >= remaining {
				s.br.bad = true
				return remaining, false
			}
			return n, true
		}
		full := 1 << jTable[*ri]
		if full <= remaining-n {
			n += full
			if *ri < 31 {
				*ri++
			}
		} else {
			n = remaining
		}
	}
	return n, false
}

// golombK returns the smallest k with n<<k >= a (T.87 A.5.1).
func golombK(n, a int) uint {
	if a <= n {
		return 0
	}
	k := bits.Len(uint(a)) - bits.Len(uint(n))
	if n<<k < a {
		k++
	}
	return uint(k)
}

// decodeLine decodes one line of one component. prev and cur hold width+2
// samples, x at index x+1; the edges prev[width+1] and cur[0] are set here.
//
// This is the hot loop: the regular mode is written out here with the bit
// cache in local variables; the rare paths (cache refill, long codes, run
// mode) go through methods after the locals are written back.
func (s *coder) decodeLine(prev, cur []int32, comp int) {
	w := s.width
	prev = prev[:w+2]
	cur = cur[:w+2]
	prev[w+1] = prev[w]
	cur[0] = prev[1]
	t := s.t3
	qt := s.quant[:2*t+1]
	ctx := &s.ctx
	br := &s.br
	acc, nb := br.acc, br.n
	rb := int(prev[0])
	rd := int(prev[1])
	ra := int(cur[0])
	for x := 1; x <= w; {
		rc := rb
		rb = rd
		rd = int(prev[x+1])
		q := int(81*qt[min(max(rd-rb, -t), t)+t] + 9*qt[min(max(rb-rc, -t), t)+t] + qt[min(max(rc-ra, -t), t)+t])
		if q == 0 {
			br.acc, br.n = acc, nb
			x = s.runMode(prev, cur, x, ra, comp)
			acc, nb = br.acc, br.n
			ra = int(cur[x-1])
			rb = int(prev[x-1])
			rd = int(prev[min(x, w+1)])
			continue
		}
		// regular mode (T.87 A.4 to A.6)
		// branch-free prediction and sign handling (sgn is 0 or -1): both
		// are unpredictable on noisy images
		px := predict(ra, rb, rc)
		sgn := q >> 63
		c := &ctx[(q^sgn)-sgn]
		px = min(max(px+(c.c^sgn)-sgn, 0), s.maxval)
		k := golombK(c.n, c.a)
		if nb < 40 {
			br.acc, br.n = acc, nb
			br.fill()
			acc, nb = br.acc, br.n
		}
		z := uint(bits.LeadingZeros64(acc))
		var m int
		if int(z) < s.limitq && z+1+k <= nb && k <= maxK {
			acc <<= z + 1
			m = int(z)<<k | int(acc>>(63-k)>>1)
			acc <<= k
			nb -= z + 1 + k
		} else {
			br.acc, br.n = acc, nb
			if k > maxK {
				br.bad = true
				k = maxK
			}
			m = br.golomb(k, s.limitq, s.qbpp)
			acc, nb = br.acc, br.n
		}
		e := m>>1 ^ -(m & 1)
		if k == 0 && s.near == 0 && 2*c.b+c.n-1 < 0 {
			e = ^e
		}
		c.a += (e ^ e>>63) - e>>63
		c.b += e * s.step
		if c.n == s.reset {
			c.a >>= 1
			c.b >>= 1
			c.n >>= 1
		}
		c.n++
		if c.b+c.n <= 0 {
			c.b += c.n
			if c.b <= -c.n {
				c.b = -c.n + 1
			}
			if c.c > minC {
				c.c--
			}
		} else if c.b > 0 {
			c.b -= c.n
			if c.b > 0 {
				c.b = 0
			}
			if c.c < maxC {
				c.c++
			}
		}
		rx := px + ((e^sgn)-sgn)*s.step
		if rx < -s.near {
			rx += s.wrap
		} else if rx > s.maxval+s.near {
			rx -= s.wrap
		}
		ra = min(max(rx, 0), s.maxval)
		cur[x] = int32(ra)
		switch s.obps {
		case 2:
			binary.LittleEndian.PutUint16(s.out[2*x-2:], uint16(ra))
		case 1:
			s.out[x-1] = byte(ra)
		case -1:
			s.out[(x-1)*s.ostride] = byte(ra)
		case -2:
			binary.LittleEndian.PutUint16(s.out[(x-1)*s.ostride:], uint16(ra))
		}
		x++
	}
	br.acc, br.n = acc, nb
}

// runMode decodes the run that starts at x (T.87 A.7.1.2), fills it with
// ra, decodes the interruption sample when the run ends before the end of
// the line, and returns the next x.
func (s *coder) runMode(prev, cur []int32, x, ra, comp int) int {
	br := &s.br
	acc, nb := br.acc, br.n
	ri := s.runIdx[comp]
	remaining := s.width - x + 1
	n := 0
	interrupted := false
	for n < remaining {
		if nb == 0 {
			br.acc, br.n = acc, nb
			br.fill()
			acc, nb = br.acc, br.n
		}
		bit := acc >> 63
		acc <<= 1
		nb--
		if bit == 0 {
			j := jTable[ri]
			if nb < j {
				br.acc, br.n = acc, nb
				br.fill()
				acc, nb = br.acc, br.n
			}
			n += int(acc >> (63 - j) >> 1)
			acc <<= j
			nb -= j
			if n >= remaining {
				br.bad = true
				n = remaining
				break
			}
			interrupted = true
			break
		}
		full := 1 << jTable[ri]
		if full <= remaining-n {
			n += full
			if ri < 31 {
				ri++
			}
		} else {
			n = remaining
		}
	}
	br.acc, br.n = acc, nb
	fillRun(cur[x:x+n], int32(ra))
	s.output(x, n, ra)
	x += n
	if interrupted {
		v := s.interruption(ra, int(prev[x]), ri, false)
		cur[x] = int32(v)
		s.output(x, 1, v)
		x++
		if ri > 0 {
			ri--
		}
	}
	s.runIdx[comp] = ri
	return x
}

// output writes n samples of value v from line index x (pixel x-1) to
// s.out when the coder writes its output directly.
func (s *coder) output(x, n, v int) {
	switch s.obps {
	case 2:
		o := s.out[2*x-2 : 2*(x+n-1)]
		for len(o) >= 8 {
			binary.LittleEndian.PutUint64(o, uint64(uint16(v))*0x0001000100010001)
			o = o[8:]
		}
		for i := 0; i+1 < len(o); i += 2 {
			binary.LittleEndian.PutUint16(o[i:], uint16(v))
		}
	case 1:
		o := s.out[x-1 : x+n-1]
		for i := range o {
			o[i] = byte(v)
		}
	case -1:
		for i := x - 1; i < x+n-1; i++ {
			s.out[i*s.ostride] = byte(v)
		}
	case -2:
		for i := x - 1; i < x+n-1; i++ {
			binary.LittleEndian.PutUint16(s.out[i*s.ostride:], uint16(v))
		}
	}
}

// fillRun sets every element of f to v.
func fillRun(f []int32, v int32) {
	if len(f) < 32 {
		for i := range f {
			f[i] = v
		}
		return
	}
	f[0] = v
	for i := 1; i < len(f); i *= 2 {
		copy(f[i:], f[:i])
	}
}

// decodePixels decodes one line of nc sample-interleaved components. prev
// and cur hold (width+2)*nc samples, pixel x at (x+1)*nc.
func (s *coder) decodePixels(prev, cur []int32, nc int) {
	w := s.width
	prev = prev[:(w+2)*nc]
	cur = cur[:(w+2)*nc]
	copy(prev[(w+1)*nc:], prev[w*nc:(w+1)*nc])
	copy(cur[:nc], prev[nc:2*nc])
	var qs [maxNc]int
	for x := 1; x <= w; {
		o := x * nc
		all := 0
		for c := range nc {
			ra, rb, rc, rd := int(cur[o-nc+c]), int(prev[o+c]), int(prev[o-nc+c]), int(prev[o+nc+c])
			qs[c] = s.context(rd-rb, rb-rc, rc-ra)
			all |= qs[c]
		}
		if all != 0 {
			for c := range nc {
				ra, rb, rc := int(cur[o-nc+c]), int(prev[o+c]), int(prev[o-nc+c])
				px := predict(ra, rb, rc)
				if qs[c] == 0 {
					// a zero context outside run mode: T.87 codes it in
					// regular mode with context 0 (sign +1).
					cur[o+c] = int32(s.regular(0, px))
				} else {
					cur[o+c] = int32(s.regular(qs[c], px))
				}
			}
			x++
			continue
		}
		ri := s.runIdx[0]
		n, interrupted := s.runLength(&ri, w-x+1)
		for i := range n {
			copy(cur[o+i*nc:o+(i+1)*nc], cur[o-nc:o])
		}
		x += n
		if interrupted {
			o = x * nc
			for c := range nc {
				cur[o+c] = int32(s.interruption(int(cur[o-nc+c]), int(prev[o+c]), ri, true))
			}
			x++
			if ri > 0 {
				ri--
			}
		}
		s.runIdx[0] = ri
	}
}
