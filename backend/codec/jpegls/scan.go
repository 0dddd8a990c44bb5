package jpegls

import (
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

// regCtx is the state of one regular-mode context (T.87 A.2.2) plus the
// two values its next use needs first, kept up to date by every update so
// that they are off the sample-to-sample dependency chain: k is the Golomb
// parameter (A.5.1) and flip is -1 when the error mapping is inverted
// (NEAR 0, k 0 and 2B+N <= 0, A.5.2), else 0.
type regCtx struct {
	a       int
	b, c, n int32
	k       uint32
	flip    int32
}

// update adapts the context to the error e (A.6) and keeps k and flip up
// to date. lossless is -1 when NEAR is 0, else 0. Its branches are chosen
// for the dependency chain from one use of a context to the next, which is
// what bounds the speed where the same context comes back sample after
// sample (smooth images): a predicted branch costs no latency, while
// branch-free code adds its whole depth (measured: bias correction and k
// with branches decode the smooth series 14% faster, noisy images 3%
// slower).
func (c *regCtx) update(e, step, reset, lossless int) {
	a := c.a + (e ^ e>>63) - e>>63
	b := int(c.b) + e
	if step != 1 {
		b += e * (step - 1) // near-lossless; lossless frames skip the multiply
	}
	n := int(c.n)
	if n == reset {
		a >>= 1
		b >>= 1
		n >>= 1
	}
	n++
	// bias correction (A.6.2)
	cc := int(c.c)
	if b+n <= 0 {
		b = max(b+n, 1-n)
		cc = max(cc-1, minC)
	} else if b > 0 {
		b = min(b-n, 0)
		cc = min(cc+1, maxC)
	}
	c.a, c.b, c.c, c.n = a, int32(b), int32(cc), int32(n)
	// k and flip (-1 when NEAR is 0, k is 0 and 2B+N <= 0): a predicted
	// branch on k == 0 keeps golombK off the chain where k stays 0 (smooth
	// images, where the same context comes back sample after sample)
	if a <= n {
		c.k, c.flip = 0, int32((2*b+n-1)>>63&lossless)
	} else {
		c.k, c.flip = uint32(golombK(n, a)), 0
	}
}

type runCtx struct {
	a, n, nn int
}

// qtSize is the size of the gradient quantisation table: it is indexed by
// a local gradient plus qtOff, and gradients of samples of 16 bits or
// fewer lie in (-qtOff, qtOff).
const (
	qtOff  = 1 << 16
	qtSize = 2 * qtOff
)

// quantTable maps a local gradient d (at index d+qtOff) to its quantised
// value -4..4 (T.87 A.3.3).
type quantTable [qtSize]int8

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
	step   int // 2*NEAR+1
	wrap   int // RANGE*(2*NEAR+1)
	qt     *quantTable
	ctx    [nCtx]regCtx
	rctx   [2]runCtx
	runIdx [maxNc]int
	br     bitReader
	initA  int
	// lossless is -1 when NEAR is 0, else 0 (see regCtx.update)
	lossless int
}

// qKey identifies the contents of a quantTable: the thresholds, NEAR, and
// the largest gradient filled in.
type qKey struct{ t1, t2, t3, near, maxval int }

// setup computes the derived parameters (T.87 A.2.1) and fills the
// gradient quantisation table qt (A.3.3) for thresholds t1 <= t2 <= t3
// unless it already holds them (key).
func (s *coder) setup(width, maxval, near, t1, t2, t3, reset int, qt *quantTable, key *qKey) {
	s.width, s.maxval, s.near, s.reset = width, maxval, near, reset
	s.rng = (maxval+2*near)/(2*near+1) + 1
	s.qbpp = uint(bitLen(s.rng - 1))
	bpp := max(2, bitLen(maxval))
	s.limit = 2 * (bpp + max(8, bpp))
	s.limitq = s.limit - int(s.qbpp) - 1
	s.step = 2*near + 1
	s.wrap = s.rng * s.step
	s.initA = max(2, (s.rng+32)/64)
	s.lossless = 0
	if near == 0 {
		s.lossless = -1
	}
	s.qt = qt
	want := qKey{t1, t2, t3, near, maxval}
	if *key == want {
		return
	}
	*key = want
	// reconstructed samples lie in [0, MAXVAL]: only those gradients
	// occur. ends holds the (exclusive) upper end of the gradients
	// quantised to -4, -3, ... 4 (the thresholds are checked:
	// NEAR < T1 <= T2 <= T3 <= MAXVAL).
	ends := [9]int{1 - t3, 1 - t2, 1 - t1, -near, near + 1, t1, t2, t3, maxval + 1}
	lo := -maxval
	for i, end := range ends {
		end = min(max(end, lo), maxval+1)
		fill(qt[lo+qtOff:end+qtOff], int8(i-4))
		lo = end
	}
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
	k := golombK(1, s.initA)
	for i := range s.ctx {
		s.ctx[i] = regCtx{a: s.initA, n: 1, k: uint32(k)}
	}
	s.rctx[0] = runCtx{a: s.initA, n: 1}
	s.rctx[1] = runCtx{a: s.initA, n: 1}
	s.runIdx = [maxNc]int{}
}

// context returns the signed context number Q of T.87 A.3.4 for the local
// gradients.
func (s *coder) context(d1, d2, d3 int) int {
	qt := s.qt
	return 81*int(qt[uint(d1+qtOff)%qtSize]) + 9*int(qt[uint(d2+qtOff)%qtSize]) + int(qt[uint(d3+qtOff)%qtSize])
}

// predict is the MED predictor of T.87 A.4.1, which is the median of ra,
// rb and ra+rb-rc. It is written with masks: the compiler turns min and
// max here into branches, which noisy images and edges mispredict.
func predict(ra, rb, rc int) int {
	d := ra - rb
	d &= d >> 63
	lo, hi := rb+d, ra-d // min(ra, rb), max(ra, rb)
	g := ra + rb - rc
	t := hi - g
	g += t & (t >> 63) // min(g, hi)
	u := g - lo
	return lo + u&^(u>>63) // max(g, lo)
}

// regular decodes one sample in regular mode (T.87 A.4-A.6) for signed
// context q and the MED prediction px. It is the sample-interleaved path;
// decodeLine carries the same steps written out in its loop (with the bit
// cache in registers), and the stress test checks both against the
// reference decoders.
func (s *coder) regular(q, px int) int {
	sign := 1
	if q < 0 {
		sign = -1
		q = -q
	}
	c := &s.ctx[q]
	px = min(max(px+sign*int(c.c), 0), s.maxval)
	k := uint(c.k)
	if k > maxK {
		s.br.bad = true
		k = maxK
	}
	m := s.br.golomb(k, s.limitq, s.qbpp)
	e := (m>>1 ^ -(m & 1)) ^ int(c.flip)
	c.update(e, s.step, s.reset, s.lossless)
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

// golombK returns the smallest k with n<<k >= a (T.87 A.5.1), n >= 1,
// without a branch: n<<k, for the k that gives it the bit length of a, is
// either at least a or half as much.
func golombK(n, a int) uint {
	k := max(bits.Len(uint(a))-bits.Len(uint(n)), 0)
	if n<<(uint(k)&63) < a {
		k++
	}
	return uint(k)
}

// decodeLine decodes one line of one component. prev and cur hold width+2
// samples, x at index x+1; the edges prev[width+1] and cur[0] are set here.
//
// This is the hot loop. The regular mode is written out here with the bit
// cache and the parameters in local variables; the rare paths (a refill
// across a 0xFF byte, long codes, run mode) go through methods after the
// locals are written back. Decoding is a chain from each sample to the next
// (its value selects the next context), so the loop keeps that chain short:
// the quantised gradient D1 of one sample is D2 of the next, contexts carry
// their Golomb parameter ready for use, and lossless frames of 2^P values
// reduce modulo RANGE with a mask.
func (s *coder) decodeLine(prev, cur []int32, comp int) {
	w := s.width
	prev = prev[:w+2]
	cur = cur[:w+2]
	prev[w+1] = prev[w]
	cur[0] = prev[1]
	qt := s.qt[:]
	ctx := &s.ctx
	br := &s.br
	acc, nb := br.acc, br.n
	// only what the lossless path needs is held in locals (registers are
	// few); the near-lossless path reads the coder
	maxval, limitq := s.maxval, s.limitq
	mask := -1 // RANGE-1 when RANGE is 2^P and NEAR 0, else -1
	if s.near == 0 && s.rng&(s.rng-1) == 0 {
		mask = s.rng - 1
	}
	rb := int(prev[0])
	rd := int(prev[1])
	ra := int(cur[0])
	q1 := int(qt[rd-rb+qtOff])
	for x := 1; x <= w; {
		rc := rb
		rb = rd
		rd = int(prev[x+1])
		q2 := q1
		q1 = int(qt[rd-rb+qtOff])
		q := 81*q1 + 9*q2 + int(qt[rc+qtOff-ra])
		if q == 0 {
			br.acc, br.n = acc, nb
			x = s.runMode(prev, cur, x, ra, comp)
			acc, nb = br.acc, br.n
			ra = int(cur[x-1])
			rb = int(prev[x-1])
			rd = int(prev[min(x, w+1)])
			q1 = int(qt[rd-rb+qtOff])
			continue
		}
		// regular mode (T.87 A.4 to A.6); branch-free prediction and sign
		// handling (sgn is 0 or -1): both are unpredictable on noisy images
		px := predict(ra, rb, rc)
		sgn := q >> 63
		c := &ctx[(q^sgn)-sgn]
		px = min(max(px+(int(c.c)^sgn)-sgn, 0), maxval)
		fs := int(c.flip) ^ sgn
		k := uint(c.k)
		if nb < 40 {
			acc, nb = br.refill(acc, nb)
			if nb < 40 {
				br.acc, br.n = acc, nb
				br.fill()
				acc, nb = br.acc, br.n
			}
		}
		z := uint(bits.LeadingZeros64(acc))
		var m int
		if int(z) < limitq && z+1+k <= nb && k <= maxK {
			// the code is z zeros, a 1 and k bits: t>>(63-k) is 1<<k
			// plus those bits
			t := acc << (z & 63)
			m = (int(z)-1)<<k + int(t>>((63-k)&63))
			acc = t << 1 << (k & 63)
			nb -= z + 1 + k
		} else {
			br.acc, br.n = acc, nb
			if k > maxK {
				br.bad = true
				k = maxK
			}
			m = br.golomb(k, limitq, s.qbpp)
			acc, nb = br.acc, br.n
		}
		// es is the error with the context's sign applied but for the final
		// -sgn (A.5.2 mapping, flip and sign folded into one xor)
		es := m>>1 ^ (-(m & 1) ^ fs)
		if mask >= 0 {
			ra = (px - sgn + es) & mask
		} else {
			ra = s.reconstruct(px + (es-sgn)*s.step)
		}
		c.update(es^sgn, s.step, s.reset, s.lossless)
		cur[x] = int32(ra)
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
	fill(cur[x:x+n], int32(ra))
	x += n
	if interrupted {
		v := s.interruption(ra, int(prev[x]), ri, false)
		cur[x] = int32(v)
		x++
		if ri > 0 {
			ri--
		}
	}
	s.runIdx[comp] = ri
	return x
}

// fill sets every element of f to v.
func fill[T int8 | int32](f []T, v T) {
	n := min(len(f), 16)
	for i := range f[:n] {
		f[i] = v
	}
	for n < len(f) {
		n += copy(f[n:], f[:n])
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
