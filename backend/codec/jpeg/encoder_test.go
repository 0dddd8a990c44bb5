package jpeg

import (
	"encoding/binary"
	"fmt"
	"testing"

	"lightbox/backend/codec"
)

// A minimal JPEG writer for the cases dcmcjpeg cannot produce: restart
// intervals, non-interleaved lossless scans, and hand-picked differences.
// Its Huffman tables give every symbol a 5-bit code equal to the symbol.

type bitWriter struct {
	buf []byte
	acc uint32
	n   uint
}

func (w *bitWriter) put(v uint32, n uint) {
	for i := n; i > 0; i-- {
		w.acc = w.acc<<1 | (v>>(i-1))&1
		w.n++
		if w.n == 8 {
			w.buf = append(w.buf, byte(w.acc))
			if byte(w.acc) == 0xFF {
				w.buf = append(w.buf, 0)
			}
			w.acc, w.n = 0, 0
		}
	}
}

// flush pads the last byte with ones.
func (w *bitWriter) flush() {
	if w.n > 0 {
		w.put(1<<(8-w.n)-1, 8-w.n)
	}
}

func (w *bitWriter) marker(m byte, payload ...byte) {
	w.buf = append(w.buf, 0xFF, m)
	if m == mSOI || m == mEOI || m >= 0xD0 && m <= 0xD7 {
		return
	}
	w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(len(payload)+2))
	w.buf = append(w.buf, payload...)
}

// flatDHT defines table th of class tc with 5-bit codes for symbols 0..n-1.
func (w *bitWriter) flatDHT(tc, th byte, n int) {
	p := []byte{tc<<4 | th}
	counts := make([]byte, 16)
	counts[4] = byte(n)
	p = append(p, counts...)
	for i := 0; i < n; i++ {
		p = append(p, byte(i))
	}
	w.marker(mDHT, p...)
}

// diff writes a difference as SSSS and extra bits (F.1.2.1, H.1.2.2).
func (w *bitWriter) diff(d int32) {
	d = int32(int16(d)) // modulo 2^16
	if d == -32768 {
		w.put(16, 5)
		return
	}
	a, ssss := d, uint(0)
	if a < 0 {
		a = -a
	}
	for a > 0 {
		ssss++
		a >>= 1
	}
	w.put(uint32(ssss), 5)
	if d < 0 {
		d--
	}
	w.put(uint32(d)&(1<<ssss-1), ssss)
}

func sof(m byte, precision, rows, cols int, sampling []byte) []byte {
	p := []byte{byte(precision), byte(rows >> 8), byte(rows), byte(cols >> 8), byte(cols), byte(len(sampling))}
	for i, s := range sampling {
		p = append(p, byte(i+1), s, 0)
	}
	return p
}

// encodeLossless codes planes (one per component, values < 2^precision)
// with selection value sel and point transform pt; restart is in MCUs.
func encodeLossless(planes [][]int32, w, h, precision, sel, pt, restart int, interleaved bool) []byte {
	bw := &bitWriter{}
	bw.marker(mSOI)
	bw.flatDHT(0, 0, 17)
	nc := len(planes)
	bw.marker(mSOF3, sof(mSOF3, precision, h, w, make([]byte, nc))...)
	for i := range nc {
		bw.buf[len(bw.buf)-3*nc+3*i+1] = 0x11
	}
	if restart > 0 {
		bw.marker(mDRI, byte(restart>>8), byte(restart))
	}
	scans := [][]int{}
	if interleaved {
		all := []int{}
		for i := range nc {
			all = append(all, i)
		}
		scans = append(scans, all)
	} else {
		for i := range nc {
			scans = append(scans, []int{i})
		}
	}
	for _, sc := range scans {
		sos := []byte{byte(len(sc))}
		for _, c := range sc {
			sos = append(sos, byte(c+1), 0)
		}
		sos = append(sos, byte(sel), 0, byte(pt))
		bw.marker(mSOS, sos...)
		todo, rst, first := restart, 0, true
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if restart > 0 {
					if todo == 0 {
						bw.flush()
						bw.marker(0xD0 + byte(rst%8))
						rst++
						todo, first = restart, true
					}
					todo--
				}
				for _, c := range sc {
					v := func(x, y int) int32 { return planes[c][y*w+x] >> pt }
					var pred int32
					switch {
					case x == 0 && first:
						pred = 1 << (precision - pt - 1)
					case first:
						pred = v(x-1, y)
					case x == 0:
						pred = v(x, y-1)
					default:
						pred = predict(sel, v(x-1, y), v(x, y-1), v(x-1, y-1))
					}
					bw.diff(v(x, y) - pred)
				}
			}
			first = false
		}
		bw.flush()
	}
	bw.marker(mEOI)
	return bw.buf
}

func TestLosslessHandMade(t *testing.T) {
	const w, h = 13, 9
	tests := []struct {
		precision, sel, pt, restart, nc int
		interleaved                     bool
	}{
		{16, 1, 0, 0, 1, false},
		{16, 6, 0, 2 * w, 1, false},
		{16, 7, 0, w, 3, false},
		{16, 4, 0, 3 * w, 3, true},
		{12, 5, 2, w, 3, true},
		{8, 2, 0, 0, 3, false},
		{2, 3, 0, w, 1, false},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			planes := make([][]int32, tc.nc)
			maxv := int32(1)<<tc.precision - 1
			for c := range planes {
				planes[c] = make([]int32, w*h)
				for i := range planes[c] {
					v := int32((i*7919+c*104729)%(int(maxv)+1)) >> tc.pt << tc.pt
					if i%5 == 0 {
						v = maxv >> tc.pt << tc.pt // large differences, SSSS 16 at P=16
					}
					planes[c][i] = v
				}
			}
			src := encodeLossless(planes, w, h, tc.precision, tc.sel, tc.pt, tc.restart, tc.interleaved)
			p := codec.Params{Rows: h, Columns: w, SamplesPerPixel: tc.nc, BitsAllocated: 16, BitsStored: tc.precision, Photometric: "RGB"}
			if tc.precision <= 8 {
				p.BitsAllocated = 8
			}
			dst := make([]byte, p.FrameSize())
			if err := d.Decode(src, p, dst); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < w*h; i++ {
				for c := range planes {
					k := i*tc.nc + c
					got := int32(dst[k])
					if p.BitsAllocated == 16 {
						got = int32(binary.LittleEndian.Uint16(dst[2*k:]))
					}
					if got != planes[c][i] {
						t.Fatalf("pixel %d component %d: %d, want %d", i, c, got, planes[c][i])
					}
				}
			}
		})
	}
}

// encodeFlat writes a sequential image of flat 8x8 blocks (DC only, all
// quantisers 1) with nc components sampled 1x1 and a restart interval;
// precision 12 makes it extended (SOF1). With dnl the frame header leaves
// the height 0 and a DNL segment follows the scan.
func encodeFlat(blocks [][]int32, bw, bh, restart, precision int, dnl bool) []byte {
	w := &bitWriter{}
	w.marker(mSOI)
	nc := len(blocks)
	for i := range nc {
		q := []byte{byte(i)}
		for range 64 {
			q = append(q, 1)
		}
		w.marker(mDQT, q...)
	}
	samp := make([]byte, nc)
	for i := range samp {
		samp[i] = 0x11
	}
	m, height := byte(mSOF0), bh*8
	if precision == 12 {
		m = mSOF1
	}
	if dnl {
		height = 0
	}
	p := sof(m, precision, height, bw*8, samp)
	for i := range nc {
		p[6+3*i+2] = byte(i)
	}
	w.marker(m, p...)
	w.flatDHT(0, 0, 16)
	w.marker(mDHT, append([]byte{0x10, 1}, append(make([]byte, 15), 0)...)...) // AC: EOB only, code "0"
	if restart > 0 {
		w.marker(mDRI, byte(restart>>8), byte(restart))
	}
	sos := []byte{byte(nc)}
	for i := range nc {
		sos = append(sos, byte(i+1), 0)
	}
	w.marker(mSOS, append(sos, 0, 63, 0)...)
	pred := make([]int32, nc)
	todo, rst := restart, 0
	for i := 0; i < bw*bh; i++ {
		if restart > 0 {
			if todo == 0 {
				w.flush()
				w.marker(0xD0 + byte(rst%8))
				rst++
				todo = restart
				clear(pred)
			}
			todo--
		}
		for c := range nc {
			dc := 8 * (blocks[c][i] - 1<<(precision-1))
			w.diff(dc - pred[c])
			pred[c] = dc
			w.put(0, 1) // EOB
		}
	}
	w.flush()
	if dnl {
		w.marker(mDNL, byte(bh*8>>8), byte(bh*8))
	}
	w.marker(mEOI)
	return w.buf
}

func TestBaselineRestartHandMade(t *testing.T) {
	const bw, bh = 5, 3
	var d Decoder
	for _, tc := range []struct{ nc, restart int }{{1, 0}, {1, 1}, {1, 4}, {3, 2}, {3, 7}} {
		t.Run(fmt.Sprintf("comps%d_restart%d", tc.nc, tc.restart), func(t *testing.T) {
			blocks := make([][]int32, tc.nc)
			for c := range blocks {
				for i := 0; i < bw*bh; i++ {
					blocks[c] = append(blocks[c], int32((i*37+c*91)%256))
				}
			}
			src := encodeFlat(blocks, bw, bh, tc.restart, 8, false)
			p := codec.Params{Rows: bh * 8, Columns: bw * 8, SamplesPerPixel: tc.nc, BitsAllocated: 8, BitsStored: 8, Photometric: "RGB"}
			if tc.nc == 1 {
				p.Photometric = "MONOCHROME2"
			}
			dst := make([]byte, p.FrameSize())
			if err := d.Decode(src, p, dst); err != nil {
				t.Fatal(err)
			}
			for y := 0; y < bh*8; y++ {
				for x := 0; x < bw*8; x++ {
					for c := 0; c < tc.nc; c++ {
						want := blocks[c][(y/8)*bw+x/8]
						if got := int32(dst[(y*bw*8+x)*tc.nc+c]); got != want {
							t.Fatalf("(%d,%d) component %d: %d, want %d", x, y, c, got, want)
						}
					}
				}
			}
		})
	}
}

// TestOvershootClampedAndDNL: 12-bit blocks whose DC lies beyond the range
// decode clamped to [0, 4095] (not masked), and a frame whose height comes
// in a DNL segment decodes with the height of the data set.
func TestOvershootClampedAndDNL(t *testing.T) {
	vals := []int32{4300, 4095, 3000, 2000, 1000, 0, -60, 100}
	for _, dnl := range []bool{false, true} {
		src := encodeFlat([][]int32{vals}, 4, 2, 0, 12, dnl)
		p := codec.Params{Rows: 16, Columns: 32, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12, Photometric: "MONOCHROME2"}
		dst := make([]byte, p.FrameSize())
		var d Decoder
		if err := d.Decode(src, p, dst); err != nil {
			t.Fatalf("dnl %v: %v", dnl, err)
		}
		for i, v := range vals {
			want := min(max(v, 0), 4095)
			x, y := (i%4)*8+3, (i/4)*8+5
			if got := int32(binary.LittleEndian.Uint16(dst[2*(y*32+x):])); got != want {
				t.Errorf("dnl %v block %d: %d, want %d", dnl, i, got, want)
			}
		}
	}
}
