package jpeg2k

import (
	"sort"
)

// Sub-band orientations; bit 0 = horizontal high-pass (xo_b), bit 1 =
// vertical (yo_b). HL codes its significance with the vertical neighbours
// as the primary count (T.800 Table D.1).
const (
	bandLL = 0
	bandHL = 1
	bandLH = 2
	bandHH = 3
)

// Bounds on the bookkeeping of one tile-component (about 500 and 150 bytes
// each): far above what real images use.
const (
	maxPrecincts  = 1 << 18
	maxCodeBlocks = 1 << 20
)

type chunk struct {
	seg  int
	data []byte
}

type cbSeg struct {
	passes, maxPasses int
	length            int
}

type codeblock struct {
	x0, y0, x1, y1 int // band coordinates
	included       bool
	zbp            int
	lblock         int
	passes         int
	segs           []cbSeg
	chunks         []chunk
}

type band struct {
	orient         int
	x0, y0, x1, y1 int
	xcb, ycb       int // code-block size exponents in this band
	ncbx, ncby     int
	cbs            []codeblock
	mb             int     // magnitude bit-planes Mb
	step           float32 // half the quantization step (irreversible)
	offx, offy     int     // position of the band in the tile-component buffer
}

type precBand struct {
	cx0, cy0, nw, nh int // code-block grid range, relative to the band's grid
	incl, zbp        tagTree
}

type precinct struct {
	b         [3]precBand
	nextLayer int
	x, y      int // upper-left corner on the reference grid (for position orders)
}

type resolution struct {
	x0, y0, x1, y1 int
	ppx, ppy       int // precinct exponents in resolution coordinates
	pw, ph         int
	bands          []band
	precincts      []precinct
}

// tileComp is one component of one tile.
type tileComp struct {
	x0, y0, x1, y1 int
	cp             *codingParams
	q              *quantParams
	roi            int
	comp           component
	res            []resolution
	// Buffers at the decoded resolution (stride = its width).
	w, h int
	ibuf []int32
	fbuf []float32
}

type tileState struct {
	x0, y0, x1, y1 int
	cod            *codSeg
	comps          []tileComp
	pocs           []pocEntry
	maxRes         int

	body    []byte
	bpos    int
	hdr     []byte // PPM/PPT packet headers, or nil
	hpos    int
	usePH   bool
	budget  int
	contrib []contribution
	index   int
	trace   func(tile, hs, he, bs, be int)
}

type contribution struct {
	cb     *codeblock
	seg    int
	length int
}

// setupTile computes the geometry and coding parameters of tile t.
func setupTile(h *mainHeader, ts *tileSource, t int) (*tileState, error) {
	p, q := t%h.ntx, t/h.ntx
	st := &tileState{
		x0: max(h.xtosiz+p*h.xtsiz, h.xosiz),
		y0: max(h.ytosiz+q*h.ytsiz, h.yosiz),
		x1: min(h.xtosiz+(p+1)*h.xtsiz, h.xsiz),
		y1: min(h.ytosiz+(q+1)*h.ytsiz, h.ysiz),
	}
	st.cod = h.cod
	if ts.hdr.cod != nil {
		st.cod = ts.hdr.cod
	}
	st.pocs = h.poc
	if len(ts.hdr.poc) > 0 {
		st.pocs = ts.hdr.poc
	}
	roi := h.roi
	if ts.hdr.roi != nil {
		roi = ts.hdr.roi
	}
	nc := len(h.comps)
	st.comps = make([]tileComp, nc)
	for c := range st.comps {
		tc := &st.comps[c]
		tc.comp = h.comps[c]
		// Coding parameters: tile COC > tile COD > main COC > main COD.
		switch {
		case ts.hdr.coc[c] != nil:
			tc.cp = ts.hdr.coc[c]
		case ts.hdr.cod != nil:
			tc.cp = &ts.hdr.cod.sp
		case h.coc[c] != nil:
			tc.cp = h.coc[c]
		default:
			tc.cp = &h.cod.sp
		}
		switch {
		case ts.hdr.qcc[c] != nil:
			tc.q = ts.hdr.qcc[c]
		case ts.hdr.qcd != nil:
			tc.q = ts.hdr.qcd
		case h.qcc[c] != nil:
			tc.q = h.qcc[c]
		default:
			tc.q = h.qcd
		}
		tc.roi = roi[c]
		dx, dy := tc.comp.dx, tc.comp.dy
		tc.x0, tc.y0 = ceilDiv(st.x0, dx), ceilDiv(st.y0, dy)
		tc.x1, tc.y1 = ceilDiv(st.x1, dx), ceilDiv(st.y1, dy)
		if err := tc.setup(); err != nil {
			return nil, err
		}
		st.maxRes = max(st.maxRes, tc.cp.levels+1)
	}
	return st, nil
}

func (tc *tileComp) setup() error {
	cp := tc.cp
	nl := cp.levels
	tc.res = make([]resolution, nl+1)
	nprec, ncb := 0, 0
	for r := 0; r <= nl; r++ {
		res := &tc.res[r]
		s := nl - r
		res.x0, res.y0 = ceilDivPow2(tc.x0, s), ceilDivPow2(tc.y0, s)
		res.x1, res.y1 = ceilDivPow2(tc.x1, s), ceilDivPow2(tc.y1, s)
		res.ppx, res.ppy = int(cp.ppx[r]), int(cp.ppy[r])
		if res.x1 > res.x0 {
			res.pw = ceilDivPow2(res.x1, res.ppx) - (res.x0 >> res.ppx)
		}
		if res.y1 > res.y0 {
			res.ph = ceilDivPow2(res.y1, res.ppy) - (res.y0 >> res.ppy)
		}
		xcb, ycb := min(cp.cbw, res.ppx), min(cp.cbh, res.ppy)
		bppx, bppy := res.ppx, res.ppy
		emptyPrecincts := false
		if r == 0 {
			res.bands = []band{{orient: bandLL, x0: res.x0, y0: res.y0, x1: res.x1, y1: res.y1}}
		} else {
			if res.ppx == 0 || res.ppy == 0 {
				// Invalid 2^0 precincts: like OpenJPEG, which writes them,
				// give them no code-blocks.
				emptyPrecincts = true
			}
			xcb, ycb = min(cp.cbw, max(res.ppx-1, 0)), min(cp.cbh, max(res.ppy-1, 0))
			bppx, bppy = max(res.ppx-1, 0), max(res.ppy-1, 0)
			nb := nl - r + 1
			res.bands = make([]band, 3)
			lw := tc.res[r-1].x1 - tc.res[r-1].x0
			lh := tc.res[r-1].y1 - tc.res[r-1].y0
			for i := range res.bands {
				o := i + 1
				xo, yo := o&1, o>>1
				b := &res.bands[i]
				b.orient = o
				b.x0 = ceilDivPow2(tc.x0-(xo<<(nb-1)), nb)
				b.y0 = ceilDivPow2(tc.y0-(yo<<(nb-1)), nb)
				b.x1 = ceilDivPow2(tc.x1-(xo<<(nb-1)), nb)
				b.y1 = ceilDivPow2(tc.y1-(yo<<(nb-1)), nb)
				b.offx, b.offy = xo*lw, yo*lh
			}
		}
		for i := range res.bands {
			b := &res.bands[i]
			b.xcb, b.ycb = xcb, ycb
			if b.x1 > b.x0 && b.y1 > b.y0 {
				b.ncbx = ceilDivPow2(b.x1, xcb) - (b.x0 >> xcb)
				b.ncby = ceilDivPow2(b.y1, ycb) - (b.y0 >> ycb)
			}
			if err := tc.quantFor(r, b); err != nil {
				return err
			}
		}
		np := res.pw * res.ph
		if np == 0 {
			continue
		}
		// Tiny precincts and code-blocks are legal but cost memory per
		// item: bound them before allocating.
		nprec += np
		for i := range res.bands {
			ncb += res.bands[i].ncbx * res.bands[i].ncby
		}
		if nprec > maxPrecincts || ncb > maxCodeBlocks {
			return unsupported("%d precincts, %d code-blocks in a tile-component", nprec, ncb)
		}
		res.precincts = make([]precinct, np)
		px0, py0 := res.x0>>res.ppx, res.y0>>res.ppy
		for j := 0; j < res.ph; j++ {
			for i := 0; i < res.pw; i++ {
				pr := &res.precincts[j*res.pw+i]
				// reference-grid corner (components are not subsampled)
				cx := (px0 + i) << res.ppx
				cy := (py0 + j) << res.ppy
				pr.x = max(cx, res.x0) << s
				pr.y = max(cy, res.y0) << s
				if cx < res.x0 {
					pr.x = tc.x0
				}
				if cy < res.y0 {
					pr.y = tc.y0
				}
				for bi := range res.bands {
					b := &res.bands[bi]
					pb := &pr.b[bi]
					if b.ncbx == 0 || b.ncby == 0 || emptyPrecincts {
						continue
					}
					rx0 := max(b.x0, (px0+i)<<bppx)
					rx1 := min(b.x1, (px0+i+1)<<bppx)
					ry0 := max(b.y0, (py0+j)<<bppy)
					ry1 := min(b.y1, (py0+j+1)<<bppy)
					if rx0 >= rx1 || ry0 >= ry1 {
						continue
					}
					cx0, cy0 := rx0>>b.xcb, ry0>>b.ycb
					pb.nw = ceilDivPow2(rx1, b.xcb) - cx0
					pb.nh = ceilDivPow2(ry1, b.ycb) - cy0
					pb.cx0 = cx0 - (b.x0 >> b.xcb)
					pb.cy0 = cy0 - (b.y0 >> b.ycb)
					pb.incl.init(pb.nw, pb.nh)
					pb.zbp.init(pb.nw, pb.nh)
				}
			}
		}
		for bi := range res.bands {
			b := &res.bands[bi]
			if b.ncbx == 0 || b.ncby == 0 {
				continue
			}
			b.cbs = make([]codeblock, b.ncbx*b.ncby)
			gx0, gy0 := b.x0>>b.xcb, b.y0>>b.ycb
			for j := 0; j < b.ncby; j++ {
				for i := 0; i < b.ncbx; i++ {
					cb := &b.cbs[j*b.ncbx+i]
					cb.x0 = max(b.x0, (gx0+i)<<b.xcb)
					cb.x1 = min(b.x1, (gx0+i+1)<<b.xcb)
					cb.y0 = max(b.y0, (gy0+j)<<b.ycb)
					cb.y1 = min(b.y1, (gy0+j+1)<<b.ycb)
				}
			}
		}
	}
	return nil
}

// quantFor sets Mb and the step size of band b at resolution r.
func (tc *tileComp) quantFor(r int, b *band) error {
	q := tc.q
	idx := 0
	if r > 0 {
		idx = 3*(r-1) + b.orient
	}
	var exp, mant int
	if q.style == 1 {
		exp = int(q.exp[0]) - max(r-1, 0)
		if exp < 0 {
			exp = 0
		}
		mant = int(q.mant[0])
	} else {
		if idx >= len(q.exp) {
			return corrupt("no step size for sub-band %d", idx)
		}
		exp, mant = int(q.exp[idx]), int(q.mant[idx])
	}
	b.mb = q.guard + exp - 1
	if b.mb+tc.roi > 30 {
		return unsupported("%d magnitude bit-planes", b.mb+tc.roi)
	}
	if !tc.cp.reversible {
		step := (1 + float64(mant)/2048) * pow2(tc.comp.prec-exp)
		b.step = 0.5 * float32(step)
	}
	return nil
}

func pow2(e int) float64 {
	v := 1.0
	for ; e > 0; e-- {
		v *= 2
	}
	for ; e < 0; e++ {
		v /= 2
	}
	return v
}

// packetOrder calls fn for each packet of the tile in codestream order.
func (st *tileState) packetOrder(fn func(l, r, c, p int) error) error {
	pocs := st.pocs
	if len(pocs) == 0 {
		pocs = []pocEntry{{rs: 0, cs: 0, lye: st.cod.layers, re: st.maxRes, ce: len(st.comps), prog: st.cod.prog}}
	}
	type pos struct{ c, r, p, x, y int }
	for _, e := range pocs {
		lye := min(e.lye, st.cod.layers)
		re := min(e.re, st.maxRes)
		ce := min(e.ce, len(st.comps))
		emit := func(l, r, c, p int) error {
			st.budget--
			if st.budget < 0 {
				return corrupt("too many packets for the data")
			}
			pr := &st.comps[c].res[r].precincts[p]
			if pr.nextLayer != l {
				return nil
			}
			pr.nextLayer++
			return fn(l, r, c, p)
		}
		switch e.prog {
		case progLRCP, progRLCP:
			outer, inner := lye, re
			if e.prog == progRLCP {
				outer, inner = re, lye
			}
			for a := 0; a < outer; a++ {
				for b := 0; b < inner; b++ {
					l, r := a, b
					if e.prog == progRLCP {
						l, r = b, a
					}
					if e.prog == progRLCP && r < e.rs || e.prog == progLRCP && r < e.rs {
						continue
					}
					for c := e.cs; c < ce; c++ {
						if r >= len(st.comps[c].res) {
							continue
						}
						np := len(st.comps[c].res[r].precincts)
						for p := 0; p < np; p++ {
							if err := emit(l, r, c, p); err != nil {
								return err
							}
						}
					}
				}
			}
		default:
			var list []pos
			for c := e.cs; c < ce; c++ {
				tc := &st.comps[c]
				for r := e.rs; r < min(re, len(tc.res)); r++ {
					for p := range tc.res[r].precincts {
						pr := &tc.res[r].precincts[p]
						list = append(list, pos{c, r, p, pr.x, pr.y})
					}
				}
			}
			var less func(a, b pos) bool
			switch e.prog {
			case progRPCL:
				less = func(a, b pos) bool {
					return cmpKeys(a.r, b.r, a.y, b.y, a.x, b.x, a.c, b.c)
				}
			case progPCRL:
				less = func(a, b pos) bool {
					return cmpKeys(a.y, b.y, a.x, b.x, a.c, b.c, a.r, b.r)
				}
			default: // CPRL
				less = func(a, b pos) bool {
					return cmpKeys(a.c, b.c, a.y, b.y, a.x, b.x, a.r, b.r)
				}
			}
			sort.SliceStable(list, func(i, j int) bool { return less(list[i], list[j]) })
			for _, it := range list {
				for l := 0; l < lye; l++ {
					if err := emit(l, it.r, it.c, it.p); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// cmpKeys orders by (a1,b1), then (a2,b2)...: it reports whether the first
// key tuple sorts before the second.
func cmpKeys(k ...int) bool {
	for i := 0; i+1 < len(k); i += 2 {
		if k[i] != k[i+1] {
			return k[i] < k[i+1]
		}
	}
	return false
}

// readPacket decodes one packet header and attaches its body bytes to the
// code-blocks.
func (st *tileState) readPacket(l, r, c, p int) error {
	tc := &st.comps[c]
	res := &tc.res[r]
	pr := &res.precincts[p]
	body := st.body
	// SOP marker segment (tolerated whether or not COD announces it).
	if st.bpos+6 <= len(body) && body[st.bpos] == 0xFF && body[st.bpos+1] == 0x91 {
		st.bpos += 6
	}
	hs := st.bpos
	var br bitReader
	if st.usePH {
		br.data, br.pos = st.hdr, st.hpos
	} else {
		br.data, br.pos = body, st.bpos
	}
	st.contrib = st.contrib[:0]
	style := tc.cp.cbStyle
	if br.bit() == 1 {
		for bi := range res.bands {
			b := &res.bands[bi]
			pb := &pr.b[bi]
			for j := 0; j < pb.nh; j++ {
				for i := 0; i < pb.nw; i++ {
					cb := &b.cbs[(pb.cy0+j)*b.ncbx+pb.cx0+i]
					leaf := j*pb.nw + i
					var incl bool
					if !cb.included {
						incl = pb.incl.decode(&br, leaf, l+1)
					} else {
						incl = br.bit() == 1
					}
					if br.err {
						return corrupt("packet header truncated")
					}
					if !incl {
						continue
					}
					if !cb.included {
						z, ok := pb.zbp.value(&br, leaf)
						if !ok {
							return corrupt("bad zero bit-plane count")
						}
						cb.included = true
						cb.zbp = z
						cb.lblock = 3
					}
					n := numPasses(&br)
					for br.bit() == 1 {
						cb.lblock++
						if cb.lblock > 31 || br.err {
							return corrupt("bad Lblock")
						}
					}
					if cb.passes+n > 3*32 {
						return corrupt("%d coding passes", cb.passes+n)
					}
					for n > 0 {
						if len(cb.segs) == 0 || cb.segs[len(cb.segs)-1].passes == cb.segs[len(cb.segs)-1].maxPasses {
							cb.segs = append(cb.segs, cbSeg{maxPasses: segMaxPasses(cb.passes, style)})
						}
						si := len(cb.segs) - 1
						sg := &cb.segs[si]
						take := min(n, sg.maxPasses-sg.passes)
						bits := cb.lblock + floorLog2(take)
						if bits > 32 {
							return corrupt("segment length of %d bits", bits)
						}
						length := br.bits(bits)
						st.contrib = append(st.contrib, contribution{cb, si, length})
						sg.passes += take
						cb.passes += take
						n -= take
					}
					if br.err {
						return corrupt("packet header truncated")
					}
				}
			}
		}
	}
	if br.err {
		return corrupt("packet header truncated")
	}
	br.align()
	if br.err {
		return corrupt("packet header truncated")
	}
	np := br.pos
	if np+2 <= len(br.data) && br.data[np] == 0xFF && br.data[np+1] == 0x92 {
		np += 2
	}
	if st.usePH {
		st.hpos = np
	} else {
		st.bpos = np
	}
	bs := st.bpos
	if st.trace != nil {
		defer func() { st.trace(st.index, hs, np, bs, st.bpos) }()
	}
	for _, ct := range st.contrib {
		if ct.length > len(body)-st.bpos {
			return corrupt("packet body truncated")
		}
		if ct.length > 0 {
			ct.cb.chunks = append(ct.cb.chunks, chunk{ct.seg, body[st.bpos : st.bpos+ct.length]})
			ct.cb.segs[ct.seg].length += ct.length
		}
		st.bpos += ct.length
	}
	return nil
}

func segMaxPasses(first int, style uint8) int {
	switch {
	case style&cbTermAll != 0:
		return 1
	case style&cbBypass != 0:
		if first < 10 {
			return 10 - first
		}
		if (first-10)%3 == 0 {
			return 2
		}
		return 1
	}
	return 1 << 20
}

func floorLog2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}

func numPasses(br *bitReader) int {
	if br.bit() == 0 {
		return 1
	}
	if br.bit() == 0 {
		return 2
	}
	if v := br.bits(2); v != 3 {
		return 3 + v
	}
	if v := br.bits(5); v != 31 {
		return 6 + v
	}
	return 37 + br.bits(7)
}

// bitReader reads packet header bits (T.800 B.10.1): a byte following 0xFF
// holds 7 bits only.
type bitReader struct {
	data   []byte
	pos    int
	buf    uint32
	n      int
	lastFF bool
	err    bool
}

func (b *bitReader) bit() int {
	if b.n == 0 {
		if b.pos >= len(b.data) {
			b.err = true
			return 0
		}
		c := b.data[b.pos]
		b.pos++
		b.n = 8
		if b.lastFF {
			b.n = 7
		}
		b.lastFF = c == 0xFF
		b.buf = uint32(c)
	}
	b.n--
	return int(b.buf>>uint(b.n)) & 1
}

func (b *bitReader) bits(n int) int {
	v := 0
	for i := 0; i < n; i++ {
		v = v<<1 | b.bit()
	}
	return v
}

// align ends a packet header: the rest of the byte is padding, and a byte
// after 0xFF is skipped.
func (b *bitReader) align() {
	b.n = 0
	if b.lastFF {
		if b.pos >= len(b.data) {
			b.err = true
			return
		}
		b.pos++
		b.lastFF = false
	}
}

// tagTree is a T.800 B.10.2 tag tree over a w x h grid of leaves.
type tagTree struct {
	w, h   int
	nodes  []ttNode
	parent []int32
}

type ttNode struct {
	value int32 // 1<<30 until known
	low   int32
}

func (t *tagTree) init(w, h int) {
	t.w, t.h = w, h
	n := 0
	lw, lh := w, h
	for {
		n += lw * lh
		if lw <= 1 && lh <= 1 {
			break
		}
		lw, lh = (lw+1)/2, (lh+1)/2
	}
	t.nodes = make([]ttNode, n)
	t.parent = make([]int32, n)
	for i := range t.nodes {
		t.nodes[i].value = 1 << 30
	}
	base := 0
	lw, lh = w, h
	for {
		if lw <= 1 && lh <= 1 {
			t.parent[base] = -1
			break
		}
		nw, nh := (lw+1)/2, (lh+1)/2
		nbase := base + lw*lh
		for y := 0; y < lh; y++ {
			for x := 0; x < lw; x++ {
				t.parent[base+y*lw+x] = int32(nbase + (y/2)*nw + x/2)
			}
		}
		base = nbase
		lw, lh = nw, nh
	}
}

// decode reports whether the leaf's value is below threshold.
func (t *tagTree) decode(br *bitReader, leaf, threshold int) bool {
	var stack [40]int32
	n := 0
	for i := int32(leaf); i >= 0 && n < len(stack); i = t.parent[i] {
		stack[n] = i
		n++
	}
	low := int32(0)
	th := int32(threshold)
	for k := n - 1; k >= 0; k-- {
		nd := &t.nodes[stack[k]]
		if low > nd.low {
			nd.low = low
		} else {
			low = nd.low
		}
		for low < th && low < nd.value {
			if br.err {
				return false
			}
			if br.bit() == 1 {
				nd.value = low
			} else {
				low++
			}
		}
		nd.low = low
	}
	return t.nodes[leaf].value < th
}

// value decodes the leaf's value completely.
func (t *tagTree) value(br *bitReader, leaf int) (int, bool) {
	for th := 1; th < 64; th++ {
		if t.decode(br, leaf, th) {
			return int(t.nodes[leaf].value), true
		}
		if br.err {
			return 0, false
		}
	}
	return 0, false
}
