// Package jpegls is a pure-Go JPEG-LS decoder (ITU-T T.87 | ISO/IEC
// 14495-1) for the DICOM transfer syntaxes 1.2.840.10008.1.2.4.80 (lossless)
// and .81 (near-lossless).
//
// It decodes precisions 2 to 16 bits, one to four components, the three
// interleave modes (none, line, sample), custom preset parameters (LSE
// marker, ID 1), oversize dimensions (LSE ID 4), restart intervals (DRI and
// RSTm) and the HP colour transforms (APP8 "mrfx") written by HP and CharLS.
// Mapping tables (LSE ID 2/3 used by a scan), point transforms and
// subsampled components end in codec.ErrUnsupported.
//
// Decoder implements codec.Decoder: Decode writes the canonical samples of
// package codec (row-major, components interleaved, little-endian of
// BitsAllocated width). JPEG-LS is lossless or bounded-error by
// construction, so values never exceed MAXVAL. Three-component frames whose
// Params say YBR_FULL (or YBR_FULL_422) are converted to RGB by
// codec.YBRFullToRGB; HP-transformed frames come out as RGB.
//
// An LSE MAXVAL below 2^P-1 is read as T.87 says (it sets RANGE, LIMIT and
// the clamping); CharLS writes such a MAXVAL but codes with 2^P-1, so a
// stream that fails that way is decoded again CharLS's way. Every size read from the
// codestream is checked against the Params and codec.MaxPixels before
// anything is allocated; a malformed or truncated codestream ends in
// codec.ErrCorrupt and never panics; every loop is bounded by the input or
// output size.
//
// A Decoder is safe for concurrent use; it keeps only a pool of scratch
// buffers between calls. The zero value is ready to use. Decode neither
// retains src nor dst after it returns.
package jpegls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"lightbox/backend/codec"
)

// Decoder decodes JPEG-LS frames. The zero value is ready to use.
type Decoder struct {
	pool sync.Pool // of *state
}

// New returns a Decoder.
func New() *Decoder { return &Decoder{} }

var _ codec.Decoder = (*Decoder)(nil)

// Marker codes (T.81 Table B.1, T.87 Table C.1).
const (
	mSOF55 = 0xF7
	mLSE   = 0xF8
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDNL   = 0xDC
	mDRI   = 0xDD
	mRST0  = 0xD0
	mAPP8  = 0xE8
)

// Colour transforms of the HP "mrfx" APP8 segment.
const (
	xformNone = 0
	xformHP1  = 1
	xformHP2  = 2
	xformHP3  = 3
)

func corrupt(format string, a ...any) error {
	return fmt.Errorf("jpegls: %w: "+format, append([]any{codec.ErrCorrupt}, a...)...)
}

func unsupported(format string, a ...any) error {
	return fmt.Errorf("jpegls: %w: "+format, append([]any{codec.ErrUnsupported}, a...)...)
}

func mismatch(format string, a ...any) error {
	return fmt.Errorf("jpegls: %w: "+format, append([]any{codec.ErrMismatch}, a...)...)
}

// state is the per-call decoding state, pooled for its buffers.
type state struct {
	// frame
	width, height, prec, nf int
	ids                     [maxNc]byte
	done                    [maxNc]bool
	sof                     bool
	// presets from LSE ID 1 (0: default)
	maxval, t1, t2, t3, reset int
	restart                   int
	xform                     int
	// lowMaxval: an LSE set MAXVAL below 2^P-1; charlsMaxval: code with
	// 2^P-1 all the same (see Decode)
	lowMaxval, charlsMaxval bool
	// output
	dst []byte
	bps int // bytes per output sample
	// scratch, kept by the pool: line buffers, and the gradient
	// quantisation table for the parameters in qkey
	lines []int32
	qt    *quantTable
	qkey  qKey
	coder coder
}

func (d *Decoder) get() *state {
	if s, ok := d.pool.Get().(*state); ok {
		return s
	}
	return &state{}
}

// Decode decodes the JPEG-LS codestream src into dst, which must hold
// exactly p.FrameSize() bytes.
func (d *Decoder) Decode(src []byte, p codec.Params, dst []byte) error {
	if p.Rows <= 0 || p.Columns <= 0 || p.SamplesPerPixel <= 0 {
		return mismatch("rows %d, columns %d, samples %d", p.Rows, p.Columns, p.SamplesPerPixel)
	}
	switch p.BitsAllocated {
	case 8, 16, 32:
	default:
		return mismatch("bits allocated %d", p.BitsAllocated)
	}
	if uint64(p.Rows)*uint64(p.Columns)*uint64(p.SamplesPerPixel) > codec.MaxPixels {
		return fmt.Errorf("jpegls: %w: %dx%dx%d", codec.ErrTooLarge, p.Rows, p.Columns, p.SamplesPerPixel)
	}
	if len(dst) != p.FrameSize() {
		return mismatch("destination holds %d bytes, frame needs %d", len(dst), p.FrameSize())
	}
	s := d.get()
	s.begin(dst, p, false)
	err := s.decode(src, p)
	if err != nil && s.lowMaxval && errors.Is(err, codec.ErrCorrupt) {
		// CharLS (and so most DICOM encoders) writes an LSE MAXVAL below
		// 2^P-1 but codes with RANGE, LIMIT and clamping of 2^P-1; T.87
		// codes with MAXVAL. Retry with CharLS's reading.
		s.begin(dst, p, true)
		if err2 := s.decode(src, p); err2 == nil {
			err = nil
		}
	}
	s.dst = nil
	d.pool.Put(s)
	return err
}

// begin clears the state for a new frame, keeping the scratch buffers.
func (s *state) begin(dst []byte, p codec.Params, charlsMaxval bool) {
	*s = state{lines: s.lines, qt: s.qt, qkey: s.qkey,
		dst: dst, bps: p.BitsAllocated / 8, charlsMaxval: charlsMaxval}
}

// segment returns the payload of the marker segment whose length field is
// at src[i:].
func segment(src []byte, i int) ([]byte, error) {
	if i+2 > len(src) {
		return nil, corrupt("truncated marker segment")
	}
	n := int(binary.BigEndian.Uint16(src[i:]))
	if n < 2 || i+n > len(src) {
		return nil, corrupt("marker segment length %d", n)
	}
	return src[i+2 : i+n], nil
}

func (s *state) decode(src []byte, p codec.Params) error {
	if len(src) < 2 || src[0] != 0xFF || src[1] != mSOI {
		return corrupt("no SOI marker")
	}
	i := 2
	for {
		// find the next marker, skipping fill bytes
		if i >= len(src) || src[i] != 0xFF {
			return corrupt("marker expected at offset %d", i)
		}
		for i < len(src) && src[i] == 0xFF {
			i++
		}
		if i >= len(src) {
			return corrupt("truncated before EOI")
		}
		m := src[i]
		i++
		switch {
		case m == mEOI:
			if !s.sof {
				return corrupt("EOI before frame header")
			}
			for c := range s.nf {
				if !s.done[c] {
					return corrupt("component %d has no scan", c)
				}
			}
			s.applyTransform()
			if s.xform == xformNone && s.nf == 3 && s.bps <= 2 && (p.Photometric == "YBR_FULL" || p.Photometric == "YBR_FULL_422") {
				codec.YBRFullToRGB(s.dst, s.bps, s.prec)
			}
			return nil
		case m == mSOS:
			seg, err := segment(src, i)
			if err != nil {
				return err
			}
			i, err = s.scan(src, i+2+len(seg), seg, p)
			if err != nil {
				return err
			}
			continue
		case m >= mRST0 && m <= mRST0+7, m == 0x01:
			continue // stray parameterless marker
		}
		seg, err := segment(src, i)
		if err != nil {
			return err
		}
		i += 2 + len(seg)
		switch {
		case m == mSOF55:
			if err := s.frame(seg, p); err != nil {
				return err
			}
		case m == mLSE:
			if err := s.lse(seg, p); err != nil {
				return err
			}
		case m == mDRI:
			switch len(seg) {
			case 2, 3, 4:
				r := 0
				for _, b := range seg {
					r = r<<8 | int(b)
				}
				s.restart = r
			default:
				return corrupt("DRI length %d", len(seg))
			}
		case m == mAPP8:
			if len(seg) >= 5 && string(seg[:4]) == "mrfx" {
				if seg[4] > xformHP3 {
					return unsupported("colour transform %d", seg[4])
				}
				s.xform = int(seg[4])
			}
		case m == mDNL:
			return unsupported("DNL marker")
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return unsupported("not a JPEG-LS frame (SOF%d)", m-0xC0)
		case m == 0xF9:
			return unsupported("JPEG-LS extension frame (SOF57)")
		default:
			// APPn, COM and other segments carry nothing we need
		}
	}
}

// frame parses SOF55 and checks it against p.
func (s *state) frame(seg []byte, p codec.Params) error {
	if s.sof {
		return corrupt("second frame header")
	}
	if len(seg) < 6 {
		return corrupt("short SOF55")
	}
	s.sof = true
	s.prec = int(seg[0])
	h, w, nf := int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:])), int(seg[5])
	if len(seg) != 6+3*nf {
		return corrupt("SOF55 length %d for %d components", len(seg), nf)
	}
	if s.prec < 2 || s.prec > 16 {
		return corrupt("precision %d", s.prec)
	}
	if nf < 1 {
		return corrupt("no components")
	}
	if nf > maxNc {
		return unsupported("%d components", nf)
	}
	if h != 0 {
		s.height = h
	}
	if w != 0 {
		s.width = w
	}
	s.nf = nf
	hv := seg[7]
	for c := range nf {
		s.ids[c] = seg[6+3*c]
		for k := range c {
			if s.ids[k] == s.ids[c] {
				return corrupt("duplicate component id %d", s.ids[c])
			}
		}
		if seg[7+3*c] != hv {
			return unsupported("subsampled components")
		}
	}
	if nf != p.SamplesPerPixel {
		return mismatch("%d components, data set has %d samples per pixel", nf, p.SamplesPerPixel)
	}
	if (s.prec+7)/8 > s.bps {
		return mismatch("precision %d in %d-bit samples", s.prec, 8*s.bps)
	}
	return nil
}

// lse parses the JPEG-LS preset parameters segment (T.87 C.2.4.1).
func (s *state) lse(seg []byte, p codec.Params) error {
	if len(seg) < 1 {
		return corrupt("empty LSE")
	}
	switch seg[0] {
	case 1:
		if len(seg) != 11 {
			return corrupt("LSE preset length %d", len(seg))
		}
		u := func(i int) int { return int(binary.BigEndian.Uint16(seg[i:])) }
		s.maxval, s.t1, s.t2, s.t3, s.reset = u(1), u(3), u(5), u(7), u(9)
	case 2, 3:
		// mapping table: only an error if a scan uses it
	case 4:
		if len(seg) < 2 {
			return corrupt("short LSE oversize")
		}
		wxy := int(seg[1])
		if wxy < 2 || wxy > 4 || len(seg) != 2+2*wxy {
			return corrupt("LSE oversize length")
		}
		get := func(b []byte) int {
			v := 0
			for _, x := range b {
				v = v<<8 | int(x)
			}
			return v
		}
		s.height, s.width = get(seg[2:2+wxy]), get(seg[2+wxy:2+2*wxy])
	default:
		return unsupported("LSE ID %d", seg[0])
	}
	return nil
}

// thresholds returns the effective MAXVAL, T1, T2, T3 and RESET for a scan
// with the given NEAR (T.87 C.2.4.1.1 defaults for absent values).
func (s *state) thresholds(near int) (maxval, t1, t2, t3, reset int, err error) {
	full := 1<<s.prec - 1
	maxval = s.maxval
	if maxval == 0 {
		maxval = full
	}
	if maxval > full {
		return 0, 0, 0, 0, 0, corrupt("MAXVAL %d for precision %d", maxval, s.prec)
	}
	if near > min(255, maxval/2) {
		return 0, 0, 0, 0, 0, corrupt("NEAR %d for MAXVAL %d", near, maxval)
	}
	clamp := func(i, j int) int {
		if i > maxval || i < j {
			return j
		}
		return i
	}
	var d1, d2, d3 int
	if maxval >= 128 {
		f := (min(maxval, 4095) + 128) / 256
		d1 = clamp(f*(3-2)+2+3*near, near+1)
		d2 = clamp(f*(7-3)+3+5*near, d1)
		d3 = clamp(f*(21-4)+4+7*near, d2)
	} else {
		f := 256 / (maxval + 1)
		d1 = clamp(max(2, 3/f+3*near), near+1)
		d2 = clamp(max(3, 7/f+5*near), d1)
		d3 = clamp(max(4, 21/f+7*near), d2)
	}
	t1, t2, t3, reset = s.t1, s.t2, s.t3, s.reset
	if t1 == 0 {
		t1 = d1
	}
	if t2 == 0 {
		t2 = d2
	}
	if t3 == 0 {
		t3 = d3
	}
	if reset == 0 {
		reset = 64
	}
	if t1 < near+1 || t2 < t1 || t3 < t2 || t3 > maxval {
		return 0, 0, 0, 0, 0, corrupt("thresholds %d %d %d (NEAR %d, MAXVAL %d)", t1, t2, t3, near, maxval)
	}
	if reset < 3 || reset > max(255, maxval) {
		return 0, 0, 0, 0, 0, corrupt("RESET %d", reset)
	}
	if maxval < full {
		s.lowMaxval = true
		if s.charlsMaxval {
			maxval = full
		}
	}
	return maxval, t1, t2, t3, reset, nil
}

// scan parses an SOS header and decodes its entropy-coded data, which
// starts at src[pos:]. It returns the offset of the marker that follows.
func (s *state) scan(src []byte, pos int, seg []byte, p codec.Params) (int, error) {
	if !s.sof {
		return 0, corrupt("SOS before SOF55")
	}
	if s.width != p.Columns || s.height != p.Rows {
		return 0, mismatch("%dx%d image, data set has %dx%d", s.width, s.height, p.Columns, p.Rows)
	}
	if len(seg) < 1 {
		return 0, corrupt("empty SOS")
	}
	ns := int(seg[0])
	if ns < 1 || ns > s.nf || len(seg) != 4+2*ns {
		return 0, corrupt("SOS with %d components", ns)
	}
	var comps [maxNc]int
	for k := range ns {
		id, tm := seg[1+2*k], seg[2+2*k]
		c := -1
		for j := range s.nf {
			if s.ids[j] == id {
				c = j
			}
		}
		if c < 0 || s.done[c] {
			return 0, corrupt("scan component %d unknown or repeated", id)
		}
		if tm != 0 {
			return 0, unsupported("mapping table %d", tm)
		}
		comps[k] = c
		s.done[c] = true
	}
	near, ilv, pt := int(seg[1+2*ns]), int(seg[2+2*ns]), seg[3+2*ns]
	if ilv > 2 || ilv == 0 && ns > 1 {
		return 0, corrupt("interleave mode %d with %d components", ilv, ns)
	}
	if ns == 1 {
		ilv = 0
	}
	if pt != 0 {
		return 0, unsupported("point transform %d", pt)
	}
	maxval, t1, t2, t3, reset, err := s.thresholds(near)
	if err != nil {
		return 0, err
	}
	w := s.width
	cd := &s.coder
	if s.qt == nil {
		s.qt = new(quantTable)
	}
	cd.setup(w, maxval, near, t1, t2, t3, reset, s.qt, &s.qkey)
	// two lines of (w+2) samples per component
	need := 2 * (w + 2) * ns
	if cap(s.lines) < need {
		s.lines = make([]int32, need)
	}
	lines := s.lines[:need]
	interval := s.restart
	if interval == 0 {
		interval = s.height
	}
	line, rst := 0, 0
	for {
		end := markerAt(src, pos)
		cd.br.reset(src[pos:end])
		cd.resetState()
		clear(lines)
		for k := 0; k < interval && line < s.height; k++ {
			s.decodeRow(lines, line, comps[:ns], ilv)
			if cd.br.overrun() {
				return 0, corrupt("entropy-coded data ends in line %d", line)
			}
			line++
		}
		pos = end
		if line == s.height {
			return pos, nil
		}
		if pos+1 >= len(src) || src[pos+1] != byte(mRST0+rst%8) {
			return 0, corrupt("restart marker %d missing before line %d", rst%8, line)
		}
		pos += 2
		rst++
	}
}

// markerAt returns the offset of the first marker (0xFF followed by a byte
// >= 0x80) at or after pos, or len(src).
func markerAt(src []byte, pos int) int {
	for pos < len(src)-1 {
		j := indexFF(src[pos : len(src)-1])
		if j < 0 {
			break
		}
		pos += j
		if src[pos+1] >= 0x80 {
			return pos
		}
		pos++
	}
	return len(src)
}

func indexFF(b []byte) int {
	return bytes.IndexByte(b, 0xFF)
}

// decodeRow decodes image line y of the scan's components and stores it.
func (s *state) decodeRow(lines []int32, y int, comps []int, ilv int) {
	cd := &s.coder
	w := s.width
	if ilv == 2 {
		nc := len(comps)
		n := (w + 2) * nc
		prev, cur := lines[:n], lines[n:2*n]
		if y&1 == 1 {
			prev, cur = cur, prev
		}
		cd.decodePixels(prev, cur, nc)
		for k, c := range comps {
			s.store(cur[nc+k:(w+1)*nc], nc, y, c)
		}
		return
	}
	// three line-interleaved components of up to 16 bits are stored
	// together once the row is decoded: one pass over the output row
	// instead of three strided ones
	var rgb [3][]int32
	together := ilv == 1 && len(comps) == 3 && s.nf == 3 && s.bps <= 2
	for k, c := range comps {
		base := lines[2*(w+2)*k : 2*(w+2)*(k+1)]
		prev, cur := base[:w+2], base[w+2:]
		if y&1 == 1 {
			prev, cur = cur, prev
		}
		cd.decodeLine(prev, cur, k)
		if together {
			rgb[c] = cur[1 : w+1]
		} else {
			s.store(cur[1:w+1], 1, y, c)
		}
	}
	if together {
		s.store3(y, rgb[0], rgb[1], rgb[2])
	}
}

// store3 writes line y of a three-component frame from the lines of its
// components (1 or 2-byte samples).
func (s *state) store3(y int, c0, c1, c2 []int32) {
	w := s.width
	c0, c1, c2 = c0[:w], c1[:w], c2[:w]
	if s.bps == 1 {
		d := s.dst[3*y*w : 3*(y+1)*w]
		for x := range w {
			p := d[3*x : 3*x+3 : 3*x+3]
			p[0], p[1], p[2] = byte(c0[x]), byte(c1[x]), byte(c2[x])
		}
		return
	}
	d := s.dst[6*y*w : 6*(y+1)*w]
	for x := range w {
		p := d[6*x : 6*x+6 : 6*x+6]
		binary.LittleEndian.PutUint16(p, uint16(c0[x]))
		binary.LittleEndian.PutUint16(p[2:], uint16(c1[x]))
		binary.LittleEndian.PutUint16(p[4:], uint16(c2[x]))
	}
}

// store writes the samples src[0], src[step], ... of line y, component c.
func (s *state) store(src []int32, step, y, c int) {
	w, nf, bps := s.width, s.nf, s.bps
	o := (y*w*nf + c) * bps
	if step == 1 && nf == 1 {
		src = src[:w]
		switch bps {
		case 1:
			d := s.dst[o : o+w]
			for x, v := range src {
				d[x] = byte(v)
			}
			return
		case 2:
			d := s.dst[o : o+2*w]
			x := 0
			for ; x+4 <= len(src); x += 4 {
				v := src[x : x+4 : x+4]
				binary.LittleEndian.PutUint64(d[2*x:], uint64(uint16(v[0]))|uint64(uint16(v[1]))<<16|
					uint64(uint16(v[2]))<<32|uint64(uint16(v[3]))<<48)
			}
			for ; x < len(src); x++ {
				binary.LittleEndian.PutUint16(d[2*x:], uint16(src[x]))
			}
			return
		}
	}
	stride := nf * bps
	dst := s.dst[o : o+(w-1)*stride+bps]
	switch bps {
	case 1:
		for x := range w {
			dst[x*stride] = byte(src[x*step])
		}
	case 2:
		for x := range w {
			v := src[x*step]
			dst[x*stride] = byte(v)
			dst[x*stride+1] = byte(v >> 8)
		}
	default:
		for x := range w {
			binary.LittleEndian.PutUint32(dst[x*stride:], uint32(src[x*step]))
		}
	}
}

// applyTransform undoes the HP colour transform on the decoded frame.
func (s *state) applyTransform() {
	if s.xform == xformNone || s.nf != 3 {
		return
	}
	rng := 256
	if s.prec > 8 {
		rng = 65536
	}
	mask, bias := rng-1, rng/2
	bps := s.bps
	get := func(o int) int {
		switch bps {
		case 1:
			return int(s.dst[o])
		case 2:
			return int(binary.LittleEndian.Uint16(s.dst[o:]))
		}
		return int(binary.LittleEndian.Uint32(s.dst[o:]))
	}
	put := func(o, v int) {
		switch bps {
		case 1:
			s.dst[o] = byte(v)
		case 2:
			binary.LittleEndian.PutUint16(s.dst[o:], uint16(v))
		default:
			binary.LittleEndian.PutUint32(s.dst[o:], uint32(v))
		}
	}
	for o := 0; o+3*bps <= len(s.dst); o += 3 * bps {
		v1, v2, v3 := get(o), get(o+bps), get(o+2*bps)
		var r, g, b int
		switch s.xform {
		case xformHP1:
			r, g, b = v1+v2-bias, v2, v3+v2-bias
		case xformHP2:
			r = (v1 + v2 - bias) & mask
			g = v2
			b = v3 + (r+g)>>1 - bias
		case xformHP3:
			g = v1 - (v3+v2)>>2 + rng/4
			r, b = v3+g-bias, v2+g-bias
		}
		put(o, r&mask)
		put(o+bps, g&mask)
		put(o+2*bps, b&mask)
	}
}
