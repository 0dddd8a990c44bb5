package jpeg2k

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"lightbox/backend/codec"
)

// header builds SOC + SIZ (+ COD, QCD) for a one-component image.
func header(w, h, tw, th uint32, prec int, withCodQcd bool) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, mSOC)
	b = binary.BigEndian.AppendUint16(b, mSIZ)
	b = binary.BigEndian.AppendUint16(b, 41)
	b = binary.BigEndian.AppendUint16(b, 0)
	for _, v := range []uint32{w, h, 0, 0, tw, th, 0, 0} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	b = binary.BigEndian.AppendUint16(b, 1)
	b = append(b, byte(prec-1), 1, 1)
	if withCodQcd {
		b = append(b, 0xFF, 0x52, 0, 12, 0, 0, 0, 1, 0, 0, 4, 4, 0, 1)
		b = append(b, 0xFF, 0x5C, 0, 4, 0x40, 0x40)
	}
	return b
}

// tinyPrecincts is a 2048x2048 codestream header whose COD asks for 1x1
// precincts at resolution 0 and 2x2 above.
func tinyPrecincts(tile []byte) []byte {
	b := header(2048, 2048, 2048, 2048, 8, false)
	b = append(b, 0xFF, 0x52, 0, 14, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0x00, 0x11)
	b = append(b, 0xFF, 0x5C, 0, 4, 0x40, 0x40)
	return append(b, tile...)
}

func TestMalformedHeaders(t *testing.T) {
	emptyTile := []byte{0xFF, 0x90, 0, 10, 0, 0, 0, 0, 0, 14, 0, 1, 0xFF, 0x93}
	small := codec.Params{Rows: 16, Columns: 16, SamplesPerPixel: 1, BitsAllocated: 8, BitsStored: 8}
	tests := []struct {
		name string
		data []byte
		p    codec.Params
		want error
	}{
		{"empty", nil, small, codec.ErrCorrupt},
		{"not j2k", []byte("hello world, not a codestream"), small, codec.ErrCorrupt},
		{"2^32 x 2^32", header(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 8, true), small, codec.ErrTooLarge},
		{"65536 x 65536", header(65536, 65536, 65536, 65536, 8, true), small, codec.ErrTooLarge},
		{"zero width", header(0, 16, 16, 16, 8, true), small, codec.ErrCorrupt},
		{"zero tile", header(16, 16, 0, 16, 8, true), small, codec.ErrCorrupt},
		{"too many tiles", header(20000, 20000, 1, 1, 8, true), small, codec.ErrCorrupt},
		{"size mismatch", append(header(32, 16, 32, 16, 8, true), emptyTile...), small, codec.ErrMismatch},
		{"no COD", append(header(16, 16, 16, 16, 8, false), 0xFF, 0x90, 0, 10, 0, 0, 0, 0, 0, 14, 0, 1), small, codec.ErrCorrupt},
		{"empty tile-part", append(header(16, 16, 16, 16, 8, true), emptyTile...), small, codec.ErrCorrupt},
		{"a million 1x1 precincts", tinyPrecincts(emptyTile), codec.Params{Rows: 2048, Columns: 2048, SamplesPerPixel: 1, BitsAllocated: 8, BitsStored: 8}, codec.ErrUnsupported},
		{"no tile", append(header(16, 16, 16, 16, 8, true), 0xFF, 0xD9), small, codec.ErrCorrupt},
		{"SOT without SOD", append(header(16, 16, 16, 16, 8, true), 0xFF, 0x90, 0, 10, 0, 0, 0, 0, 0, 14, 0, 1), small, codec.ErrCorrupt},
		{"jp2 without jp2c", append([]byte{0, 0, 0, 12, 'j', 'P', ' ', ' ', 13, 10, 0x87, 10}, 0, 0, 0, 8, 'f', 't', 'y', 'p'), small, codec.ErrCorrupt},
		{"precision beyond BitsAllocated", append(header(16, 16, 16, 16, 12, true), emptyTile...), small, codec.ErrMismatch},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := d.Decode(tc.data, tc.p, make([]byte, tc.p.FrameSize()))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestTruncated cuts real codestreams at many points: each cut either
// decodes to the same pixels (only the EOC marker or padding was lost) or
// ends in ErrCorrupt; nothing panics.
func TestTruncated(t *testing.T) {
	var d Decoder
	files := corpusJ2K(t)
	seen := map[string]bool{}
	cuts, errs := 0, 0
	for _, f := range files {
		key := f.row["kind"] + f.row["ts_key"]
		if seen[key] {
			continue
		}
		seen[key] = true
		fr := f.frames[0]
		p := f.params
		full := make([]byte, p.FrameSize())
		if err := d.Decode(fr, p, full); err != nil {
			t.Fatal(err)
		}
		step := max(1, len(fr)/97)
		for n := 0; n < len(fr); n += step {
			dst := make([]byte, p.FrameSize())
			err := d.Decode(fr[:n], p, dst)
			cuts++
			if err != nil {
				errs++
				if !errors.Is(err, codec.ErrCorrupt) {
					t.Errorf("%s cut at %d: %v, want ErrCorrupt", f.row["path"], n, err)
				}
			} else if !bytes.Equal(dst, full) {
				t.Errorf("%s cut at %d of %d: decoded without error to different pixels", f.row["path"], n, len(fr))
			}
		}
	}
	t.Logf("%d truncated codestreams, %d errors", cuts, errs)
	if errs == 0 {
		t.Fatal("no truncation was detected")
	}
}

// TestCorruptedBytes flips bytes of real codestreams: no panic, no hang.
func TestCorruptedBytes(t *testing.T) {
	var d Decoder
	files := corpusJ2K(t)
	seed := uint32(7)
	n := 0
	for i, f := range files {
		if i%3 != 0 || f.params.Rows*f.params.Columns > 128*128 {
			continue
		}
		fr := f.frames[0]
		for k := 0; k < 15; k++ {
			b := append([]byte(nil), fr...)
			for j := 0; j < 1+k%3; j++ {
				seed = seed*1664525 + 1013904223
				b[int(seed>>8)%len(b)] ^= byte(seed >> 24)
			}
			_ = d.Decode(b, f.params, make([]byte, f.params.FrameSize()))
			n++
		}
	}
	if n == 0 {
		t.Fatal("nothing corrupted")
	}
}

func TestDecodeReducedSizes(t *testing.T) {
	var d Decoder
	for _, f := range corpusJ2K(t) {
		if f.row["kind"] != "ct" || f.row["ts_key"] != "j2k-lossless" {
			continue
		}
		info, err := ReadInfo(f.frames[0])
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r <= info.Levels+1; r++ {
			im, err := d.DecodeReduced(f.frames[0], f.params, r)
			if err != nil {
				t.Fatal(err)
			}
			rr := min(r, info.Levels)
			ww, hh := (info.Width+(1<<rr)-1)>>rr, (info.Height+(1<<rr)-1)>>rr
			if im.Width != ww || im.Height != hh || len(im.Data) != ww*hh*2 {
				t.Fatalf("reduce %d: %dx%d (%d bytes), want %dx%d", r, im.Width, im.Height, len(im.Data), ww, hh)
			}
			ref := opjDecode(t, f.frames[0], rr, ww, hh, 1, info.Precision, info.Signed)
			if md, _ := maxDiff(ourValues(im.Data, 2, info.Signed), ref); md != 0 {
				t.Fatalf("reduce %d differs from opj_decompress -r by %d", r, md)
			}
		}
		return
	}
	t.Fatal("no CT frame")
}
