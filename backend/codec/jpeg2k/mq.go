package jpeg2k

// The MQ arithmetic decoder of T.800 Annex C, in the software convention
// (the LPS sub-interval is the lower one), and the raw bit reader of the
// selective arithmetic coding bypass.
//
// The decoder's registers (A, C, CT and the byte position) are plain
// values: the coding passes keep them in local variables, run the decision
// procedure inline for their most frequent symbols and call mqDecide, which
// takes and returns the registers, for the others. A segment's bytes are
// followed by two 0xFF bytes (see t1Scratch.gather), which read exactly
// like the end of the data (a marker: the decoder feeds 1-bits), so that
// mqByteIn needs no length test.

// qeTable is T.800 Table C.2: Qe, next index after MPS, after LPS, switch.
var qeTable = [47]struct {
	qe         uint32
	nmps, nlps uint8
	sw         uint8
}{
	{0x5601, 1, 1, 1}, {0x3401, 2, 6, 0}, {0x1801, 3, 9, 0}, {0x0AC1, 4, 12, 0},
	{0x0521, 5, 29, 0}, {0x0221, 38, 33, 0}, {0x5601, 7, 6, 1}, {0x5401, 8, 14, 0},
	{0x4801, 9, 14, 0}, {0x3801, 10, 14, 0}, {0x3001, 11, 17, 0}, {0x2401, 12, 18, 0},
	{0x1C01, 13, 20, 0}, {0x1601, 29, 21, 0}, {0x5601, 15, 14, 1}, {0x5401, 16, 14, 0},
	{0x5101, 17, 15, 0}, {0x4801, 18, 16, 0}, {0x3801, 19, 17, 0}, {0x3401, 20, 18, 0},
	{0x3001, 21, 19, 0}, {0x2801, 22, 19, 0}, {0x2401, 23, 20, 0}, {0x2201, 24, 21, 0},
	{0x1C01, 25, 22, 0}, {0x1801, 26, 23, 0}, {0x1601, 27, 24, 0}, {0x1401, 28, 25, 0},
	{0x1201, 29, 26, 0}, {0x1101, 30, 27, 0}, {0x0AC1, 31, 28, 0}, {0x09C1, 32, 29, 0},
	{0x08A1, 33, 30, 0}, {0x0521, 34, 31, 0}, {0x0441, 35, 32, 0}, {0x02A1, 36, 33, 0},
	{0x0221, 37, 34, 0}, {0x0141, 38, 35, 0}, {0x0111, 39, 36, 0}, {0x0085, 40, 37, 0},
	{0x0049, 41, 38, 0}, {0x0025, 42, 39, 0}, {0x0015, 43, 40, 0}, {0x0009, 44, 41, 0},
	{0x0005, 45, 42, 0}, {0x0001, 45, 43, 0}, {0x5601, 46, 46, 0},
}

// mqTab expands qeTable for both MPS values. A context holds a state s =
// 2*index + MPS, and mqTab[s] packs everything a decision needs:
//
//	bit  0      the MPS
//	bits 1-7    the state after an MPS renormalisation (nmps)
//	bits 8-14   nmps XOR the state after an LPS (MPS switched where the
//	            table says), so that a mask selects either with one XOR
//	bits 16-31  Qe
//
// Entries past the 94 states are never reached; 256 entries let a uint8
// state index it without a bounds check.
var mqTab = func() (t [256]uint32) {
	for i, e := range qeTable {
		for mps := uint32(0); mps < 2; mps++ {
			nmps := 2*uint32(e.nmps) + mps
			nlps := 2*uint32(e.nlps) + mps ^ uint32(e.sw)
			t[2*i+int(mps)] = mps | nmps<<1 | (nmps^nlps)<<8 | e.qe<<16
		}
	}
	return t
}()

// Contexts (T.800 Table D.7 numbering): 0-8 significance, 9-13 sign,
// 14-16 refinement, 17 run-length, 18 uniform.
const (
	ctxSC  = 9
	ctxMR  = 14
	ctxRL  = 17
	ctxUNI = 18
	numCtx = 19
)

// mqContexts holds the state of each context; it is indexed by uint8 so
// that table lookups need no bounds checks (only the first numCtx are used).
type mqContexts [256]uint8

func (cx *mqContexts) reset() {
	clear(cx[:numCtx])
	cx[0] = 4 << 1
	cx[ctxRL] = 3 << 1
	cx[ctxUNI] = 46 << 1
}

// mqRegs are the decoder registers, saved between coding passes.
type mqRegs struct {
	a, c, ct uint32
	pos      int // the last byte read into C
}

// init is INITDEC on buf (a segment followed by two 0xFF bytes).
func (m *mqRegs) init(buf []byte) {
	c := uint32(buf[0]) << 16
	m.pos, m.c, m.ct = mqByteIn(buf, 0, c)
	m.c <<= 7
	m.ct -= 7
	m.a = 0x8000
}

// mqByteIn is BYTEIN: it returns the new position, C and CT. After 0xFF
// only a byte up to 0x8F continues the data (7 bits of it); anything else
// is a marker, and the decoder then feeds 1-bits forever.
func mqByteIn(buf []byte, pos int, c uint32) (int, uint32, uint32) {
	if buf[pos] == 0xFF {
		if b := buf[pos+1]; b <= 0x8F {
			return pos + 1, c + uint32(b)<<9, 7
		}
		return pos, c + 0xFF00, 8
	}
	return pos + 1, c + uint32(buf[pos+1])<<8, 8
}

// mqDecide decodes one decision in the context whose state is *cs and
// returns it with the new registers. The coding passes inline copies of
// this procedure for their most frequent decisions.
func mqDecide(cs *uint8, a, c, ct uint32, pos int, buf []byte) (d, a2, c2, ct2 uint32, pos2 int) {
	e := mqTab[*cs]
	qe := e >> 16
	d = e & 1
	nmps := uint8(e >> 1 & 0x7F)
	nlps := nmps ^ uint8(e>>8&0x7F)
	a -= qe
	if c>>16 >= qe {
		c -= qe << 16
		if a&0x8000 != 0 {
			return d, a, c, ct, pos
		}
		if a < qe {
			*cs = nlps
			d ^= 1
		} else {
			*cs = nmps
		}
	} else {
		// LPS sub-interval, with the conditional exchange
		if a < qe {
			*cs = nmps
		} else {
			*cs = nlps
			d ^= 1
		}
		a = qe
	}
	for {
		if ct == 0 {
			pos, c, ct = mqByteIn(buf, pos, c)
		}
		a <<= 1
		c <<= 1
		ct--
		if a&0x8000 != 0 {
			return d, a, c, ct, pos
		}
	}
}

// decide is mqDecide on the saved registers, for the rare decisions made
// outside the coding passes' loops.
func (m *mqRegs) decide(cs *uint8, buf []byte) uint32 {
	var d uint32
	d, m.a, m.c, m.ct, m.pos = mqDecide(cs, m.a, m.c, m.ct, m.pos, buf)
	return d
}

// rawDecoder reads the bits of a bypass (raw) segment.
type rawDecoder struct {
	data []byte
	pos  int
	c    uint32
	ct   int
}

func (r *rawDecoder) init(data []byte) {
	r.data, r.pos, r.c, r.ct = data, 0, 0, 0
}

func (r *rawDecoder) byteAt(i int) uint32 {
	if i < len(r.data) {
		return uint32(r.data[i])
	}
	return 0xFF
}

func (r *rawDecoder) decode() uint32 {
	if r.ct == 0 {
		if r.c == 0xFF {
			if b := r.byteAt(r.pos); b > 0x8F {
				r.c = 0xFF
				r.ct = 8
			} else {
				r.c = b
				r.pos++
				r.ct = 7
			}
		} else {
			r.c = r.byteAt(r.pos)
			r.pos++
			r.ct = 8
		}
	}
	r.ct--
	return r.c >> uint(r.ct) & 1
}
