package jpeg2k

import (
	"math"
	"sync"
	"sync/atomic"

	"lightbox/backend/codec"
)

func (d *Decoder) decode(src []byte, p codec.Params, reduce int, dst []byte) (*Image, error) {
	cs, err := findCodestream(src)
	if err != nil {
		return nil, err
	}
	h, pos, err := parseMainHeader(cs)
	if err != nil {
		return nil, err
	}
	nc := len(h.comps)
	width, height := h.xsiz-h.xosiz, h.ysiz-h.yosiz
	if p.SamplesPerPixel != nc {
		return nil, mismatch("%d components in the codestream, SamplesPerPixel %d", nc, p.SamplesPerPixel)
	}
	if width != p.Columns || height != p.Rows {
		return nil, mismatch("codestream is %dx%d, data set says %dx%d", width, height, p.Columns, p.Rows)
	}
	bps := (p.BitsAllocated + 7) / 8
	if bps != 1 && bps != 2 && bps != 4 {
		return nil, mismatch("BitsAllocated %d", p.BitsAllocated)
	}
	for i, c := range h.comps {
		if c.dx != 1 || c.dy != 1 {
			return nil, unsupported("component %d subsampled %dx%d", i, c.dx, c.dy)
		}
		if c.prec > 24 {
			return nil, unsupported("precision %d", c.prec)
		}
		if c.prec > 8*bps {
			return nil, mismatch("precision %d in %d-bit samples", c.prec, p.BitsAllocated)
		}
	}
	// Levels available everywhere bound the reduction.
	if reduce > 0 {
		minL := h.cod.sp.levels
		for _, cp := range h.coc {
			if cp != nil {
				minL = min(minL, cp.levels)
			}
		}
		reduce = min(reduce, minL)
	}
	tiles, err := parseTileParts(cs, pos, h)
	if err != nil {
		return nil, err
	}
	ox0, oy0 := ceilDivPow2(h.xosiz, reduce), ceilDivPow2(h.yosiz, reduce)
	ow, oh := ceilDivPow2(h.xsiz, reduce)-ox0, ceilDivPow2(h.ysiz, reduce)-oy0
	img := &Image{Width: ow, Height: oh, Components: nc}
	if dst == nil {
		dst = make([]byte, ow*oh*nc*bps)
	}
	img.Data = dst
	for t := range tiles {
		if !tiles[t].seen {
			return nil, corrupt("tile %d missing", t)
		}
		st, err := setupTile(h, &tiles[t], t)
		if err != nil {
			return nil, err
		}
		st.index, st.trace = t, d.packetTrace
		if err := d.decodeTile(st, &tiles[t], reduce); err != nil {
			return nil, err
		}
		if err := st.output(img, ox0, oy0, bps, reduce); err != nil {
			return nil, err
		}
		st.release(d)
	}
	return img, nil
}

// getBuf takes a zeroed buffer of n values from pool.
func getBuf[T int32 | float32](pool *sync.Pool, n int) []T {
	if b, ok := pool.Get().(*[]T); ok && cap(*b) >= n {
		s := (*b)[:n]
		clear(s)
		return s
	}
	return make([]T, n)
}

type cbJob struct {
	tc *tileComp
	b  *band
	cb *codeblock
}

func (d *Decoder) decodeTile(st *tileState, ts *tileSource, reduce int) error {
	// Assemble the tile's bit stream and packet headers.
	if len(ts.parts) == 1 {
		st.body = ts.parts[0].data
	} else {
		n := 0
		for _, tp := range ts.parts {
			n += len(tp.data)
		}
		st.body = make([]byte, 0, n)
		for _, tp := range ts.parts {
			st.body = append(st.body, tp.data...)
		}
	}
	if ts.parts[0].ppm != nil || len(ts.hdr.ppt) > 0 {
		st.usePH = true
		for _, tp := range ts.parts {
			st.hdr = append(st.hdr, tp.ppm...)
		}
		for _, pp := range ts.hdr.ppt {
			st.hdr = append(st.hdr, pp...)
		}
	}
	st.budget = 8*(len(st.body)+len(st.hdr)) + 1<<16
	for c := range st.comps {
		if st.comps[c].cp.levels < reduce {
			return unsupported("tile with %d levels, %d discarded", st.comps[c].cp.levels, reduce)
		}
	}
	if err := st.packetOrder(st.readPacket); err != nil {
		return err
	}
	// Allocate the component buffers at the target resolution.
	var jobs []cbJob
	for c := range st.comps {
		tc := &st.comps[c]
		top := tc.cp.levels - reduce
		tr := &tc.res[top]
		tc.w, tc.h = tr.x1-tr.x0, tr.y1-tr.y0
		n := tc.w * tc.h
		if tc.cp.reversible {
			tc.ibuf = getBuf[int32](&d.ints, n)
		} else {
			tc.fbuf = getBuf[float32](&d.floats, n)
		}
		// largest code-blocks (highest resolutions) first, so that the
		// workers finish together
		for r := top; r >= 0; r-- {
			for bi := range tc.res[r].bands {
				b := &tc.res[r].bands[bi]
				for k := range b.cbs {
					if b.cbs[k].passes > 0 {
						jobs = append(jobs, cbJob{tc, b, &b.cbs[k]})
					}
				}
			}
		}
	}
	// Tier-1 on a bounded pool.
	workers := min(d.workers(), max(1, len(jobs)/4))
	var next atomic.Int64
	run := func() {
		s, _ := d.scratch.Get().(*t1Scratch)
		if s == nil {
			s = &t1Scratch{}
		}
		for {
			i := int(next.Add(1)) - 1
			if i >= len(jobs) {
				break
			}
			j := jobs[i]
			s.decodeBlock(j.cb, j.b.orient, j.tc.cp.cbStyle, j.b.mb, j.tc.roi)
			j.tc.store(s, j.b, j.cb)
		}
		d.scratch.Put(s)
	}
	if workers <= 1 {
		run()
	} else {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				run()
			}()
		}
		wg.Wait()
	}
	// Wavelet synthesis.
	itmp := getBuf[int32](&d.ints, 0)
	ftmp := getBuf[float32](&d.floats, 0)
	defer func() {
		d.ints.Put(&itmp)
		d.floats.Put(&ftmp)
	}()
	for c := range st.comps {
		tc := &st.comps[c]
		top := tc.cp.levels - reduce
		if tc.cp.reversible {
			idwt(tc.ibuf, tc.w, tc.res, top, d.workers(), &itmp, wavelet53)
		} else {
			idwt(tc.fbuf, tc.w, tc.res, top, d.workers(), &ftmp, wavelet97)
		}
	}
	return nil
}

// store copies a decoded code-block into the component buffer, undoing the
// ROI shift and the quantization.
func (tc *tileComp) store(s *t1Scratch, b *band, cb *codeblock) {
	w, h := s.w, s.h
	bx, by := cb.x0-b.x0+b.offx, cb.y0-b.y0+b.offy
	st := s.stride
	roi := uint(tc.roi) & 31
	step := b.step
	for y0, k0 := 0, st+1; y0 < h; y0, k0 = y0+4, k0+st {
		cols := s.cols[k0 : k0+w]
		for r := 0; r < min(4, h-y0); r++ {
			sh := uint(wChi+1+r) & 31
			o := (by+y0+r)*tc.w + bx
			if roi > 0 {
				// Background coefficients were left below 2^roi; the
				// doubled representation carries one extra low bit.
				for x := range cols {
					if v := cols[x].m[r]; v >= 1<<(roi+1) {
						cols[x].m[r] = v >> roi
					}
				}
			}
			if tc.cp.reversible {
				dst := tc.ibuf[o : o+w]
				for x := range cols {
					neg := int32(cols[x].f>>sh) & 1
					dst[x] = (int32(cols[x].m[r]>>1) ^ -neg) + neg
				}
			} else {
				dst := tc.fbuf[o : o+w]
				for x := range cols {
					neg := int32(cols[x].f>>sh) & 1
					dst[x] = float32((int32(cols[x].m[r])^-neg)+neg) * step
				}
			}
		}
	}
}

// release hands the component buffers back to the decoder's pools.
func (st *tileState) release(d *Decoder) {
	for c := range st.comps {
		tc := &st.comps[c]
		if b := tc.ibuf; b != nil {
			d.ints.Put(&b)
		}
		if b := tc.fbuf; b != nil {
			d.floats.Put(&b)
		}
		tc.ibuf, tc.fbuf = nil, nil
	}
}

// output applies the inverse component transform and the DC level shift,
// clamps, and writes the tile into the frame.
func (st *tileState) output(img *Image, ox0, oy0, bps, reduce int) error {
	nc := len(st.comps)
	mct := st.cod.mct && nc >= 3
	if mct {
		a, b, c := &st.comps[0], &st.comps[1], &st.comps[2]
		if a.w != b.w || a.w != c.w || a.h != b.h || a.h != c.h {
			return unsupported("component transform on components of different sizes")
		}
		if a.cp.reversible != b.cp.reversible || a.cp.reversible != c.cp.reversible {
			return unsupported("component transform on mixed wavelets")
		}
		if a.cp.reversible {
			y0, y1, y2 := a.ibuf, b.ibuf, c.ibuf
			for i := range y0 {
				g := y0[i] - (y1[i]+y2[i])>>2
				r := y2[i] + g
				bb := y1[i] + g
				y0[i], y1[i], y2[i] = r, g, bb
			}
		} else {
			y0, y1, y2 := a.fbuf, b.fbuf, c.fbuf
			for i := range y0 {
				y, u, v := y0[i], y1[i], y2[i]
				r := y + float32(v*1.402)
				g := y - float32(u*0.34413) - float32(v*0.71414)
				bb := y + float32(u*1.772)
				y0[i], y1[i], y2[i] = r, g, bb
			}
		}
	}
	vals := make([]int32, 0, 1024)
	for c := range st.comps {
		tc := &st.comps[c]
		top := tc.cp.levels - reduce
		tr := &tc.res[top]
		dx, dy := tr.x0-ox0, tr.y0-oy0
		if dx < 0 || dy < 0 || dx+tc.w > img.Width || dy+tc.h > img.Height {
			return corrupt("tile outside the image")
		}
		prec := tc.comp.prec
		var lo, hi, shift int32
		if tc.comp.signed {
			lo, hi = -(1 << (prec - 1)), 1<<(prec-1)-1
		} else {
			lo, hi, shift = 0, 1<<prec-1, 1<<(prec-1)
		}
		if cap(vals) < tc.w {
			vals = make([]int32, tc.w)
		}
		vals = vals[:tc.w]
		for y := 0; y < tc.h; y++ {
			o := ((dy+y)*img.Width + dx) * nc
			if tc.cp.reversible && nc == 1 && bps == 2 {
				// the common case (one 16-bit component) in one go
				src := tc.ibuf[y*tc.w : y*tc.w+tc.w]
				put16(img.Data[2*o:2*o+2*len(src)], src, lo-shift, hi-shift, shift)
				continue
			}
			if tc.cp.reversible {
				// clamped before the shift, which cannot overflow then
				for x, v := range tc.ibuf[y*tc.w : y*tc.w+tc.w] {
					vals[x] = min(max(v, lo-shift), hi-shift) + shift
				}
			} else if nc == 1 && bps == 2 && hi-lo < 1<<20 {
				round16(img.Data[2*o:2*o+2*tc.w], tc.fbuf[y*tc.w:y*tc.w+tc.w], lo, hi, shift)
				continue
			} else {
				roundRow(vals, tc.fbuf[y*tc.w:y*tc.w+tc.w], lo, hi, shift)
			}
			putRow(img.Data[(o+c)*bps:(o+tc.w*nc)*bps], vals, nc, bps)
		}
	}
	return nil
}

// roundRow rounds the wavelet output f to integers (half to even, as
// OpenJPEG does), adds the DC level shift and clamps to [lo, hi].
func roundRow(dst []int32, f []float32, lo, hi, shift int32) {
	if hi-lo >= 1<<20 {
		// wide precisions: the general way
		for x, v := range f[:len(dst)] {
			var r int64
			switch {
			case v > math.MaxInt32:
				r = int64(hi)
			case v < math.MinInt32:
				r = int64(lo)
			default:
				r = int64(math.RoundToEven(float64(v))) + int64(shift)
			}
			dst[x] = int32(min(max(r, int64(lo)), int64(hi)))
		}
		return
	}
	// Clamped first to the bounds (before the level shift), the values stay
	// well inside the range where adding and subtracting 1.5*2^23 rounds a
	// float32 to an integer, half to even, and the integer is in bounds.
	// The first test is written so that a NaN takes the lower bound.
	const magic = 0x1.8p23
	flo, fhi := float32(lo-shift), float32(hi-shift)
	for x, v := range f[:len(dst)] {
		if !(v >= flo) {
			v = flo
		}
		if v > fhi {
			v = fhi
		}
		t := float32(v + magic)
		dst[x] = int32(float32(t-magic)) + shift
	}
}

// round16 is roundRow followed by put16 for precisions below 20 bits: it
// writes little-endian 16-bit samples.
func round16(dst []byte, f []float32, lo, hi, shift int32) {
	const magic = 0x1.8p23
	flo, fhi := float32(lo-shift), float32(hi-shift)
	dst = dst[:2*len(f)]
	for x, v := range f {
		if !(v >= flo) {
			v = flo
		}
		if v > fhi {
			v = fhi
		}
		t := float32(v + magic)
		r := int32(float32(t-magic)) + shift
		dst[2*x] = byte(r)
		dst[2*x+1] = byte(r >> 8)
	}
}

// putRow writes the clamped values of one tile row into the frame, every
// nc-th sample from the start of dst, little-endian in bps bytes.
func putRow(dst []byte, vals []int32, nc, bps int) {
	switch {
	case bps == 2 && nc == 1:
		dst = dst[:2*len(vals)]
		for x, v := range vals {
			dst[2*x] = byte(v)
			dst[2*x+1] = byte(v >> 8)
		}
	case bps == 1:
		for x, v := range vals {
			dst[x*nc] = byte(v)
		}
	case bps == 2:
		for x, v := range vals {
			dst[2*x*nc] = byte(v)
			dst[2*x*nc+1] = byte(v >> 8)
		}
	default:
		for x, v := range vals {
			i := 4 * x * nc
			dst[i] = byte(v)
			dst[i+1] = byte(v >> 8)
			dst[i+2] = byte(v >> 16)
			dst[i+3] = byte(v >> 24)
		}
	}
}

// put16 clamps src to [lo, hi], adds shift and writes the values to dst as
// little-endian 16-bit samples.
func put16(dst []byte, src []int32, lo, hi, shift int32) {
	dst = dst[:2*len(src)]
	for x, v := range src {
		v = min(max(v, lo), hi) + shift
		dst[2*x] = byte(v)
		dst[2*x+1] = byte(v >> 8)
	}
}
