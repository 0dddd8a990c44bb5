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
		c.plane = s.plane(i, c.stride*c.bh*8)
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
			idct(&blk, c.plane[by*8*c.stride+bx*8:], c.stride, s.precision)
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

// decodeBlock decodes and dequantises the coefficients of one sequential
// block into blk, in natural order.
func (s *state) decodeBlock(c *component, blk *[64]int32) error {
	*blk = [64]int32{}
	br := &s.br
	q := &s.quant[c.tq]
	t := br.decode(&s.dc[c.td])
	if t < 0 || t > 16 {
		return corrupt("bad DC code")
	}
	c.pred += br.receiveExtend(uint(t))
	blk[0] = c.pred * q[0]
	ac := &s.ac[c.ta]
	for k := 1; k < 64; {
		rs := br.decode(ac)
		if rs < 0 {
			return corrupt("bad AC code")
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
		blk[zigzag[k]] = br.receiveExtend(sz) * q[k]
		k++
	}
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

// finishProgressive dequantises and transforms every block of a
// progressive frame once all its scans are read.
func (s *state) finishProgressive() error {
	var blk [64]int32
	for i := 0; i < s.ncomp; i++ {
		c := &s.comps[i]
		if !s.qset[c.tq] {
			return corrupt("component uses undefined quantisation table %d", c.tq)
		}
		q := &s.quant[c.tq]
		for by := 0; by < c.bh; by++ {
			for bx := 0; bx < c.bw; bx++ {
				b := c.coef[(by*c.bw+bx)*64:][:64]
				for k := 0; k < 64; k++ {
					n := zigzag[k]
					blk[n] = b[n] * q[k]
				}
				idct(&blk, c.plane[by*8*c.stride+bx*8:], c.stride, s.precision)
			}
		}
	}
	return nil
}

// idctCos[x][u] = C(u)/2 * cos((2x+1)u*pi/16) for x < 4: the other half
// follows by symmetry.
var idctCos = func() (t [4][8]float32) {
	for x := 0; x < 4; x++ {
		for u := 0; u < 8; u++ {
			c := 0.5
			if u == 0 {
				c = 0.5 / math.Sqrt2
			}
			t[x][u] = float32(c * math.Cos(float64((2*x+1)*u)*math.Pi/16))
		}
	}
	return
}()

// idct computes the inverse DCT of a dequantised block (natural order),
// level-shifts and clamps it to the precision, and stores it in out
// (row stride stride).
func idct(blk *[64]int32, out []int32, stride, precision int) {
	var tmp [64]float32
	// Columns.
	for u := 0; u < 8; u++ {
		if blk[8+u]|blk[16+u]|blk[24+u]|blk[32+u]|blk[40+u]|blk[48+u]|blk[56+u] == 0 {
			dc := float32(blk[u]) * idctCos[0][0]
			for y := 0; y < 8; y++ {
				tmp[8*y+u] = dc
			}
			continue
		}
		i0, i1, i2, i3 := float32(blk[u]), float32(blk[8+u]), float32(blk[16+u]), float32(blk[24+u])
		i4, i5, i6, i7 := float32(blk[32+u]), float32(blk[40+u]), float32(blk[48+u]), float32(blk[56+u])
		for y := 0; y < 4; y++ {
			c := &idctCos[y]
			e := i0*c[0] + i2*c[2] + i4*c[4] + i6*c[6]
			o := i1*c[1] + i3*c[3] + i5*c[5] + i7*c[7]
			tmp[8*y+u] = e + o
			tmp[8*(7-y)+u] = e - o
		}
	}
	// Rows, level shift, rounding and clamping.
	maxv := float32(int32(1)<<precision - 1)
	shift := float32(int32(1)<<(precision-1)) + 0.5
	for y := 0; y < 8; y++ {
		r := tmp[8*y : 8*y+8]
		o := out[y*stride : y*stride+8]
		i0, i1, i2, i3, i4, i5, i6, i7 := r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]
		for x := 0; x < 4; x++ {
			c := &idctCos[x]
			e := i0*c[0] + i2*c[2] + i4*c[4] + i6*c[6]
			od := i1*c[1] + i3*c[3] + i5*c[5] + i7*c[7]
			o[x] = clampRound(e+od+shift, maxv)
			o[7-x] = clampRound(e-od+shift, maxv)
		}
	}
}

func clampRound(v, maxv float32) int32 {
	if v <= 0 {
		return 0
	}
	if v >= maxv {
		return int32(maxv)
	}
	return int32(v)
}
