package jpeg2k

// Tier-1: the three coding passes of T.800 Annex D on one code-block.

// Code-block style bits (SPcod).
const (
	cbBypass  = 0x01
	cbReset   = 0x02
	cbTermAll = 0x04
	cbCausal  = 0x08
	cbPredict = 0x10
	cbSegSym  = 0x20
)

// Per-sample state flags. The low byte says which of the 8 neighbours are
// significant; the next nibble gives the signs of the 4 direct ones.
const (
	fN  = 1 << 0
	fS  = 1 << 1
	fW  = 1 << 2
	fE  = 1 << 3
	fNW = 1 << 4
	fNE = 1 << 5
	fSW = 1 << 6
	fSE = 1 << 7

	fNneg = 1 << 8
	fSneg = 1 << 9
	fWneg = 1 << 10
	fEneg = 1 << 11

	fSig     = 1 << 12
	fVisit   = 1 << 13
	fRefined = 1 << 14

	// neighbours in the next stripe, ignored in vertically causal mode
	causalMask = fS | fSW | fSE | fSneg
)

// zcLUT gives the significance context for each orientation and
// neighbourhood; signLUT gives ctx<<1 | xor-bit for the sign.
var (
	zcLUT   = makeZCLUT()
	signLUT = makeSignLUT()
)

func makeZCLUT() (t [4][256]uint8) {
	for o := 0; o < 4; o++ {
		for nb := 0; nb < 256; nb++ {
			bit := func(m int) int {
				if nb&m != 0 {
					return 1
				}
				return 0
			}
			h := bit(fW) + bit(fE)
			v := bit(fN) + bit(fS)
			d := bit(fNW) + bit(fNE) + bit(fSW) + bit(fSE)
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
			t[o][nb] = uint8(ctx)
		}
	}
	return t
}

func makeSignLUT() (t [256]uint8) {
	for i := 0; i < 256; i++ {
		contrib := func(sig, neg int) int {
			if i&sig == 0 {
				return 0
			}
			if i&neg != 0 {
				return -1
			}
			return 1
		}
		// index: bits 0-3 = N,S,W,E significant; bits 4-7 = their signs
		h := contrib(fW, fWneg>>4) + contrib(fE, fEneg>>4)
		v := contrib(fN, fNneg>>4) + contrib(fS, fSneg>>4)
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

type t1Scratch struct {
	mq    mqDecoder
	raw   rawDecoder
	flags []uint16
	data  []int32
	buf   []byte
	w, h  int
}

func (s *t1Scratch) reset(w, h int) {
	n := (w + 2) * (h + 2)
	if cap(s.flags) < n {
		s.flags = make([]uint16, n)
	} else {
		s.flags = s.flags[:n]
		clear(s.flags)
	}
	if cap(s.data) < w*h {
		s.data = make([]int32, w*h)
	} else {
		s.data = s.data[:w*h]
		clear(s.data)
	}
	s.w, s.h = w, h
}

func (s *t1Scratch) setSig(fi int, neg bool) {
	st := s.w + 2
	f := s.flags
	f[fi] |= fSig
	if neg {
		f[fi-st] |= fS | fSneg
		f[fi+st] |= fN | fNneg
		f[fi-1] |= fE | fEneg
		f[fi+1] |= fW | fWneg
	} else {
		f[fi-st] |= fS
		f[fi+st] |= fN
		f[fi-1] |= fE
		f[fi+1] |= fW
	}
	f[fi-st-1] |= fSE
	f[fi-st+1] |= fSW
	f[fi+st-1] |= fNE
	f[fi+st+1] |= fNW
}

func (s *t1Scratch) sign(f uint16, raw bool) bool {
	if raw {
		return s.raw.decode() == 1
	}
	e := signLUT[f&0xF|(f>>4)&0xF0]
	return s.mq.decode(int(e>>1))^int(e&1) == 1
}

// decodeBlock runs the coding passes of cb. The result, in s.data, holds
// each coefficient at twice its magnitude plus the reconstruction half-bit
// (so that truncated planes reconstruct at mid-interval).
func (s *t1Scratch) decodeBlock(cb *codeblock, orient int, style uint8, mb, roi int) {
	w, h := cb.x1-cb.x0, cb.y1-cb.y0
	s.reset(w, h)
	p := mb + roi - cb.zbp - 1
	if p < 0 || cb.passes == 0 {
		return
	}
	s.mq.resetContexts()
	causal := style&cbCausal != 0
	lut := &zcLUT[orient]
	passType := 2 // 0 significance, 1 refinement, 2 cleanup
	passIdx := 0
	ci := 0
	for si := range cb.segs {
		sg := &cb.segs[si]
		// gather the segment's bytes
		var data []byte
		n := 0
		for k := ci; k < len(cb.chunks) && cb.chunks[k].seg == si; k++ {
			n++
		}
		if n == 1 {
			data = cb.chunks[ci].data
		} else if n > 1 {
			s.buf = s.buf[:0]
			for k := ci; k < ci+n; k++ {
				s.buf = append(s.buf, cb.chunks[k].data...)
			}
			data = s.buf
		}
		ci += n
		raw := style&cbBypass != 0 && passIdx >= 10 && passType != 2
		if raw {
			s.raw.init(data)
		} else {
			s.mq.init(data)
		}
		for k := 0; k < sg.passes; k++ {
			if p < 0 {
				return
			}
			switch passType {
			case 0:
				s.sigPass(lut, p, raw, causal)
			case 1:
				s.refPass(p, raw, causal)
			case 2:
				s.cleanPass(lut, p, causal)
				if style&cbSegSym != 0 {
					for i := 0; i < 4; i++ {
						s.mq.decode(ctxUNI)
					}
				}
			}
			if style&cbReset != 0 {
				s.mq.resetContexts()
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

func (s *t1Scratch) sigPass(lut *[256]uint8, p int, raw, causal bool) {
	mq := &s.mq
	a, c := mq.a, mq.c
	defer func() { mq.a, mq.c = a, c }()
	w, h := s.w, s.h
	st := w + 2
	one := int32(3) << p
	for y0 := 0; y0 < h; y0 += 4 {
		ymax := min(y0+4, h)
		full := ymax-y0 == 4
		for x := 0; x < w; x++ {
			fi := (y0+1)*st + x + 1
			if full {
				// no candidate in the column: nothing significant next to
				// an insignificant sample (a rough but cheap test)
				fl := s.flags[fi : fi+3*st+1]
				if (fl[0]|fl[st]|fl[2*st]|fl[3*st])&0xFF == 0 || fl[0]&fl[st]&fl[2*st]&fl[3*st]&fSig != 0 {
					continue
				}
			}
			for y := y0; y < ymax; y, fi = y+1, fi+st {
				f := s.flags[fi]
				if causal && y == y0+3 {
					f &^= causalMask
				}
				if f&(fSig|fVisit) != 0 || f&0xFF == 0 {
					continue
				}
				var bit int
				if raw {
					bit = s.raw.decode()
				} else {
					cx := lut[f&0xFF]
					st := mq.cx[cx]
					qe := qeVal[st>>1]
					if a2 := a - qe; c>>16 >= qe && a2 >= 0x8000 {
						a = a2
						c -= qe << 16
						bit = int(st & 1)
					} else {
						mq.a, mq.c = a, c
						bit = mq.decodeSlow(int(cx))
						a, c = mq.a, mq.c
					}
				}
				if bit != 0 {
					mq.a, mq.c = a, c
					neg := s.sign(f, raw)
					a, c = mq.a, mq.c
					s.setSig(fi, neg)
					if neg {
						s.data[y*w+x] = -one
					} else {
						s.data[y*w+x] = one
					}
				}
				s.flags[fi] |= fVisit
			}
		}
	}
}

func (s *t1Scratch) refPass(p int, raw, causal bool) {
	mq := &s.mq
	// the coder registers live in locals for the pass
	a, c := mq.a, mq.c
	defer func() { mq.a, mq.c = a, c }()
	w, h := s.w, s.h
	st := w + 2
	half := int32(1) << p
	for y0 := 0; y0 < h; y0 += 4 {
		ymax := min(y0+4, h)
		full := ymax-y0 == 4
		for x := 0; x < w; x++ {
			fi := (y0+1)*st + x + 1
			if full {
				fl := s.flags[fi : fi+3*st+1]
				if (fl[0]|fl[st]|fl[2*st]|fl[3*st])&fSig == 0 {
					continue
				}
			}
			for y := y0; y < ymax; y, fi = y+1, fi+st {
				f := s.flags[fi]
				if f&(fSig|fVisit) != fSig {
					continue
				}
				if causal && y == y0+3 {
					f &^= causalMask
				}
				var bit int
				if raw {
					bit = s.raw.decode()
				} else {
					cx := ctxMR
					if f&fRefined != 0 {
						cx = ctxMR + 2
					} else if f&0xFF != 0 {
						cx = ctxMR + 1
					}
					st := mq.cx[cx]
					qe := qeVal[st>>1]
					if a2 := a - qe; c>>16 >= qe && a2 >= 0x8000 {
						a = a2
						c -= qe << 16
						bit = int(st & 1)
					} else {
						mq.a, mq.c = a, c
						bit = mq.decodeSlow(cx)
						a, c = mq.a, mq.c
					}
				}
				t := -half
				if bit != 0 {
					t = half
				}
				v := &s.data[y*w+x]
				if *v < 0 {
					*v -= t
				} else {
					*v += t
				}
				s.flags[fi] |= fRefined
			}
		}
	}
}

func (s *t1Scratch) cleanPass(lut *[256]uint8, p int, causal bool) {
	mq := &s.mq
	a, c := mq.a, mq.c
	defer func() { mq.a, mq.c = a, c }()
	w, h := s.w, s.h
	st := w + 2
	one := int32(3) << p
	for y0 := 0; y0 < h; y0 += 4 {
		ymax := min(y0+4, h)
		for x := 0; x < w; x++ {
			fi := (y0+1)*st + x + 1
			y := y0
			if ymax-y0 == 4 {
				fl := s.flags[fi : fi+3*st+1]
				if fl[0]&fl[st]&fl[2*st]&fl[3*st]&fSig != 0 {
					// all four already significant: nothing to code
					fl[0] &^= fVisit
					fl[st] &^= fVisit
					fl[2*st] &^= fVisit
					fl[3*st] &^= fVisit
					continue
				}
				f3 := s.flags[fi+3*st]
				if causal {
					f3 &^= causalMask
				}
				if (s.flags[fi]|s.flags[fi+st]|s.flags[fi+2*st]|f3)&(fSig|fVisit|0xFF) == 0 {
					mq.a, mq.c = a, c
					if mq.decode(ctxRL) == 0 {
						a, c = mq.a, mq.c
						continue
					}
					k := mq.decode(ctxUNI) << 1
					k |= mq.decode(ctxUNI)
					y = y0 + k
					fk := fi + k*st
					f := s.flags[fk]
					if causal && k == 3 {
						f &^= causalMask
					}
					neg := s.sign(f, false)
					a, c = mq.a, mq.c
					s.setSig(fk, neg)
					if neg {
						s.data[y*w+x] = -one
					} else {
						s.data[y*w+x] = one
					}
					y++
					fi = fk + st
				}
			}
			for ; y < ymax; y, fi = y+1, fi+st {
				f := s.flags[fi]
				if causal && y == y0+3 {
					f &^= causalMask
				}
				if f&(fSig|fVisit) == 0 {
					cx := lut[f&0xFF]
					st := mq.cx[cx]
					qe := qeVal[st>>1]
					var bit int
					if a2 := a - qe; c>>16 >= qe && a2 >= 0x8000 {
						a = a2
						c -= qe << 16
						bit = int(st & 1)
					} else {
						mq.a, mq.c = a, c
						bit = mq.decodeSlow(int(cx))
						a, c = mq.a, mq.c
					}
					if bit != 0 {
						mq.a, mq.c = a, c
						neg := s.sign(f, false)
						a, c = mq.a, mq.c
						s.setSig(fi, neg)
						if neg {
							s.data[y*w+x] = -one
						} else {
							s.data[y*w+x] = one
						}
					}
				}
				s.flags[fi] &^= fVisit
			}
		}
	}
}
