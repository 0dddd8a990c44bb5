package jpeg2k

import (
	"encoding/binary"

	"lightbox/backend/codec"
)

// Marker codes (T.800 Table A.2).
const (
	mSOC = 0xFF4F
	mSIZ = 0xFF51
	mCOD = 0xFF52
	mCOC = 0xFF53
	mTLM = 0xFF55
	mPLM = 0xFF57
	mPLT = 0xFF58
	mQCD = 0xFF5C
	mQCC = 0xFF5D
	mRGN = 0xFF5E
	mPOC = 0xFF5F
	mPPM = 0xFF60
	mPPT = 0xFF61
	mCRG = 0xFF63
	mCOM = 0xFF64
	mSOT = 0xFF90
	mSOP = 0xFF91
	mEPH = 0xFF92
	mSOD = 0xFF93
	mEOC = 0xFFD9
)

// Progression orders (T.800 Table A.16).
const (
	progLRCP = iota
	progRLCP
	progRPCL
	progPCRL
	progCPRL
)

const (
	maxLevels = 32
	maxComps  = 16384
	maxTiles  = 65535
)

type component struct {
	prec   int
	signed bool
	dx, dy int
}

// codingParams are the per-component parameters of SPcod / SPcoc.
type codingParams struct {
	levels     int
	cbw, cbh   int // exponents
	cbStyle    uint8
	reversible bool
	ppx, ppy   [maxLevels + 1]uint8
}

type codSeg struct {
	sop, eph bool
	prog     int
	layers   int
	mct      bool
	sp       codingParams
}

type quantParams struct {
	style int // 0 none, 1 scalar derived, 2 scalar expounded
	guard int
	exp   []uint8
	mant  []uint16
}

type pocEntry struct {
	rs, cs, lye, re, ce, prog int
}

// mainHeader holds what the main header declares.
type mainHeader struct {
	xsiz, ysiz, xosiz, yosiz     int
	xtsiz, ytsiz, xtosiz, ytosiz int
	comps                        []component
	ntx, nty                     int

	cod  *codSeg
	coc  []*codingParams // per component, nil = none
	qcd  *quantParams
	qcc  []*quantParams
	roi  []int
	poc  []pocEntry
	ppm  [][]byte // concatenated PPM payload split per tile-part, in order
	hasP bool
}

// tileHeader holds the markers of a tile's tile-part headers.
type tileHeader struct {
	cod *codSeg
	coc []*codingParams
	qcd *quantParams
	qcc []*quantParams
	roi []int
	poc []pocEntry
	ppt [][]byte // by Zppt
}

// findCodestream returns the raw codestream inside src (which may be a JP2
// file).
func findCodestream(src []byte) ([]byte, error) {
	if len(src) >= 2 && src[0] == 0xFF && src[1] == 0x4F {
		return src, nil
	}
	if len(src) >= 12 && binary.BigEndian.Uint32(src[4:]) == 0x6A502020 {
		p := src
		for len(p) >= 8 {
			l := uint64(binary.BigEndian.Uint32(p))
			typ := binary.BigEndian.Uint32(p[4:])
			hl := uint64(8)
			if l == 1 {
				if len(p) < 16 {
					break
				}
				l = binary.BigEndian.Uint64(p[8:])
				hl = 16
			} else if l == 0 {
				l = uint64(len(p))
			}
			if l < hl || l > uint64(len(p)) {
				if typ == 0x6A703263 && l > uint64(len(p)) {
					// a truncated jp2c box: hand on what there is
					return p[hl:], nil
				}
				break
			}
			if typ == 0x6A703263 { // jp2c
				return p[hl:l], nil
			}
			p = p[l:]
		}
		return nil, corrupt("JP2 file without a codestream box")
	}
	return nil, corrupt("no SOC marker")
}

type reader struct {
	b   []byte
	pos int
	err bool
}

func (r *reader) u8() int {
	if r.pos+1 > len(r.b) {
		r.err = true
		return 0
	}
	v := r.b[r.pos]
	r.pos++
	return int(v)
}

func (r *reader) u16() int {
	if r.pos+2 > len(r.b) {
		r.err = true
		return 0
	}
	v := binary.BigEndian.Uint16(r.b[r.pos:])
	r.pos += 2
	return int(v)
}

func (r *reader) u32() int {
	if r.pos+4 > len(r.b) {
		r.err = true
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.pos:])
	r.pos += 4
	return int(v)
}

func (r *reader) left() int { return len(r.b) - r.pos }

// segment reads a marker segment's body (after the marker code): it checks
// the length field and returns a reader limited to the body.
func segment(cs []byte, pos int) (body []byte, next int, err error) {
	if pos+2 > len(cs) {
		return nil, 0, corrupt("marker segment truncated")
	}
	l := int(binary.BigEndian.Uint16(cs[pos:]))
	if l < 2 || pos+l > len(cs) {
		return nil, 0, corrupt("marker segment length %d out of range", l)
	}
	return cs[pos+2 : pos+l], pos + l, nil
}

func parseSIZ(b []byte, h *mainHeader) error {
	r := &reader{b: b}
	r.u16() // Rsiz
	h.xsiz, h.ysiz, h.xosiz, h.yosiz = r.u32(), r.u32(), r.u32(), r.u32()
	h.xtsiz, h.ytsiz, h.xtosiz, h.ytosiz = r.u32(), r.u32(), r.u32(), r.u32()
	nc := r.u16()
	if r.err {
		return corrupt("SIZ truncated")
	}
	if nc < 1 || nc > maxComps || r.left() < 3*nc {
		return corrupt("SIZ with %d components", nc)
	}
	if h.xsiz <= h.xosiz || h.ysiz <= h.yosiz || h.xtsiz == 0 || h.ytsiz == 0 ||
		h.xtosiz > h.xosiz || h.ytosiz > h.yosiz ||
		h.xtosiz+h.xtsiz <= h.xosiz || h.ytosiz+h.ytsiz <= h.yosiz {
		return corrupt("SIZ geometry %dx%d origin %d,%d tiles %dx%d at %d,%d", h.xsiz, h.ysiz, h.xosiz, h.yosiz,
			h.xtsiz, h.ytsiz, h.xtosiz, h.ytosiz)
	}
	w, ht := h.xsiz-h.xosiz, h.ysiz-h.yosiz
	if uint64(w)*uint64(ht) > codec.MaxPixels || uint64(w)*uint64(ht)*uint64(nc) > codec.MaxPixels {
		return tooLarge("image %dx%dx%d", w, ht, nc)
	}
	h.ntx = ceilDiv(h.xsiz-h.xtosiz, h.xtsiz)
	h.nty = ceilDiv(h.ysiz-h.ytosiz, h.ytsiz)
	if uint64(h.ntx)*uint64(h.nty) > maxTiles {
		return corrupt("%dx%d tiles", h.ntx, h.nty)
	}
	h.comps = make([]component, nc)
	for i := range h.comps {
		s := r.u8()
		c := &h.comps[i]
		c.prec = s&0x7F + 1
		c.signed = s&0x80 != 0
		c.dx, c.dy = r.u8(), r.u8()
		if c.dx == 0 || c.dy == 0 || c.prec > 38 {
			return corrupt("SIZ component %d: precision %d, subsampling %dx%d", i, c.prec, c.dx, c.dy)
		}
	}
	h.coc = make([]*codingParams, nc)
	h.qcc = make([]*quantParams, nc)
	h.roi = make([]int, nc)
	return nil
}

func compIndex(r *reader, nc int) int {
	if nc < 257 {
		return r.u8()
	}
	return r.u16()
}

func parseSPcod(r *reader, cp *codingParams, precincts bool) error {
	cp.levels = r.u8()
	cp.cbw = r.u8() + 2
	cp.cbh = r.u8() + 2
	cp.cbStyle = uint8(r.u8())
	t := r.u8()
	if r.err {
		return corrupt("COD/COC truncated")
	}
	if cp.levels > maxLevels {
		return corrupt("%d decomposition levels", cp.levels)
	}
	if cp.cbw > 10 || cp.cbh > 10 || cp.cbw+cp.cbh > 12 {
		return corrupt("code-block size 2^%d x 2^%d", cp.cbw, cp.cbh)
	}
	if cp.cbStyle&0xC0 != 0 {
		return unsupported("code-block style 0x%02x (HT or unknown)", cp.cbStyle)
	}
	switch t {
	case 0:
		cp.reversible = false
	case 1:
		cp.reversible = true
	default:
		return unsupported("wavelet transform %d", t)
	}
	for i := 0; i <= cp.levels; i++ {
		if !precincts {
			cp.ppx[i], cp.ppy[i] = 15, 15
			continue
		}
		v := r.u8()
		if r.err {
			return corrupt("COD/COC precinct sizes truncated")
		}
		// A precinct size of 2^0 above resolution 0 is invalid, but
		// OpenJPEG writes it; its precincts are then empty (see setup).
		cp.ppx[i], cp.ppy[i] = uint8(v&15), uint8(v>>4)
	}
	return nil
}

func parseCOD(b []byte) (*codSeg, error) {
	r := &reader{b: b}
	s := r.u8()
	c := &codSeg{sop: s&2 != 0, eph: s&4 != 0}
	c.prog = r.u8()
	c.layers = r.u16()
	m := r.u8()
	if r.err {
		return nil, corrupt("COD truncated")
	}
	if c.prog > progCPRL {
		return nil, corrupt("progression order %d", c.prog)
	}
	if c.layers == 0 {
		return nil, corrupt("zero layers")
	}
	if m > 1 {
		return nil, unsupported("multiple component transform %d", m)
	}
	c.mct = m == 1
	if err := parseSPcod(r, &c.sp, s&1 != 0); err != nil {
		return nil, err
	}
	return c, nil
}

func parseCOC(b []byte, nc int, coc []*codingParams) error {
	r := &reader{b: b}
	ci := compIndex(r, nc)
	s := r.u8()
	if r.err || ci >= nc {
		return corrupt("COC for component %d", ci)
	}
	cp := &codingParams{}
	if err := parseSPcod(r, cp, s&1 != 0); err != nil {
		return err
	}
	coc[ci] = cp
	return nil
}

func parseQuant(r *reader) (*quantParams, error) {
	s := r.u8()
	if r.err {
		return nil, corrupt("QCD/QCC truncated")
	}
	q := &quantParams{style: s & 0x1F, guard: s >> 5}
	switch q.style {
	case 0:
		for r.left() > 0 {
			q.exp = append(q.exp, uint8(r.u8()>>3))
			q.mant = append(q.mant, 0)
		}
	case 1, 2:
		for r.left() >= 2 {
			v := r.u16()
			q.exp = append(q.exp, uint8(v>>11))
			q.mant = append(q.mant, uint16(v&0x7FF))
		}
	default:
		return nil, corrupt("quantization style %d", q.style)
	}
	if len(q.exp) == 0 {
		return nil, corrupt("QCD/QCC without step sizes")
	}
	return q, nil
}

func parseQCC(b []byte, nc int, qcc []*quantParams) error {
	r := &reader{b: b}
	ci := compIndex(r, nc)
	if r.err || ci >= nc {
		return corrupt("QCC for component %d", ci)
	}
	q, err := parseQuant(r)
	if err != nil {
		return err
	}
	qcc[ci] = q
	return nil
}

func parseRGN(b []byte, nc int, roi []int) error {
	r := &reader{b: b}
	ci := compIndex(r, nc)
	style := r.u8()
	shift := r.u8()
	if r.err || ci >= nc {
		return corrupt("RGN for component %d", ci)
	}
	if style != 0 {
		return unsupported("ROI style %d", style)
	}
	roi[ci] = shift
	return nil
}

func parsePOC(b []byte, nc int) ([]pocEntry, error) {
	r := &reader{b: b}
	var out []pocEntry
	for r.left() > 0 {
		var e pocEntry
		e.rs = r.u8()
		e.cs = compIndex(r, nc)
		e.lye = r.u16()
		e.re = r.u8()
		e.ce = compIndex(r, nc)
		e.prog = r.u8()
		if r.err {
			return nil, corrupt("POC truncated")
		}
		if e.ce == 0 {
			e.ce = 256
			if nc >= 257 {
				e.ce = 16384
			}
		}
		if e.prog > progCPRL {
			return nil, corrupt("POC progression order %d", e.prog)
		}
		out = append(out, e)
	}
	return out, nil
}

// parseMainHeader reads the main header up to the first SOT and returns the
// header and the offset of that SOT.
func parseMainHeader(cs []byte) (*mainHeader, int, error) {
	if len(cs) < 4 || binary.BigEndian.Uint16(cs) != mSOC || binary.BigEndian.Uint16(cs[2:]) != mSIZ {
		return nil, 0, corrupt("codestream does not start with SOC, SIZ")
	}
	h := &mainHeader{}
	body, pos, err := segment(cs, 4)
	if err != nil {
		return nil, 0, err
	}
	if err := parseSIZ(body, h); err != nil {
		return nil, 0, err
	}
	nc := len(h.comps)
	var ppm [][]byte // by Zppm
	for {
		if pos+2 > len(cs) {
			return nil, 0, corrupt("main header truncated")
		}
		m := int(binary.BigEndian.Uint16(cs[pos:]))
		if m == mSOT {
			break
		}
		if m>>8 != 0xFF {
			return nil, 0, corrupt("expected a marker at %d, found %04x", pos, m)
		}
		if m == mEOC {
			return nil, 0, corrupt("no tile in codestream")
		}
		body, next, err := segment(cs, pos+2)
		if err != nil {
			return nil, 0, err
		}
		switch m {
		case mCOD:
			if h.cod, err = parseCOD(body); err != nil {
				return nil, 0, err
			}
		case mCOC:
			err = parseCOC(body, nc, h.coc)
		case mQCD:
			h.qcd, err = parseQuant(&reader{b: body})
		case mQCC:
			err = parseQCC(body, nc, h.qcc)
		case mRGN:
			err = parseRGN(body, nc, h.roi)
		case mPOC:
			var p []pocEntry
			p, err = parsePOC(body, nc)
			h.poc = append(h.poc, p...)
		case mPPM:
			if len(body) < 1 {
				return nil, 0, corrupt("empty PPM")
			}
			z := int(body[0])
			for len(ppm) <= z {
				ppm = append(ppm, nil)
			}
			ppm[z] = append(ppm[z], body[1:]...)
			h.hasP = true
		}
		// TLM, PLM, CRG, COM and unknown segments are skipped.
		if err != nil {
			return nil, 0, err
		}
		pos = next
	}
	if h.cod == nil {
		return nil, 0, corrupt("no COD marker in main header")
	}
	if h.qcd == nil {
		return nil, 0, corrupt("no QCD marker in main header")
	}
	if h.hasP {
		var all []byte
		for _, p := range ppm {
			all = append(all, p...)
		}
		for len(all) > 0 {
			if len(all) < 4 {
				return nil, 0, corrupt("PPM truncated")
			}
			n := int(binary.BigEndian.Uint32(all))
			all = all[4:]
			if n > len(all) {
				return nil, 0, corrupt("PPM length %d past its data", n)
			}
			h.ppm = append(h.ppm, all[:n])
			all = all[n:]
		}
	}
	return h, pos, nil
}

// tilePart is one tile-part: its header markers were merged into the tile's
// tileHeader; data is the bit stream after SOD.
type tilePart struct {
	data []byte
	ppm  []byte // packet headers from PPM, if any
}

type tileSource struct {
	hdr   tileHeader
	parts []tilePart
	seen  bool
}

// parseTileParts reads every tile-part from pos on.
func parseTileParts(cs []byte, pos int, h *mainHeader) ([]tileSource, error) {
	nt := h.ntx * h.nty
	tiles := make([]tileSource, nt)
	nc := len(h.comps)
	partNo := 0
	for pos+2 <= len(cs) {
		m := int(binary.BigEndian.Uint16(cs[pos:]))
		if m == mEOC {
			break
		}
		if m != mSOT {
			// Trailing garbage after the last tile-part is tolerated.
			if partNo > 0 {
				break
			}
			return nil, corrupt("expected SOT at %d", pos)
		}
		start := pos
		body, next, err := segment(cs, pos+2)
		if err != nil {
			return nil, err
		}
		r := &reader{b: body}
		isot, psot := r.u16(), r.u32()
		r.u8() // TPsot
		r.u8() // TNsot
		if r.err {
			return nil, corrupt("SOT truncated")
		}
		if isot >= nt {
			return nil, corrupt("tile index %d of %d", isot, nt)
		}
		end := len(cs)
		if psot != 0 {
			if psot < 14 {
				return nil, corrupt("tile-part length %d", psot)
			}
			if start+psot <= len(cs) {
				end = start + psot
			}
		}
		t := &tiles[isot]
		first := !t.seen
		t.seen = true
		if t.hdr.coc == nil {
			t.hdr.coc = make([]*codingParams, nc)
			t.hdr.qcc = make([]*quantParams, nc)
		}
		pos = next
		var ppt [][]byte
		for {
			if pos+2 > end {
				return nil, corrupt("tile-part header truncated")
			}
			m := int(binary.BigEndian.Uint16(cs[pos:]))
			if m == mSOD {
				pos += 2
				break
			}
			if m>>8 != 0xFF {
				return nil, corrupt("expected a marker at %d", pos)
			}
			body, next, err := segment(cs, pos+2)
			if err != nil {
				return nil, err
			}
			if next > end {
				return nil, corrupt("marker segment past the tile-part")
			}
			switch m {
			case mCOD:
				if first {
					t.hdr.cod, err = parseCOD(body)
				}
			case mCOC:
				if first {
					err = parseCOC(body, nc, t.hdr.coc)
				}
			case mQCD:
				if first {
					t.hdr.qcd, err = parseQuant(&reader{b: body})
				}
			case mQCC:
				if first {
					err = parseQCC(body, nc, t.hdr.qcc)
				}
			case mRGN:
				if t.hdr.roi == nil {
					t.hdr.roi = append([]int(nil), h.roi...)
				}
				err = parseRGN(body, nc, t.hdr.roi)
			case mPOC:
				var p []pocEntry
				p, err = parsePOC(body, nc)
				t.hdr.poc = append(t.hdr.poc, p...)
			case mPPT:
				if len(body) < 1 {
					return nil, corrupt("empty PPT")
				}
				z := int(body[0])
				for len(ppt) <= z {
					ppt = append(ppt, nil)
				}
				ppt[z] = append(ppt[z], body[1:]...)
			}
			if err != nil {
				return nil, err
			}
			pos = next
		}
		tp := tilePart{data: cs[pos:end]}
		if h.hasP {
			if partNo >= len(h.ppm) {
				return nil, corrupt("no PPM packet headers for tile-part %d", partNo)
			}
			tp.ppm = h.ppm[partNo]
		}
		for _, p := range ppt {
			t.hdr.ppt = append(t.hdr.ppt, p)
		}
		t.parts = append(t.parts, tp)
		partNo++
		pos = end
	}
	return tiles, nil
}
