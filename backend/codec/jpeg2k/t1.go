package jpeg2k

//go:generate go run gen_t1.go

// Tier-1: the three coding passes of T.800 Annex D on one code-block.
//
// State layout. A code-block is scanned in stripes of four rows, and each
// column of a stripe has one uint32 state word. The words form a grid with
// a border of one word on every side (a stripe above and below, a column
// left and right), so that marking a sample significant updates its
// neighbours' words without bounds tests:
//
//	bits 0-17   significance in the 6x3 window around the column: rows -1
//	            to 4 of the stripe (i = row+1) by columns x-1, x, x+1
//	            (j = 0, 1, 2), at bit 3*i+j. The 3x3 neighbourhood of row
//	            r is then the 9 bits from bit 3*r, the sample itself at 4.
//	bits 18-23  sign (1 = negative) of the column's own rows -1 to 4
//	bits 24-27  visited by this bit-plane's significance pass, rows 0-3
//	bits 28-31  refined at least once, rows 0-3
//
// In vertically causal mode the rows below a stripe are never recorded
// (bits of row 4 stay 0), which is exactly what that mode asks for.
//
// Magnitudes are kept beside the words, four per word (one per row), at
// twice their value plus the reconstruction half-bit, so that truncated
// bit-planes reconstruct at mid-interval; signs stay in the words.

// Code-block style bits (SPcod).
const (
	cbBypass  = 0x01
	cbReset   = 0x02
	cbTermAll = 0x04
	cbCausal  = 0x08
	cbPredict = 0x10
	cbSegSym  = 0x20
)

// State word bits.
const (
	wSigAll = 1<<18 - 1                   // the whole significance window
	wOwnSig = 1<<4 | 1<<7 | 1<<10 | 1<<13 // the column's own rows 0-3
	wChi    = 18                          // sign of row -1; row r at wChi+r+1
	wPi     = 24                          // visited, row r at wPi+r
	wPiAll  = 0xF << wPi                  //
	wMu     = 28                          // refined, row r at wMu+r
	nbMask  = 0x1FF &^ 0x10               // a 3x3 window without its centre
)

// zcLUT gives the significance-coding context for each orientation and 3x3
// significance window (bit 3*i+j for row i, column j; T.800 Table D.1).
// signLUT gives ctx<<1 | xor-bit for the sign (Table D.3), indexed by
// signIndex.
var (
	zcLUT   = makeZCLUT()
	signLUT = makeSignLUT()
)

func makeZCLUT() (t [4][512]uint8) {
	for o := 0; o < 4; o++ {
		for win := 0; win < 512; win++ {
			bit := func(i, j int) int { return win >> (3*i + j) & 1 }
			h := bit(1, 0) + bit(1, 2)
			v := bit(0, 1) + bit(2, 1)
			d := bit(0, 0) + bit(0, 2) + bit(2, 0) + bit(2, 2)
			var ctx int
			if o == bandHH {
				hv := h + v
				switch {
				case d >= 3:
					ctx = 8
				case d == 2:
					ctx = 6
					if hv >= 1 {
						ctx = 7
					}
				case d == 1:
					ctx = 3 + min(hv, 2)
				default:
					ctx = min(hv, 2)
				}
			} else {
				if o == bandHL {
					h, v = v, h
				}
				switch {
				case h == 2:
					ctx = 8
				case h == 1:
					switch {
					case v >= 1:
						ctx = 7
					case d >= 1:
						ctx = 6
					default:
						ctx = 5
					}
				default:
					switch {
					case v == 2:
						ctx = 4
					case v == 1:
						ctx = 3
					default:
						ctx = min(d, 2)
					}
				}
			}
			t[o][win] = uint8(ctx)
		}
	}
	return t
}

// signIndex gathers, for row r of the column with word f (left and right
// neighbours' words fw, fe), the significance of the N, S, W, E neighbours
// (bits 0-3) and their signs (bits 4-7).
func signIndex(f, fw, fe uint32, r uint) uint8 {
	w := f >> (3 * r)
	return uint8(w>>1&1 | w>>6&2 | w>>1&4 | w>>2&8 |
		(f>>(wChi+r)&1)<<4 | (f>>(wChi+r+2)&1)<<5 | (fw>>(wChi+r+1)&1)<<6 | (fe>>(wChi+r+1)&1)<<7)
}

func makeSignLUT() (t [256]uint8) {
	for i := 0; i < 256; i++ {
		contrib := func(k int) int {
			if i>>k&1 == 0 {
				return 0
			}
			if i>>(k+4)&1 != 0 {
				return -1
			}
			return 1
		}
		v := contrib(0) + contrib(1) // N, S
		h := contrib(2) + contrib(3) // W, E
		h, v = max(-1, min(1, h)), max(-1, min(1, v))
		var ctx, x int
		switch {
		case h == 1:
			ctx = [3]int{11, 12, 13}[v+1]
		case h == 0:
			ctx = [3]int{10, 9, 10}[v+1]
			if v == -1 {
				x = 1
			}
		default:
			ctx = [3]int{13, 12, 11}[v+1]
			x = 1
		}
		t[i] = uint8(ctx<<1 | x)
	}
	return t
}

// markSig records in the neighbours' words that row r of column k became
// significant (the caller updates the column's own word). st is the column
// stride.
func markSig(cols []t1Col, k, st int, r uint, neg uint32, causal bool) {
	cols[k-1].f |= 1 << (3*r + 5)
	cols[k+1].f |= 1 << (3*r + 3)
	if r == 0 && !causal {
		u := k - st
		cols[u-1].f |= 1 << 17
		cols[u].f |= 1<<16 | neg<<(wChi+5)
		cols[u+1].f |= 1 << 15
	} else if r == 3 {
		d := k + st
		cols[d-1].f |= 1 << 2
		cols[d].f |= 1<<1 | neg<<wChi
		cols[d+1].f |= 1
	}
}

// t1Col is the tier-1 state of one stripe column: its state word and the
// magnitudes of its four rows, side by side in memory.
type t1Col struct {
	f uint32
	m [4]uint32
}

// t1Scratch is one worker's tier-1 state, reused from code-block to
// code-block.
type t1Scratch struct {
	mq     mqRegs
	cx     mqContexts
	raw    rawDecoder
	buf    []byte  // the current segment, then 0xFF 0xFF
	cols   []t1Col // (stripes+2) x stride
	nsig   []int   // significant samples per stripe (with a border entry at each end)
	w, h   int
	stride int       // w + 2
	one    uint32    // the magnitude of a sample that becomes significant
	radd   [2]uint32 // what a refinement bit 0 or 1 adds to a magnitude
	up     uint32    // 0 in vertically causal mode, else 1
}

func (s *t1Scratch) reset(w, h int) {
	s.w, s.h, s.stride = w, h, w+2
	n := ((h+3)/4 + 2) * s.stride
	if cap(s.cols) < n {
		s.cols = make([]t1Col, n)
	} else {
		s.cols = s.cols[:n]
		clear(s.cols)
	}
	ns := (h+3)/4 + 2
	if cap(s.nsig) < ns {
		s.nsig = make([]int, ns)
	} else {
		s.nsig = s.nsig[:ns]
		clear(s.nsig)
	}
	// Rows past the end of the code-block in its last stripe are marked
	// visited for good: the MQ passes, which always handle four rows, then
	// leave them alone (the cleanup pass clears only existing rows' bits).
	if rem := h % 4; rem != 0 {
		base := (h + 3) / 4 * s.stride
		ph := uint32(0xF<<(wPi+rem)) & wPiAll
		for x := 1; x <= w; x++ {
			s.cols[base+x].f = ph
		}
	}
}

// full is the number of samples of stripe si (1 for the first).
func (s *t1Scratch) full(si int) int {
	return s.w * min(4, s.h-4*(si-1))
}

// gather copies the chunks of one segment into s.buf and appends the two
// 0xFF bytes the MQ decoder relies on.
func (s *t1Scratch) gather(chunks []chunk) []byte {
	s.buf = s.buf[:0]
	for _, ch := range chunks {
		s.buf = append(s.buf, ch.data...)
	}
	s.buf = append(s.buf, 0xFF, 0xFF)
	return s.buf
}

// decodeBlock runs the coding passes of cb; the result stays in s.cols
// (see store).
func (s *t1Scratch) decodeBlock(cb *codeblock, orient int, style uint8, mb, roi int) {
	w, h := cb.x1-cb.x0, cb.y1-cb.y0
	s.reset(w, h)
	p := mb + roi - cb.zbp - 1
	if p < 0 || cb.passes == 0 {
		return
	}
	s.cx.reset()
	causal := style&cbCausal != 0
	s.up = 1
	if causal {
		s.up = 0
	}
	lut := &zcLUT[orient]
	passType := 2 // 0 significance, 1 refinement, 2 cleanup
	passIdx := 0
	ci := 0
	for si := range cb.segs {
		sg := &cb.segs[si]
		n := 0
		for ci+n < len(cb.chunks) && cb.chunks[ci+n].seg == si {
			n++
		}
		buf := s.gather(cb.chunks[ci : ci+n])
		ci += n
		raw := style&cbBypass != 0 && passIdx >= 10 && passType != 2
		if raw {
			s.raw.init(buf[:len(buf)-2])
		} else {
			s.mq.init(buf)
		}
		for k := 0; k < sg.passes; k++ {
			if p < 0 {
				return
			}
			switch {
			case passType == 0 && raw:
				s.sigPassRaw(uint(p), causal)
			case passType == 0:
				s.sigPass(lut, uint(p))
			case passType == 1 && raw:
				s.refPassRaw(uint(p))
			case passType == 1:
				s.refPass(uint(p))
			default:
				s.cleanPass(lut, uint(p))
				if style&cbSegSym != 0 {
					for i := 0; i < 4; i++ {
						s.mq.decide(&s.cx[ctxUNI], s.buf)
					}
				}
			}
			if style&cbReset != 0 {
				s.cx.reset()
			}
			passType++
			if passType == 3 {
				passType = 0
				p--
			}
			passIdx++
		}
	}
}

// byteIn is mqByteIn at the saved position, for the passes, which keep
// only A, C and CT in locals.
func (s *t1Scratch) byteIn(c uint32) (uint32, uint32) {
	var ct uint32
	s.mq.pos, c, ct = mqByteIn(s.buf, s.mq.pos, c)
	return c, ct
}

// decide is mqDecide at the saved position.
func (s *t1Scratch) decide(cs *uint8, a, c, ct uint32) (d, a2, c2, ct2 uint32) {
	d, a, c, ct, s.mq.pos = mqDecide(cs, a, c, ct, s.mq.pos, s.buf)
	return d, a, c, ct
}

// runEnd finishes a run-length decision of the cleanup pass that found a
// significant sample in the column at word k: two uniform decisions say
// which row, a third its sign. The rows before it are marked visited, so
// that the rest of the column's cleanup skips them (the pass clears the
// visited bits when it leaves the column).
func (s *t1Scratch) runEnd(f uint32, k int, a, c, ct uint32) (uint32, uint32, uint32, uint32) {
	var r0, r1, sd uint32
	r0, a, c, ct = s.decide(&s.cx[ctxUNI], a, c, ct)
	r1, a, c, ct = s.decide(&s.cx[ctxUNI], a, c, ct)
	r := uint(r0<<1 | r1)
	cols := s.cols
	sl := signLUT[signIndex(f, cols[k-1].f, cols[k+1].f, r)]
	sd, a, c, ct = s.decide(&s.cx[sl>>1], a, c, ct)
	neg := sd ^ uint32(sl&1)
	f |= 1<<(3*r+4) | neg<<(wChi+r+1) | (1<<r-1)<<wPi
	cols[k].m[r&3] = s.one
	s.nsig[k/s.stride]++
	markSig(cols, k, s.stride, r, neg, s.up == 0)
	return f, a, c, ct
}

// sigPassRaw is the significance pass of a bypass (raw) segment.
func (s *t1Scratch) sigPassRaw(p uint, causal bool) {
	cols := s.cols
	st := s.stride
	one := uint32(3) << p
	for y0, k0 := 0, st+1; y0 < s.h; y0, k0 = y0+4, k0+st {
		rows := uint(min(4, s.h-y0))
		for k := k0; k < k0+s.w; k++ {
			f := cols[k].f
			for r := uint(0); r < rows; r++ {
				win := f >> (3 * r) & 0x1FF
				if win&0x10 != 0 || win == 0 {
					continue
				}
				f |= 1 << (wPi + r)
				if s.raw.decode() != 0 {
					neg := s.raw.decode()
					f |= 1<<(3*r+4) | neg<<(wChi+r+1)
					markSig(cols, k, st, r, neg, causal)
					cols[k].m[r&3] = one
					s.nsig[k/st]++
				}
			}
			cols[k].f = f
		}
	}
}

// refPassRaw is the refinement pass of a bypass (raw) segment.
func (s *t1Scratch) refPassRaw(p uint) {
	cols := s.cols
	st := s.stride
	half := uint32(1) << p
	for y0, k0 := 0, st+1; y0 < s.h; y0, k0 = y0+4, k0+st {
		rows := uint(min(4, s.h-y0))
		for k := k0; k < k0+s.w; k++ {
			f := cols[k].f
			for r := uint(0); r < rows; r++ {
				if f>>(3*r+4)&1 == 0 || f>>(wPi+r)&1 != 0 {
					continue
				}
				cols[k].m[r&3] += s.raw.decode()<<(p+1) - half
				f |= 1 << (wMu + r)
			}
			cols[k].f = f
		}
	}
}
