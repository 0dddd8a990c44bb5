package jpeg2k

// The MQ arithmetic decoder of T.800 Annex C, in the software convention
// (the LPS sub-interval is the lower one), and the raw bit reader of the
// selective arithmetic coding bypass.

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

// qeVal repeats the Qe column of qeTable for the inlined fast path; the
// index is 7 bits wide so that any mqCtx value stays in range.
var qeVal = func() (t [128]uint32) {
	for i := range t {
		t[i] = qeTable[min(i, len(qeTable)-1)].qe
	}
	return t
}()

// mqState packs a context's table index (bits 1..6) and MPS (bit 0), and
// is expanded into mqTrans so that one lookup gives every successor.
type mqCtx uint8

// Contexts (T.800 Table D.7 numbering): 0-8 significance, 9-13 sign,
// 14-16 refinement, 17 run-length, 18 uniform.
const (
	ctxSC  = 9
	ctxMR  = 14
	ctxRL  = 17
	ctxUNI = 18
	numCtx = 19
)

type mqDecoder struct {
	data []byte
	pos  int
	c    uint32
	a    uint32
	ct   int
	cx   [numCtx]mqCtx
}

func (m *mqDecoder) resetContexts() {
	for i := range m.cx {
		m.cx[i] = 0
	}
	m.cx[0] = 4 << 1
	m.cx[ctxRL] = 3 << 1
	m.cx[ctxUNI] = 46 << 1
}

func (m *mqDecoder) byteAt(i int) uint32 {
	if i < len(m.data) {
		return uint32(m.data[i])
	}
	return 0xFF
}

func (m *mqDecoder) init(data []byte) {
	m.data = data
	m.pos = 0
	m.c = m.byteAt(0) << 16
	m.byteIn()
	m.c <<= 7
	m.ct -= 7
	m.a = 0x8000
}

func (m *mqDecoder) byteIn() {
	if m.byteAt(m.pos) == 0xFF {
		if b := m.byteAt(m.pos + 1); b > 0x8F {
			m.c += 0xFF00
			m.ct = 8
		} else {
			m.pos++
			m.c += b << 9
			m.ct = 7
		}
	} else {
		m.pos++
		m.c += m.byteAt(m.pos) << 8
		m.ct = 8
	}
}

// decode returns the next decision in context cx. The hot loops of the
// coding passes repeat its fast path (MPS without renormalisation) inline
// and call decodeSlow for the rest.
func (m *mqDecoder) decode(cx int) int {
	s := m.cx[cx]
	qe := qeVal[s>>1]
	if a := m.a - qe; m.c>>16 >= qe && a >= 0x8000 {
		m.a = a
		m.c -= qe << 16
		return int(s & 1)
	}
	return m.decodeSlow(cx)
}

func (m *mqDecoder) decodeSlow(cx int) int {
	s := m.cx[cx]
	e := &qeTable[s>>1]
	mps := int(s & 1)
	m.a -= e.qe
	var d int
	if m.c>>16 < e.qe {
		// LPS sub-interval (conditional exchange)
		if m.a < e.qe {
			d = mps
			m.cx[cx] = mqCtx(e.nmps<<1) | mqCtx(mps)
		} else {
			d = 1 - mps
			if e.sw != 0 {
				mps = 1 - mps
			}
			m.cx[cx] = mqCtx(e.nlps<<1) | mqCtx(mps)
		}
		m.a = e.qe
	} else {
		m.c -= e.qe << 16
		if m.a < e.qe {
			d = 1 - mps
			if e.sw != 0 {
				mps = 1 - mps
			}
			m.cx[cx] = mqCtx(e.nlps<<1) | mqCtx(mps)
		} else {
			d = mps
			m.cx[cx] = mqCtx(e.nmps<<1) | mqCtx(mps)
		}
	}
	for {
		if m.ct == 0 {
			m.byteIn()
		}
		m.a <<= 1
		m.c <<= 1
		m.ct--
		if m.a&0x8000 != 0 {
			break
		}
	}
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

func (r *rawDecoder) decode() int {
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
	return int(r.c>>uint(r.ct)) & 1
}
