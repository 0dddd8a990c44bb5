package jpegls

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// corpusFrame returns the first frame of the first corpus file whose path
// contains name, with its Params.
func corpusFrame(t testing.TB, name string) ([]byte, codec.Params) {
	t.Helper()
	for _, r := range jpeglsRows(t) {
		if !bytes.Contains([]byte(r["path"]), []byte(name)) {
			continue
		}
		n, _ := strconv.Atoi(r["frames"])
		fr, err := testframes.Frames(r["abspath"], n)
		if err != nil {
			t.Fatal(err)
		}
		return fr[0], testframes.Params(r)
	}
	t.Fatalf("no corpus file %q", name)
	return nil, codec.Params{}
}

// findMarker returns the offset of marker 0xFF m in the header part of a
// codestream.
func findMarker(t *testing.T, src []byte, m byte) int {
	t.Helper()
	i := bytes.Index(src, []byte{0xFF, m})
	if i < 0 {
		t.Fatalf("marker %02X not found", m)
	}
	return i
}

// edit returns a copy of src with f applied.
func edit(src []byte, f func(b []byte) []byte) []byte {
	return f(bytes.Clone(src))
}

// insertBefore inserts seg before the marker at offset i.
func insertBefore(b []byte, i int, seg ...byte) []byte {
	return append(b[:i:i], append(seg, b[i:]...)...)
}

func TestTruncatedEverywhere(t *testing.T) {
	var dec Decoder
	for _, name := range []string{"ct_jpegls-lossless_01", "us_jpegls-lossless", "cr_jpegls-near", "sc8_jpegls-lossless"} {
		src, p := corpusFrame(t, name)
		dst := make([]byte, p.FrameSize())
		if err := dec.Decode(src, p, dst); err != nil {
			t.Fatalf("%s: whole frame: %v", name, err)
		}
		// strip DICOM padding after EOI
		end := bytes.LastIndex(src, []byte{0xFF, mEOI}) + 2
		step := max(1, end/400)
		n := 0
		for cut := 0; cut < end; cut += step {
			err := dec.Decode(src[:cut], p, dst)
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("%s cut at %d of %d: %v, want ErrCorrupt", name, cut, end, err)
			}
			n++
		}
		for cut := max(0, end-64); cut < end; cut++ { // every cut near the end
			if err := dec.Decode(src[:cut], p, dst); !errors.Is(err, codec.ErrCorrupt) {
				t.Fatalf("%s cut at %d of %d: %v, want ErrCorrupt", name, cut, end, err)
			}
			n++
		}
		t.Logf("%s: %d truncations rejected", name, n)
	}
}

func TestMalformed(t *testing.T) {
	grey, gp := corpusFrame(t, "sc8_jpegls-lossless")
	sof := findMarker(t, grey, mSOF55)
	sos := findMarker(t, grey, mSOS)
	u16 := func(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
	lse := func(maxval, t1, t2, t3, reset int) []byte {
		b := []byte{0xFF, mLSE, 0, 13, 1}
		for _, v := range []int{maxval, t1, t2, t3, reset} {
			b = append(b, u16(v)...)
		}
		return b
	}
	big := gp
	big.Rows, big.Columns = 1<<16, 1<<16
	small := gp
	small.BitsAllocated = 8
	tests := []struct {
		name string
		src  []byte
		p    codec.Params
		dst  int // dst size; 0 = p.FrameSize()
		want error
	}{
		{"empty", nil, gp, 0, codec.ErrCorrupt},
		{"no SOI", grey[2:], gp, 0, codec.ErrCorrupt},
		{"only SOI", grey[:2], gp, 0, codec.ErrCorrupt},
		{"SOI EOI", []byte{0xFF, mSOI, 0xFF, mEOI}, gp, 0, codec.ErrCorrupt},
		{"precision 1", edit(grey, func(b []byte) []byte { b[sof+4] = 1; return b }), gp, 0, codec.ErrCorrupt},
		{"precision 17", edit(grey, func(b []byte) []byte { b[sof+4] = 17; return b }), gp, 0, codec.ErrCorrupt},
		{"precision 12 in 8 bits", edit(grey, func(b []byte) []byte { b[sof+4] = 12; return b }), gp, 0, codec.ErrMismatch},
		{"zero components", edit(grey, func(b []byte) []byte { b[sof+9] = 0; return b }), gp, 0, codec.ErrCorrupt},
		{"five components", edit(grey, func(b []byte) []byte { b[sof+9] = 5; return b }), gp, 0, codec.ErrCorrupt},
		{"height mismatch", edit(grey, func(b []byte) []byte { b[sof+5]++; return b }), gp, 0, codec.ErrMismatch},
		{"width 65535", edit(grey, func(b []byte) []byte { b[sof+7], b[sof+8] = 0xFF, 0xFF; return b }), gp, 0, codec.ErrMismatch},
		{"params too large", grey, big, 1, codec.ErrTooLarge},
		{"dst too small", grey, gp, 10, codec.ErrMismatch},
		{"oversize LSE 2^32-1", edit(grey, func(b []byte) []byte {
			return insertBefore(b, sos, 0xFF, mLSE, 0, 12, 4, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
		}), gp, 0, codec.ErrMismatch},
		{"SOS before SOF", edit(grey, func(b []byte) []byte { b[sof+1] = 0xFE; return b }), gp, 0, codec.ErrCorrupt},
		{"second SOF", edit(grey, func(b []byte) []byte {
			return insertBefore(b, sos, grey[sof:sof+2+int(binary.BigEndian.Uint16(grey[sof+2:]))]...)
		}), gp, 0, codec.ErrCorrupt},
		{"unknown scan component", edit(grey, func(b []byte) []byte { b[sos+5] = 99; return b }), gp, 0, codec.ErrCorrupt},
		{"mapping table", edit(grey, func(b []byte) []byte { b[sos+6] = 1; return b }), gp, 0, codec.ErrUnsupported},
		{"NEAR 200 for MAXVAL 255", edit(grey, func(b []byte) []byte { b[sos+7] = 200; return b }), gp, 0, codec.ErrCorrupt},
		{"interleave 3", edit(grey, func(b []byte) []byte { b[sos+8] = 3; return b }), gp, 0, codec.ErrCorrupt},
		{"point transform", edit(grey, func(b []byte) []byte { b[sos+9] = 1; return b }), gp, 0, codec.ErrUnsupported},
		{"SOS length", edit(grey, func(b []byte) []byte { b[sos+3]++; return b }), gp, 0, codec.ErrCorrupt},
		{"segment length 1", edit(grey, func(b []byte) []byte { b[sof+2], b[sof+3] = 0, 1; return b }), gp, 0, codec.ErrCorrupt},
		{"segment past end", edit(grey, func(b []byte) []byte { b[sof+2], b[sof+3] = 0xFF, 0xF0; return b }), gp, 0, codec.ErrCorrupt},
		{"thresholds decreasing", edit(grey, func(b []byte) []byte { return insertBefore(b, sos, lse(0, 9, 5, 20, 0)...) }), gp, 0, codec.ErrCorrupt},
		{"T3 above MAXVAL", edit(grey, func(b []byte) []byte { return insertBefore(b, sos, lse(100, 3, 7, 101, 0)...) }), gp, 0, codec.ErrCorrupt},
		{"MAXVAL above 2^P-1", edit(grey, func(b []byte) []byte { return insertBefore(b, sos, lse(256, 0, 0, 0, 0)...) }), gp, 0, codec.ErrCorrupt},
		{"RESET 2", edit(grey, func(b []byte) []byte { return insertBefore(b, sos, lse(0, 0, 0, 0, 2)...) }), gp, 0, codec.ErrCorrupt},
		{"LSE ID 9", edit(grey, func(b []byte) []byte { return insertBefore(b, sos, 0xFF, mLSE, 0, 3, 9) }), gp, 0, codec.ErrUnsupported},
		{"restart marker missing", edit(grey, func(b []byte) []byte { return insertBefore(b, sos, 0xFF, mDRI, 0, 4, 0, 5) }), gp, 0, codec.ErrCorrupt},
		{"DRI length", edit(grey, func(b []byte) []byte { return insertBefore(b, sos, 0xFF, mDRI, 0, 3, 5) }), gp, 0, codec.ErrCorrupt},
		{"colour transform 7", edit(grey, func(b []byte) []byte {
			return insertBefore(b, sos, 0xFF, mAPP8, 0, 7, 'm', 'r', 'f', 'x', 7)
		}), gp, 0, codec.ErrUnsupported},
		{"baseline JPEG", []byte{0xFF, mSOI, 0xFF, 0xC0, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0}, gp, 0, codec.ErrUnsupported},
		{"DNL", edit(grey, func(b []byte) []byte { return insertBefore(b, sos, 0xFF, mDNL, 0, 4, 0, 1) }), gp, 0, codec.ErrUnsupported},
		{"no EOI", edit(grey, func(b []byte) []byte { return b[:bytes.LastIndex(b, []byte{0xFF, mEOI})] }), gp, 0, codec.ErrCorrupt},
		{"bits allocated 12", grey, codec.Params{Rows: gp.Rows, Columns: gp.Columns, SamplesPerPixel: 1, BitsAllocated: 12}, 1, codec.ErrMismatch},
		{"samples per pixel 3", grey, codec.Params{Rows: gp.Rows, Columns: gp.Columns, SamplesPerPixel: 3, BitsAllocated: 8}, 0, codec.ErrMismatch},
		{"zero rows", grey, codec.Params{Columns: gp.Columns, SamplesPerPixel: 1, BitsAllocated: 8}, 1, codec.ErrMismatch},
	}
	var dec Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.p.FrameSize()
			if tc.dst != 0 {
				n = tc.dst
			}
			err := dec.Decode(tc.src, tc.p, make([]byte, n))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestGarbageEntropy flips bytes inside the entropy-coded data of real
// frames: the decoder returns (an error or garbage) without panicking, and
// a valid frame still decodes identically afterwards (no state leaks
// through the pool).
func TestGarbageEntropy(t *testing.T) {
	var dec Decoder
	for _, name := range []string{"ct_jpegls-lossless_05", "us_jpegls-near", "mr_jpegls-near_03"} {
		src, p := corpusFrame(t, name)
		want := make([]byte, p.FrameSize())
		if err := dec.Decode(src, p, want); err != nil {
			t.Fatal(err)
		}
		start := bytes.Index(src, []byte{0xFF, mSOS}) + 12
		end := bytes.LastIndex(src, []byte{0xFF, mEOI})
		dst := make([]byte, p.FrameSize())
		errs := 0
		for i := start; i < end; i += max(1, (end-start)/200) {
			for _, v := range []byte{0x00, 0xFF, src[i] ^ 0x10} {
				bad := bytes.Clone(src)
				bad[i] = v
				if err := dec.Decode(bad, p, dst); err != nil {
					errs++
				}
			}
		}
		if err := dec.Decode(src, p, dst); err != nil || !bytes.Equal(dst, want) {
			t.Fatalf("%s: clean frame after garbage: %v", name, err)
		}
		t.Logf("%s: %d of the corrupted frames rejected", name, errs)
		if errs == 0 {
			t.Errorf("%s: no corrupted frame was rejected", name)
		}
	}
}
