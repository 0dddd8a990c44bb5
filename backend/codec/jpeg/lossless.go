package jpeg

import (
	"fmt"

	"lightbox/backend/codec"
)

// setupLossless prepares the sample planes of a process 14 frame. Every
// component must have the same sampling factors: the planes are then all
// full size.
func (s *state) setupLossless() error {
	for i := 0; i < s.ncomp; i++ {
		c := &s.comps[i]
		if c.h != s.comps[0].h || c.v != s.comps[0].v {
			return fmt.Errorf("jpeg: %w: lossless with subsampled components", codec.ErrUnsupported)
		}
		c.w, c.h0, c.stride = s.width, s.height, s.width
		if s.ncomp == 1 {
			// Written straight into dst; the plane keeps two rows for the
			// prediction.
			s.direct = true
			c.plane = s.plane(i, 2*s.width)
		} else {
			c.plane = s.plane(i, s.width*s.height)
		}
	}
	return nil
}

// decodeLossless decodes one lossless scan (H.2) into the planes of its
// components. Samples are kept modulo 2^16, in the point-transformed domain.
func (s *state) decodeLossless() error {
	sel, pt := s.ss, s.al
	if sel > 7 {
		return corrupt("lossless selection value %d", sel)
	}
	if pt >= s.precision {
		return corrupt("point transform %d for precision %d", pt, s.precision)
	}
	for i := 0; i < s.ns; i++ {
		c := s.scomp[i]
		if !s.dc[c.td].present {
			return corrupt("scan uses undefined Huffman table %d", c.td)
		}
		if s.ns > 1 && (c.h != 1 || c.v != 1) {
			return fmt.Errorf("jpeg: %w: interleaved lossless scan with sampling %dx%d", codec.ErrUnsupported, c.h, c.v)
		}
	}
	if s.ns == 1 {
		return s.losslessOne(s.scomp[0], sel, pt)
	}
	return s.losslessMany(sel, pt)
}

// diff decodes one difference (H.1.2.2): SSSS 16 has no extra bits and
// stands for 32768.
func (r *bitReader) diff(t *huffTable) (int32, bool) {
	if r.n < 32 {
		r.fill()
	}
	if e := t.fastDiff[(r.acc>>(r.n-fastBits))&(fastSize-1)]; e != 0 {
		r.n -= uint(e & 0xFF)
		return e >> 8, true
	}
	ssss := r.decode(t)
	switch {
	case ssss < 16 && ssss >= 0:
		return r.receiveExtend(uint(ssss)), true
	case ssss == 16:
		return 32768, true
	}
	return 0, false
}

// predict returns the prediction of selection value sel from the sample to
// the left (ra), above (rb) and above-left (rc), for a sample that is
// neither in the first row nor in the first column of the scan or restart
// interval.
func predict(sel int, ra, rb, rc int32) int32 {
	switch sel {
	case 1:
		return ra
	case 2:
		return rb
	case 3:
		return rc
	case 4:
		return ra + rb - rc
	case 5:
		return ra + (rb-rc)>>1
	case 6:
		return rb + (ra-rc)>>1
	case 7:
		return (ra + rb) >> 1
	}
	return 0
}

// losslessOne decodes a single-component scan. It is the hot loop of the
// lossless processes: the bit buffer lives in locals, and the Huffman
// lookup and the extra bits need a single refill check per sample.
func (s *state) losslessOne(c *component, sel, pt int) error {
	br := &s.br
	tab := &s.dc[c.td]
	w, h := c.w, c.h0
	initial := int32(1) << (s.precision - pt - 1)
	plane := c.plane
	todo := s.restart // MCUs left in the restart interval
	first := true     // the row follows the start of the scan or a restart
	acc, n := br.acc, br.n
	for y := 0; y < h; y++ {
		var row, up []int32
		if s.direct {
			row, up = plane[(y&1)*w:][:w], plane[((y+1)&1)*w:][:w]
		} else {
			row = plane[y*w : y*w+w]
			up = row
			if y > 0 {
				up = plane[(y-1)*w : y*w]
			}
		}
		for x := 0; x < len(row); x++ {
			if s.restart > 0 {
				if todo == 0 {
					if x != 0 {
						return fmt.Errorf("jpeg: %w: lossless restart interval inside a row", codec.ErrUnsupported)
					}
					if err := br.restart(); err != nil {
						return err
					}
					acc, n = br.acc, br.n
					todo, first = s.restart, true
				}
				todo--
			}
			if n < 32 {
				br.acc, br.n = acc, n
				br.fill()
				acc, n = br.acc, br.n
			}
			var d int32
			if e := tab.fastDiff[(acc>>(n-fastBits))&(fastSize-1)]; e != 0 {
				n -= uint(e & 0xFF)
				d = e >> 8
			} else {
				br.acc, br.n = acc, n
				t := br.decode(tab)
				acc, n = br.acc, br.n
				switch {
				case t < 0 || t > 16:
					return corrupt("bad Huffman code at row %d", y)
				case t == 16:
					d = 32768
				case t > 0:
					ssss := uint(t)
					n -= ssss
					d = int32(acc>>n) & (1<<ssss - 1)
					if d < 1<<(ssss-1) {
						d += -1<<ssss + 1
					}
				}
			}
			var pred int32
			switch {
			case x > 0 && !first:
				if sel == 1 {
					pred = row[x-1]
				} else {
					pred = predict(sel, row[x-1], up[x], up[x-1])
				}
			case x == 0 && first:
				pred = initial
			case first:
				pred = row[x-1]
			default:
				pred = up[0]
			}
			row[x] = (pred + d) & 0xFFFF
		}
		if s.direct {
			s.storeRow(row, y, pt)
		}
		first = false
		if br.zeros > 0 {
			br.n = n
			if br.overrun() {
				return corrupt("scan data ends at row %d", y)
			}
		}
	}
	br.acc, br.n = acc, n
	return nil
}

// storeRow writes row y of a single-component lossless image into dst.
func (s *state) storeRow(row []int32, y, pt int) {
	w := len(row)
	if s.wide {
		o := s.dst[2*y*w : 2*(y+1)*w]
		for x, v := range row {
			v <<= pt
			o[2*x] = byte(v)
			o[2*x+1] = byte(v >> 8)
		}
		return
	}
	o := s.dst[y*w : (y+1)*w]
	for x, v := range row {
		o[x] = byte(v << pt)
	}
}

// losslessMany decodes an interleaved scan: each MCU holds one sample of
// every component of the scan.
func (s *state) losslessMany(sel, pt int) error {
	br := &s.br
	w, h := s.width, s.height
	initial := int32(1) << (s.precision - pt - 1)
	todo := s.restart
	first := true
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if s.restart > 0 {
				if todo == 0 {
					if x != 0 {
						return fmt.Errorf("jpeg: %w: lossless restart interval inside a row", codec.ErrUnsupported)
					}
					if err := br.restart(); err != nil {
						return err
					}
					todo, first = s.restart, true
				}
				todo--
			}
			i := y*w + x
			for k := 0; k < s.ns; k++ {
				c := s.scomp[k]
				d, ok := br.diff(&s.dc[c.td])
				if !ok {
					return corrupt("bad Huffman code at row %d", y)
				}
				pl := c.plane
				var pred int32
				switch {
				case x == 0 && first:
					pred = initial
				case first:
					pred = pl[i-1]
				case x == 0:
					pred = pl[i-w]
				default:
					pred = predict(sel, pl[i-1], pl[i-w], pl[i-w-1])
				}
				pl[i] = (pred + d) & 0xFFFF
			}
		}
		first = false
		if br.overrun() {
			return corrupt("scan data ends at row %d", y)
		}
	}
	return nil
}
