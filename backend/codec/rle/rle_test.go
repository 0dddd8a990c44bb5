package rle

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

func TestCorpus(t *testing.T) {
	n := 0
	for _, r := range testframes.Manifest(t) {
		if r["ts_key"] != "rle" || r["expect"] != "ok" {
			continue
		}
		t.Run(r["path"], func(t *testing.T) {
			nf, _ := strconv.Atoi(r["frames"])
			frames, err := testframes.Frames(r["abspath"], nf)
			if err != nil {
				t.Fatal(err)
			}
			p := testframes.Params(r)
			h := sha256.New()
			dst := make([]byte, p.FrameSize())
			for i, f := range frames {
				if err := (Decoder{}).Decode(f, p, dst); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				h.Write(testframes.Canonical(p, dst))
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != r["pixel_sha256"] {
				t.Errorf("sha256 %s, want %s", got, r["pixel_sha256"])
			}
		})
		n++
	}
	t.Logf("rle: %d corpus files", n)
	if n < 30 {
		t.Fatalf("only %d RLE corpus files", n)
	}
}

// frame builds an RLE frame from raw segments.
func frame(segs ...[]byte) []byte {
	h := make([]byte, headerSize)
	binary.LittleEndian.PutUint32(h, uint32(len(segs)))
	off := headerSize
	for i, s := range segs {
		binary.LittleEndian.PutUint32(h[4+4*i:], uint32(off))
		off += len(s)
	}
	for _, s := range segs {
		h = append(h, s...)
	}
	return h
}

func TestHandMade(t *testing.T) {
	tests := []struct {
		name string
		p    codec.Params
		src  []byte
		want []byte
	}{
		{"8bit literal+run, odd length", codec.Params{Rows: 1, Columns: 5, SamplesPerPixel: 1, BitsAllocated: 8},
			frame([]byte{1, 7, 9, 0xFE, 4, 0x80}), []byte{7, 9, 4, 4, 4}},
		{"16bit planes high then low", codec.Params{Rows: 1, Columns: 3, SamplesPerPixel: 1, BitsAllocated: 16},
			frame([]byte{2, 0x12, 0x34, 0x56}, []byte{0xFE, 0xAB}), []byte{0xAB, 0x12, 0xAB, 0x34, 0xAB, 0x56}},
		{"rgb 8bit", codec.Params{Rows: 2, Columns: 1, SamplesPerPixel: 3, BitsAllocated: 8},
			frame([]byte{0xFF, 1}, []byte{0xFF, 2}, []byte{1, 3, 4}), []byte{1, 2, 3, 1, 2, 4}},
		{"32bit", codec.Params{Rows: 1, Columns: 1, SamplesPerPixel: 1, BitsAllocated: 32},
			frame([]byte{0, 1}, []byte{0, 2}, []byte{0, 3}, []byte{0, 4}), []byte{4, 3, 2, 1}},
		{"YBR_FULL converted to RGB", codec.Params{Rows: 1, Columns: 3, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8, Photometric: "YBR_FULL"},
			frame([]byte{2, 128, 76, 255}, []byte{2, 128, 85, 128}, []byte{2, 128, 255, 128}), []byte{128, 128, 128, 254, 0, 0, 255, 255, 255}},
		{"padding past the frame is ignored", codec.Params{Rows: 1, Columns: 3, SamplesPerPixel: 1, BitsAllocated: 8},
			frame([]byte{0xFD, 5, 0}), []byte{5, 5, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, tc.p.FrameSize())
			if err := (Decoder{}).Decode(tc.src, tc.p, dst); err != nil {
				t.Fatal(err)
			}
			if string(dst) != string(tc.want) {
				t.Errorf("got %v, want %v", dst, tc.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	p8 := codec.Params{Rows: 2, Columns: 2, SamplesPerPixel: 1, BitsAllocated: 8}
	badOff := frame([]byte{0xFD, 1})
	binary.LittleEndian.PutUint32(badOff[4:], 1000)
	lowOff := frame([]byte{0xFD, 1})
	binary.LittleEndian.PutUint32(lowOff[4:], 10)
	many := frame([]byte{0xFD, 1})
	binary.LittleEndian.PutUint32(many, 16)
	tests := []struct {
		name string
		p    codec.Params
		src  []byte
		want error
	}{
		{"short header", p8, make([]byte, 10), codec.ErrCorrupt},
		{"zero segments", p8, make([]byte, 64), codec.ErrCorrupt},
		{"16 segments", p8, many, codec.ErrCorrupt},
		{"offset past end", p8, badOff, codec.ErrCorrupt},
		{"offset inside header", p8, lowOff, codec.ErrCorrupt},
		{"segment too short", p8, frame([]byte{0xFE, 1}), codec.ErrCorrupt},
		{"literal past end", p8, frame([]byte{5, 1, 2}), codec.ErrCorrupt},
		{"replicate without byte", p8, frame([]byte{0xFE}), codec.ErrCorrupt},
		{"segment count vs samples", codec.Params{Rows: 2, Columns: 2, SamplesPerPixel: 1, BitsAllocated: 16},
			frame([]byte{0xFD, 1}), codec.ErrMismatch},
		{"bits allocated 12", codec.Params{Rows: 2, Columns: 2, SamplesPerPixel: 1, BitsAllocated: 12},
			frame([]byte{0xFD, 1}), codec.ErrUnsupported},
		{"zero rows", codec.Params{Columns: 2, SamplesPerPixel: 1, BitsAllocated: 8}, frame([]byte{0xFD, 1}), codec.ErrMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, tc.p.FrameSize())
			err := (Decoder{}).Decode(tc.src, tc.p, dst)
			if !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func corpusFrames(tb testing.TB, ts string) ([][]byte, []codec.Params) {
	var frames [][]byte
	var ps []codec.Params
	for _, r := range testframes.Manifest(tb) {
		if r["ts_key"] != ts || r["expect"] != "ok" {
			continue
		}
		nf, _ := strconv.Atoi(r["frames"])
		fr, err := testframes.Frames(r["abspath"], nf)
		if err != nil {
			continue
		}
		for _, f := range fr {
			frames = append(frames, f)
			ps = append(ps, testframes.Params(r))
		}
	}
	return frames, ps
}

func FuzzRLE(f *testing.F) {
	frames, ps := corpusFrames(f, "rle")
	for i, fr := range frames {
		p := ps[i]
		f.Add(fr, uint16(p.Rows), uint16(p.Columns), uint8(p.SamplesPerPixel), uint8(p.BitsAllocated))
	}
	f.Fuzz(func(t *testing.T, src []byte, rows, cols uint16, spp, ba uint8) {
		p := codec.Params{Rows: int(rows % 1024), Columns: int(cols % 1024), SamplesPerPixel: int(spp%4 + 1), BitsAllocated: int(ba),
			BitsStored: int(ba)}
		if spp >= 128 { // the high bit selects the colour conversion
			p.Photometric = "YBR_FULL"
		}
		if p.FrameSize() <= 0 || p.FrameSize() > 1<<22 {
			return
		}
		dst := make([]byte, p.FrameSize())
		err := (Decoder{}).Decode(src, p, dst)
		if err != nil && !errors.Is(err, codec.ErrCorrupt) && !errors.Is(err, codec.ErrMismatch) &&
			!errors.Is(err, codec.ErrUnsupported) && !errors.Is(err, codec.ErrTooLarge) {
			t.Fatalf("error without a sentinel: %v", err)
		}
	})
}

// BenchmarkDecodeCT decodes the 16-bit CT frames of the corpus; the MB/s
// figure is of canonical output.
func BenchmarkDecodeCT(b *testing.B) {
	var frames [][]byte
	var p codec.Params
	for _, r := range testframes.Manifest(b) {
		if r["ts_key"] == "rle" && r["kind"] == "ct" {
			fr, err := testframes.Frames(r["abspath"], 1)
			if err != nil {
				b.Fatal(err)
			}
			frames = append(frames, fr...)
			p = testframes.Params(r)
		}
	}
	if len(frames) == 0 {
		b.Fatal("no CT RLE frames in the corpus")
	}
	dst := make([]byte, p.FrameSize())
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := (Decoder{}).Decode(frames[i%len(frames)], p, dst); err != nil {
			b.Fatal(err)
		}
	}
}
