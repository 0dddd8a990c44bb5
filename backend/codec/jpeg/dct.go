package jpeg

import (
	"math"
)

// zigzag maps the zig-zag index of a coefficient to its natural index; the
// extra entries absorb out-of-range run lengths of corrupt data.
var zigzag = [64 + 16]uint8{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
}

// setupDCT sizes the component planes of a DCT frame, padded to whole MCUs.
func (s *state) setupDCT() error {
	s.mcux = (s.width + 8*s.hmax - 1) / (8 * s.hmax)
	s.mcuy = (s.height + 8*s.vmax - 1) / (8 * s.vmax)
	for i := 0; i < s.ncomp; i++ {
		c := &s.comps[i]
		c.w = (s.width*c.h + s.hmax - 1) / s.hmax
		c.h0 = (s.height*c.v + s.vmax - 1) / s.vmax
		c.bw, c.bh = s.mcux*c.h, s.mcuy*c.v
		c.stride = c.bw * 8
		if !s.direct {
			c.plane = s.plane(i, c.stride*c.bh*8)
		}
		if s.sof == mSOF2 {
			n := c.bw * c.bh * 64
			b := s.coefPool[i]
			if cap(b) < n {
				b = make([]int32, n)
				s.coefPool[i] = b
			}
			c.coef = b[:n]
			clear(c.coef)
		}
	}
	return nil
}

// decodeDCTScan decodes one scan of a sequential or progressive frame.
func (s *state) decodeDCTScan() error {
	prog := s.sof == mSOF2
	if prog {
		if s.ss > s.se || s.se > 63 || s.ss == 0 && s.se != 0 || s.ss > 0 && s.ns != 1 || s.al > 13 || s.ah > 13 {
			return corrupt("progressive scan Ss=%d Se=%d Ah=%d Al=%d", s.ss, s.se, s.ah, s.al)
		}
	}
	// Sequential scans ignore Ss, Se, Ah and Al (some encoders write
	// wrong values there).
	for i := 0; i < s.ns; i++ {
		c := s.scomp[i]
		c.pred = 0
		needDC := !prog || s.ss == 0 && s.ah == 0
		needAC := !prog || s.ss > 0
		if needDC && !s.dc[c.td].present || needAC && !s.ac[c.ta].present {
			return corrupt("scan uses an undefined Huffman table")
		}
		if !prog && !s.qset[c.tq] {
			return corrupt("component uses undefined quantisation table %d", c.tq)
		}
	}
	s.eobrun = 0
	var blk [64]int32
	mcu := func(c *component, bx, by int) error {
		if !prog {
			if err := s.decodeBlock(c, &blk); err != nil {
				return err
			}
			s.storeBlock(c, &blk, bx, by)
			return nil
		}
		return s.decodeProgressive(c, c.coef[(by*c.bw+bx)*64:][:64])
	}
	todo := s.restart
	restart := func() error {
		if s.restart == 0 {
			return nil
		}
		if todo == 0 {
			if err := s.br.restart(); err != nil {
				return err
			}
			for i := 0; i < s.ns; i++ {
				s.scomp[i].pred = 0
			}
			s.eobrun = 0
			todo = s.restart
		}
		todo--
		return nil
	}
	if s.ns == 1 {
		c := s.scomp[0]
		nx, ny := (c.w+7)/8, (c.h0+7)/8
		for by := 0; by < ny; by++ {
			if s.br.overrun() {
				return corrupt("scan data ends at block row %d", by)
			}
			for bx := 0; bx < nx; bx++ {
				if err := restart(); err != nil {
					return err
				}
				if err := mcu(c, bx, by); err != nil {
					return err
				}
			}
		}
	} else {
		for my := 0; my < s.mcuy; my++ {
			if s.br.overrun() {
				return corrupt("scan data ends at MCU row %d", my)
			}
			for mx := 0; mx < s.mcux; mx++ {
				if err := restart(); err != nil {
					return err
				}
				for i := 0; i < s.ns; i++ {
					c := s.scomp[i]
					for v := 0; v < c.v; v++ {
						for h := 0; h < c.h; h++ {
							if err := mcu(c, mx*c.h+h, my*c.v+v); err != nil {
								return err
							}
						}
					}
				}
			}
		}
	}
	return nil
}

// decodeBlock decodes the quantised coefficients of one sequential block
// into blk, in natural order. It is the hot loop of the lossy processes: the
// bit buffer lives in locals, one refill check serves a Huffman code and its
// extra bits, and short codes with their extra bits come from fastAC.
func (s *state) decodeBlock(c *component, blk *[64]int32) error {
	*blk = [64]int32{}
	br := &s.br
	t := br.decode(&s.dc[c.td])
	if t < 0 || t > 16 {
		return corrupt("bad DC code")
	}
	c.pred += br.receiveExtend(uint(t))
	blk[0] = c.pred
	ac := &s.ac[c.ta]
	acc, n := br.acc, br.n
	for k := 1; k < 64; {
		if n < 32 {
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
		peek := (acc >> (n - fastBits)) & (fastSize - 1)
		if e := ac.fastAC[peek]; e != 0 {
			n -= uint(e & 0xFF)
			k += int(e>>8) & 15
			if k > 63 {
				return corrupt("AC run past the block")
			}
			blk[zigzag[k]] = e >> 16
			k++
			continue
		}
		var rs int32
		if e := ac.fast[peek]; e != 0 {
			n -= uint(e >> 8)
			rs = int32(e & 0xFF)
		} else {
			br.acc, br.n = acc, n
			rs = br.decodeSlow(ac)
			acc, n = br.acc, br.n
			if rs < 0 {
				return corrupt("bad AC code")
			}
		}
		r, sz := int(rs>>4), uint(rs&15)
		if sz == 0 {
			if r != 15 {
				break
			}
			k += 16
			continue
		}
		k += r
		if k > 63 {
			return corrupt("AC run past the block")
		}
		n -= sz
		v := int32(acc>>n) & (1<<sz - 1)
		if v < 1<<(sz-1) {
			v += -1<<sz + 1
		}
		blk[zigzag[k]] = v
		k++
	}
	br.acc, br.n = acc, n
	return nil
}

// decodeProgressive decodes the part of block b (zig-zag order is kept in
// natural positions) carried by the current progressive scan (G.1.2).
func (s *state) decodeProgressive(c *component, b []int32) error {
	br := &s.br
	al := uint(s.al)
	if s.ss == 0 { // DC scans
		if s.ah == 0 {
			t := br.decode(&s.dc[c.td])
			if t < 0 || t > 16 {
				return corrupt("bad DC code")
			}
			c.pred += br.receiveExtend(uint(t))
			b[0] = c.pred << al
		} else if br.bit() != 0 {
			b[0] |= 1 << al
		}
		return nil
	}
	ac := &s.ac[c.ta]
	if s.ah == 0 { // first AC scan
		if s.eobrun > 0 {
			s.eobrun--
			return nil
		}
		for k := s.ss; k <= s.se; {
			rs := br.decode(ac)
			if rs < 0 {
				return corrupt("bad AC code")
			}
			r, sz := int(rs>>4), uint(rs&15)
			if sz == 0 {
				if r < 15 {
					s.eobrun = 1<<r - 1
					if r > 0 {
						s.eobrun += int(br.bits(uint(r)))
					}
					break
				}
				k += 16
				continue
			}
			k += r
			if k > s.se {
				return corrupt("AC run past the band")
			}
			b[zigzag[k]] = br.receiveExtend(sz) << al
			k++
		}
		return nil
	}
	// AC refinement scan.
	p1, m1 := int32(1)<<al, int32(-1)<<al
	refine := func(z *int32) {
		if *z != 0 && br.bit() != 0 && *z&p1 == 0 {
			if *z >= 0 {
				*z += p1
			} else {
				*z += m1
			}
		}
	}
	k := s.ss
	if s.eobrun == 0 {
		for ; k <= s.se; k++ {
			rs := br.decode(ac)
			if rs < 0 {
				return corrupt("bad AC code")
			}
			r, sz := int(rs>>4), rs&15
			var val int32
			if sz != 0 {
				if br.bit() != 0 {
					val = p1
				} else {
					val = m1
				}
			} else if r != 15 {
				s.eobrun = 1 << r
				if r > 0 {
					s.eobrun += int(br.bits(uint(r)))
				}
				break
			}
			// Refine the nonzero coefficients up to the r+1-th zero one.
			for ; k <= s.se; k++ {
				z := &b[zigzag[k]]
				if *z != 0 {
					refine(z)
					continue
				}
				if r == 0 {
					break
				}
				r--
			}
			if val != 0 {
				if k > s.se {
					return corrupt("AC refinement past the band")
				}
				b[zigzag[k]] = val
			}
		}
	}
	if s.eobrun > 0 {
		for ; k <= s.se; k++ {
			refine(&b[zigzag[k]])
		}
		s.eobrun--
	}
	return nil
}

// finishProgressive transforms every block of a progressive frame once
// all its scans are read.
func (s *state) finishProgressive() error {
	var blk [64]int32
	for i := 0; i < s.ncomp; i++ {
		c := &s.comps[i]
		if !s.qset[c.tq] {
			return corrupt("component uses undefined quantisation table %d", c.tq)
		}
		for by := 0; by < c.bh; by++ {
			for bx := 0; bx < c.bw; bx++ {
				copy(blk[:], c.coef[(by*c.bw+bx)*64:][:64])
				s.storeBlock(c, &blk, bx, by)
			}
		}
	}
	return nil
}

// storeBlock computes the samples of block (bx, by) of component c: into
// its plane, or, for a single-component image, straight into dst.
func (s *state) storeBlock(c *component, blk *[64]int32, bx, by int) {
	if !s.direct {
		idct(blk, &s.qf[c.tq], c.plane[by*8*c.stride+bx*8:], c.stride, s.precision)
		return
	}
	var tmp [64]int32
	idct(blk, &s.qf[c.tq], tmp[:], 8, s.precision)
	x0, y0 := bx*8, by*8
	w, h := min(8, s.width-x0), min(8, s.height-y0)
	if w <= 0 || h <= 0 {
		return // padding of the last MCU
	}
	for y := 0; y < h; y++ {
		src := tmp[8*y : 8*y+w]
		i := (y0+y)*s.width + x0
		if s.wide {
			o := s.dst[2*i : 2*i+2*w]
			for x, v := range src {
				o[2*x] = byte(v)
				o[2*x+1] = byte(v >> 8)
			}
		} else {
			o := s.dst[i : i+w]
			for x, v := range src {
				o[x] = byte(v)
			}
		}
	}
}

// aanScale[k] = sqrt(2)*cos(k*pi/16) (1 for k = 0): the scaling that the
// factorisation of Arai, Agui and Nakajima leaves to the dequantisation.
var aanScale = func() (t [8]float64) {
	for k := range t {
		t[k] = 1
		if k > 0 {
			t[k] = math.Sqrt2 * math.Cos(float64(k)*math.Pi/16)
		}
	}
	return
}()

// setIDCTTable derives the float dequantisation table of quantisation
// table tq (natural order, with the AAN scale and the final 1/8 folded in).
func (s *state) setIDCTTable(tq int) {
	for k := 0; k < 64; k++ {
		n := zigzag[k]
		s.qf[tq][n] = float32(float64(s.quant[tq][k]) * aanScale[n/8] * aanScale[n%8] / 8)
	}
}

// Constants of the AAN factorisation.
const (
	sqrt2  = 1.414213562 // 2*cos(pi/4)
	c2x2   = 1.847759065 // 2*cos(pi/8)
	c2mc6  = 1.082392200 // 2*(cos(pi/8)-cos(3pi/8))
	c2pc6  = 2.613125930 // 2*(cos(pi/8)+cos(3pi/8))
	fShift = 0.5         // rounding
)

// idct1 is the 8-point AAN inverse DCT of eight scaled inputs.
func idct1(i0, i1, i2, i3, i4, i5, i6, i7 float32) (o0, o1, o2, o3, o4, o5, o6, o7 float32) {
	// Even part.
	a0, a1 := i0+i4, i0-i4
	a3 := i2 + i6
	a2 := (i2-i6)*sqrt2 - a3
	e0, e3 := a0+a3, a0-a3
	e1, e2 := a1+a2, a1-a2
	// Odd part.
	z13, z10 := i5+i3, i5-i3
	z11, z12 := i1+i7, i1-i7
	p7 := z11 + z13
	b11 := (z11 - z13) * sqrt2
	z5 := (z10 + z12) * c2x2
	b10 := z5 - z12*c2mc6
	b12 := z5 - z10*c2pc6
	p6 := b12 - p7
	p5 := b11 - p6
	p4 := b10 - p5
	return e0 + p7, e1 + p6, e2 + p5, e3 + p4, e3 - p4, e2 - p5, e1 - p6, e0 - p7
}

// idct dequantises the coefficients of a block (natural order) with the
// float table qf, computes the inverse DCT, level-shifts and clamps the
// samples to the precision and stores them in out (row stride stride).
func idct(blk *[64]int32, qf *[64]float32, out []int32, stride, precision int) {
	maxv := int32(1)<<precision - 1
	shift := float32(int32(1)<<(precision-1)) + fShift
	var ac int32
	for _, v := range blk[1:] {
		ac |= v
	}
	if ac == 0 { // a flat block: common in air and padding
		v := clampRound(float32(blk[0])*qf[0]+shift, maxv)
		for y := 0; y < 8; y++ {
			o := out[y*stride : y*stride+8]
			o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7] = v, v, v, v, v, v, v, v
		}
		return
	}
	var ws [64]float32
	for u := 0; u < 8; u++ {
		if blk[8+u]|blk[16+u]|blk[24+u]|blk[32+u]|blk[40+u]|blk[48+u]|blk[56+u] == 0 {
			dc := float32(blk[u]) * qf[u]
			for y := 0; y < 8; y++ {
				ws[8*y+u] = dc
			}
			continue
		}
		o0, o1, o2, o3, o4, o5, o6, o7 := idct1(
			float32(blk[u])*qf[u], float32(blk[8+u])*qf[8+u], float32(blk[16+u])*qf[16+u], float32(blk[24+u])*qf[24+u],
			float32(blk[32+u])*qf[32+u], float32(blk[40+u])*qf[40+u], float32(blk[48+u])*qf[48+u], float32(blk[56+u])*qf[56+u])
		ws[u], ws[8+u], ws[16+u], ws[24+u], ws[32+u], ws[40+u], ws[48+u], ws[56+u] = o0, o1, o2, o3, o4, o5, o6, o7
	}
	for y := 0; y < 8; y++ {
		r := ws[8*y : 8*y+8]
		o := out[y*stride : y*stride+8]
		o0, o1, o2, o3, o4, o5, o6, o7 := idct1(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])
		o[0] = clampRound(o0+shift, maxv)
		o[1] = clampRound(o1+shift, maxv)
		o[2] = clampRound(o2+shift, maxv)
		o[3] = clampRound(o3+shift, maxv)
		o[4] = clampRound(o4+shift, maxv)
		o[5] = clampRound(o5+shift, maxv)
		o[6] = clampRound(o6+shift, maxv)
		o[7] = clampRound(o7+shift, maxv)
	}
}

// clampRound converts a sample that already holds the rounding offset,
// clamping it to [0, maxv]. Truncation towards zero is right for the
// values it keeps: they are positive.
func clampRound(v float32, maxv int32) int32 {
	i := int32(v)
	if uint32(i) > uint32(maxv) {
		if v < 0 {
			return 0
		}
		return maxv
	}
	return i
}
