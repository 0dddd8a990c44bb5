// Package jpeg decodes the JPEG processes used by DICOM: baseline (process 1,
// transfer syntax 1.2.840.10008.1.2.4.50), extended sequential 12-bit
// (processes 2/4, .4.51), progressive (tolerated when found in those), and
// lossless process 14 with any selection value (.4.57) or selection value 1
// (.4.70). One core (markers, Huffman tables, the bit reader with byte
// stuffing and restart markers) serves all of them.
//
// Decoder.Decode writes the canonical samples of package codec: row-major,
// samples interleaved, each a little-endian integer of BitsAllocated width.
// BitsAllocated must be 8 (precision up to 8) or 16. Lossy output is clamped
// to the range of the JPEG precision, never masked.
//
// Colour: lossless images are never converted. Three lossy components are
// converted from YCbCr to RGB (JFIF equations, rounded) when the Photometric
// Interpretation is YBR_*; otherwise the markers decide: an Adobe APP14
// segment by its transform flag (0: RGB), component identifiers 'R','G','B'
// mean RGB, and a JFIF APP0 segment means YCbCr. Chroma subsampled 2:1 is
// interpolated like libjpeg's fancy upsampling; other ratios are replicated.
//
// Where the codestream disagrees with Params it is trusted for decoding; the
// error is codec.ErrMismatch only when its samples cannot fill dst exactly.
// Every size read from a header is checked before use, and nothing allocated
// depends on the input beyond the size of dst. Malformed input gives an error
// wrapping codec.ErrCorrupt (or ErrUnsupported, ErrMismatch, ErrTooLarge),
// never a panic.
//
// A Decoder is safe for concurrent use; its zero value is ready. It keeps a
// pool of working buffers between calls, so keep one Decoder per process
// rather than one per frame.
package jpeg

import (
	"encoding/binary"
	"fmt"
	"sync"

	"lightbox/backend/codec"
)

// Decoder decodes JPEG frames. It implements codec.Decoder. It must not be
// copied after first use.
type Decoder struct {
	pool sync.Pool // of *state
}

var _ codec.Decoder = (*Decoder)(nil)

// Decode decodes one JPEG codestream into dst (p.FrameSize() bytes).
func (d *Decoder) Decode(src []byte, p codec.Params, dst []byte) error {
	s, _ := d.pool.Get().(*state)
	if s == nil {
		s = new(state)
	}
	s.reset()
	err := s.decode(src, p, dst)
	s.src = nil
	d.pool.Put(s)
	return err
}

// Marker codes (Table B.1).
const (
	mSOF0 = 0xC0
	mSOF1 = 0xC1
	mSOF2 = 0xC2
	mSOF3 = 0xC3
	mDHT  = 0xC4
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mDQT  = 0xDB
	mDNL  = 0xDC
	mDRI  = 0xDD
	mAPP0 = 0xE0
	mAPPE = 0xEE
)

type component struct {
	id     byte
	h, v   int
	tq     int
	td, ta int // tables of the current scan

	// Size of the component's samples, and of its plane, which is padded to
	// whole MCUs (lossy) or equal to the sample size (lossless).
	w, h0  int
	bw, bh int // blocks across and down, padded to whole MCUs (lossy)
	stride int // samples per plane row
	plane  []int32
	coef   []int32 // progressive: dequantised later
	pred   int32   // DC predictor
}

// state holds one decoding; it is pooled by Decoder.
type state struct {
	src []byte
	br  bitReader

	dc, ac [4]huffTable
	quant  [4][64]int32   // zig-zag order
	qf     [4][64]float32 // for idct: natural order, scaled
	qset   [4]bool

	sof        byte // SOF marker: 0 before the frame header
	precision  int
	width      int
	height     int
	comps      [4]component
	ncomp      int
	hmax, vmax int
	mcux, mcuy int // MCUs across and down for an interleaved scan

	restart   int // restart interval in MCUs, 0: none
	jfif      bool
	adobe     bool
	transform byte // Adobe colour transform
	eobrun    int  // progressive

	// A single-component image is written straight into dst.
	direct bool
	wide   bool // 16-bit output samples
	dst    []byte

	// The scan being decoded.
	scomp      [4]*component
	ns         int
	ss, se     int
	ah, al     int
	planesPool [4][]int32 // reused plane memory
	coefPool   [4][]int32
}

func (s *state) reset() {
	planes, coefs := s.planesPool, s.coefPool
	*s = state{}
	s.planesPool, s.coefPool = planes, coefs
}

func corrupt(format string, a ...any) error {
	return fmt.Errorf("jpeg: %w: "+format, append([]any{codec.ErrCorrupt}, a...)...)
}

// decode parses the codestream and decodes every scan.
func (s *state) decode(src []byte, p codec.Params, dst []byte) error {
	s.src = src
	if len(src) < 4 || src[0] != 0xFF || src[1] != mSOI {
		return corrupt("no SOI marker")
	}
	pos := 2
	scans := 0
	for {
		// Find the next marker, skipping fill bytes (and, tolerantly, stray
		// bytes between segments).
		for pos < len(src) && src[pos] != 0xFF {
			pos++
		}
		for pos < len(src) && src[pos] == 0xFF {
			pos++
		}
		if pos >= len(src) {
			if scans > 0 {
				break // a missing EOI is tolerated
			}
			return corrupt("no scan before the end of the data")
		}
		m := src[pos]
		pos++
		if m == mEOI {
			break
		}
		if m >= 0xD0 && m <= 0xD7 || m == 0x01 {
			continue // stray RSTn or TEM: no length
		}
		if pos+2 > len(src) {
			return corrupt("marker %#x without length", m)
		}
		n := int(binary.BigEndian.Uint16(src[pos:]))
		if n < 2 || pos+n > len(src) {
			return corrupt("marker %#x length %d past the end", m, n)
		}
		seg := src[pos+2 : pos+n]
		pos += n
		var err error
		switch {
		case m == mDQT:
			err = s.parseDQT(seg)
		case m == mDHT:
			err = s.parseDHT(seg)
		case m == mDRI:
			if len(seg) < 2 {
				return corrupt("short DRI")
			}
			s.restart = int(binary.BigEndian.Uint16(seg))
		case m == mAPP0:
			if len(seg) >= 5 && string(seg[:5]) == "JFIF\x00" {
				s.jfif = true
			}
		case m == mAPPE:
			if len(seg) >= 12 && string(seg[:5]) == "Adobe" {
				s.adobe, s.transform = true, seg[11]
			}
		case m == mDNL:
			// The height is taken from the data set when the frame header
			// leaves it 0; a DNL segment is tolerated and otherwise ignored.
		case m >= 0xC0 && m <= 0xCF && m != mDHT && m != 0xC8 && m != 0xCC:
			if s.sof != 0 {
				return corrupt("second frame header")
			}
			err = s.parseSOF(m, seg, p, dst)
		case m == mSOS:
			if s.sof == 0 {
				return corrupt("scan before the frame header")
			}
			if err = s.parseSOS(seg); err != nil {
				return err
			}
			// Every scan costs a pass over the image, so a codestream made of
			// many tiny scans would cost far more than its size suggests.
			if limit := s.maxScans(); scans >= limit {
				return corrupt("more than %d scans", limit)
			}
			s.br.init(src, pos)
			if s.sof == mSOF3 {
				err = s.decodeLossless()
			} else {
				err = s.decodeDCTScan()
			}
			if err != nil {
				return err
			}
			if s.br.overrun() {
				return corrupt("scan %d ends before its data", scans+1)
			}
			scans++
			pos = s.br.nextMarker()
		}
		if err != nil {
			return err
		}
	}
	if s.sof == 0 {
		return corrupt("no frame header")
	}
	return s.output(p, dst)
}

// maxScans bounds the scans of a frame: one per component for the
// sequential processes; for progressive, enough for every band and bit of
// each component as encoders split them.
func (s *state) maxScans() int {
	if s.sof == mSOF2 {
		return 64 * s.ncomp
	}
	return s.ncomp
}

func (s *state) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, int(seg[0]&15)
		if tq > 3 || pq > 1 {
			return corrupt("DQT table %d precision %d", tq, pq)
		}
		seg = seg[1:]
		size := 64 << pq
		if len(seg) < size {
			return corrupt("short DQT")
		}
		for i := 0; i < 64; i++ {
			if pq == 0 {
				s.quant[tq][i] = int32(seg[i])
			} else {
				s.quant[tq][i] = int32(binary.BigEndian.Uint16(seg[2*i:]))
			}
		}
		s.qset[tq] = true
		s.setIDCTTable(tq)
		seg = seg[size:]
	}
	return nil
}

func (s *state) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return corrupt("short DHT")
		}
		tc, th := seg[0]>>4, int(seg[0]&15)
		if tc > 1 || th > 3 {
			return corrupt("DHT class %d table %d", tc, th)
		}
		counts := seg[1:17]
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if len(seg) < 17+total {
			return corrupt("short DHT")
		}
		t := &s.dc[th]
		if tc == 1 {
			t = &s.ac[th]
		}
		if err := t.build(counts, seg[17:17+total]); err != nil {
			return err
		}
		seg = seg[17+total:]
	}
	return nil
}

func (s *state) parseSOF(m byte, seg []byte, p codec.Params, dst []byte) error {
	switch m {
	case mSOF0, mSOF1, mSOF2, mSOF3:
	default:
		return fmt.Errorf("jpeg: %w: frame type SOF%d (arithmetic or hierarchical coding)", codec.ErrUnsupported, m-0xC0)
	}
	if len(seg) < 6 {
		return corrupt("short SOF")
	}
	s.sof = m
	s.precision = int(seg[0])
	s.height = int(binary.BigEndian.Uint16(seg[1:]))
	s.width = int(binary.BigEndian.Uint16(seg[3:]))
	s.ncomp = int(seg[5])
	switch {
	case m == mSOF3 && (s.precision < 2 || s.precision > 16),
		m == mSOF0 && s.precision != 8,
		(m == mSOF1 || m == mSOF2) && s.precision != 8 && s.precision != 12:
		return fmt.Errorf("jpeg: %w: precision %d for SOF%d", codec.ErrUnsupported, s.precision, m-0xC0)
	}
	if s.height == 0 {
		s.height = p.Rows // the height comes in a DNL segment: trust the data set
	}
	if s.width == 0 || s.height <= 0 {
		return corrupt("image size %dx%d", s.width, s.height)
	}
	if s.ncomp != 1 && s.ncomp != 3 {
		if s.ncomp == 0 || s.ncomp > 4 {
			return corrupt("%d components", s.ncomp)
		}
		return fmt.Errorf("jpeg: %w: %d components", codec.ErrUnsupported, s.ncomp)
	}
	if len(seg) < 6+3*s.ncomp {
		return corrupt("short SOF")
	}
	if s.width*s.height > codec.MaxPixels/s.ncomp {
		return fmt.Errorf("jpeg: %w: %dx%d", codec.ErrTooLarge, s.width, s.height)
	}
	// Everything allocated from here on is bounded by the size of dst.
	if err := s.checkFits(p, dst); err != nil {
		return err
	}
	s.hmax, s.vmax = 1, 1
	for i := 0; i < s.ncomp; i++ {
		c := &s.comps[i]
		b := seg[6+3*i:]
		c.id, c.h, c.v, c.tq = b[0], int(b[1]>>4), int(b[1]&15), int(b[2])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 || c.tq > 3 {
			return corrupt("component %d sampling %dx%d table %d", i, c.h, c.v, c.tq)
		}
		for j := 0; j < i; j++ {
			if s.comps[j].id == c.id {
				return corrupt("duplicate component id %d", c.id)
			}
		}
		s.hmax, s.vmax = max(s.hmax, c.h), max(s.vmax, c.v)
	}
	s.dst, s.wide = dst, p.BitsAllocated == 16
	if m == mSOF3 {
		return s.setupLossless()
	}
	s.direct = s.ncomp == 1
	return s.setupDCT()
}

// checkFits verifies that the decoded samples fill dst exactly.
func (s *state) checkFits(p codec.Params, dst []byte) error {
	bytes := 1
	switch {
	case p.BitsAllocated == 16:
		bytes = 2
	case p.BitsAllocated == 8 && s.precision <= 8:
	default:
		return fmt.Errorf("jpeg: %w: precision %d in BitsAllocated %d", codec.ErrMismatch, s.precision, p.BitsAllocated)
	}
	if need := s.width * s.height * s.ncomp * bytes; need != len(dst) {
		return fmt.Errorf("jpeg: %w: %dx%dx%d samples for a %d-byte frame", codec.ErrMismatch, s.width, s.height, s.ncomp, len(dst))
	}
	return nil
}

// plane returns a zeroed buffer of n samples for component i, reusing
// pooled memory.
func (s *state) plane(i, n int) []int32 {
	b := s.planesPool[i]
	if cap(b) < n {
		b = make([]int32, n)
		s.planesPool[i] = b
	}
	b = b[:n]
	clear(b)
	return b
}

func (s *state) parseSOS(seg []byte) error {
	if len(seg) < 1 {
		return corrupt("short SOS")
	}
	s.ns = int(seg[0])
	if s.ns < 1 || s.ns > s.ncomp || len(seg) < 4+2*s.ns {
		return corrupt("SOS with %d components", s.ns)
	}
	for i := 0; i < s.ns; i++ {
		id, t := seg[1+2*i], seg[2+2*i]
		var c *component
		for j := 0; j < s.ncomp; j++ {
			if s.comps[j].id == id {
				c = &s.comps[j]
			}
		}
		if c == nil {
			return corrupt("scan component %d not in the frame", id)
		}
		for j := 0; j < i; j++ {
			if s.scomp[j] == c {
				return corrupt("scan component %d twice", id)
			}
		}
		c.td, c.ta = int(t>>4), int(t&15)
		if c.td > 3 || c.ta > 3 {
			return corrupt("scan tables %d/%d", c.td, c.ta)
		}
		s.scomp[i] = c
	}
	b := seg[1+2*s.ns:]
	s.ss, s.se, s.ah, s.al = int(b[0]), int(b[1]), int(b[2]>>4), int(b[2]&15)
	return nil
}
