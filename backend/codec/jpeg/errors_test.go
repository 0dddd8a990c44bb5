package jpeg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// paramsFromSOF builds Params from the frame header of a codestream, for
// files whose manifest row has none.
func paramsFromSOF(src []byte) (codec.Params, bool) {
	for i := 0; i+10 < len(src); i++ {
		if src[i] == 0xFF && src[i+1] >= 0xC0 && src[i+1] <= 0xC3 {
			prec := int(src[i+4])
			p := codec.Params{Rows: int(binary.BigEndian.Uint16(src[i+5:])), Columns: int(binary.BigEndian.Uint16(src[i+7:])),
				SamplesPerPixel: int(src[i+9]), BitsAllocated: 8, BitsStored: prec, Photometric: "MONOCHROME2"}
			if prec > 8 {
				p.BitsAllocated = 16
			}
			if p.SamplesPerPixel == 3 {
				p.Photometric = "YBR_FULL"
			}
			return p, true
		}
	}
	return codec.Params{}, false
}

// decodeBounded decodes in a goroutine and fails the test if that takes
// more than a few seconds (a hang) or panics.
func decodeBounded(t *testing.T, d *Decoder, src []byte, p codec.Params, dst ...[]byte) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- errors.New("panic")
				t.Errorf("panic: %v", r)
			}
		}()
		out := make([]byte, p.FrameSize())
		if len(dst) > 0 {
			out = dst[0]
		}
		done <- d.Decode(src, p, out)
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("decode hangs")
		return nil
	}
}

func isSentinel(err error) bool {
	return errors.Is(err, codec.ErrCorrupt) || errors.Is(err, codec.ErrMismatch) ||
		errors.Is(err, codec.ErrUnsupported) || errors.Is(err, codec.ErrTooLarge)
}

// TestLenientFiles: the corpus's broken JPEG files decode or fail with a
// sentinel error, without panic or hang.
func TestLenientFiles(t *testing.T) {
	dir := testframes.Dir(t)
	n := 0
	for _, r := range testframes.Manifest(t) {
		if r["expect"] != "lenient" || !jpegTS[r["ts_key"]] && r["path"] != "malformed/bad_jpeg_corrupt.dcm" {
			continue
		}
		t.Run(r["path"], func(t *testing.T) {
			nf, _ := strconv.Atoi(r["frames"])
			frames, err := testframes.Frames(filepath.Join(dir, r["path"]), max(nf, 1))
			if err != nil {
				t.Skipf("no frames to decode: %v", err)
			}
			n++
			var d Decoder
			var out [][]byte
			var p codec.Params
			for i, f := range frames {
				p = testframes.Params(r)
				if p.Rows == 0 {
					var ok bool
					if p, ok = paramsFromSOF(f); !ok {
						t.Logf("frame %d: no frame header", i)
						continue
					}
				}
				dst := make([]byte, p.FrameSize())
				err := decodeBounded(t, &d, f, p, dst)
				if err != nil && !isSentinel(err) {
					t.Errorf("frame %d: error without a sentinel: %v", i, err)
				}
				t.Logf("frame %d: %v", i, err)
				if err == nil {
					out = append(out, dst)
				}
			}
			// What we decode of a damaged file should still be what the
			// reference decoder makes of it, when that one accepts it.
			if len(out) == len(frames) && p.Rows > 0 {
				ref := filepath.Join(t.TempDir(), "ref.dcm")
				if err := exec.Command(tool(t, "dcmdjpeg"), r["abspath"], ref).Run(); err == nil {
					compareDCMTK(t, r["abspath"], out, p)
				}
			}
		})
	}
	if n < 2 {
		t.Fatalf("only %d lenient JPEG files decoded", n)
	}
}

func firstFrame(t *testing.T, rel string) ([]byte, codec.Params) {
	t.Helper()
	for _, r := range testframes.Manifest(t) {
		if r["path"] == rel {
			nf, _ := strconv.Atoi(r["frames"])
			fr, err := testframes.Frames(r["abspath"], max(nf, 1))
			if err != nil {
				t.Fatal(err)
			}
			return fr[0], testframes.Params(r)
		}
	}
	t.Fatalf("%s not in the corpus", rel)
	return nil, codec.Params{}
}

// TestTruncated cuts frames of every process short: the decoder must
// report ErrCorrupt.
func TestTruncated(t *testing.T) {
	var d Decoder
	for _, rel := range []string{
		"images/ct/jpeg-baseline/ct_jpeg-baseline_01.dcm",
		"images/ct/jpeg-extended/ct_jpeg-extended_01.dcm",
		"images/ct/jpeg-lossless/ct_jpeg-lossless_01.dcm",
		"images/us/us_jpeg-lossless-sv1.dcm",
		"images/us/us_jpeg-baseline.dcm",
	} {
		src, p := firstFrame(t, rel)
		for _, frac := range []int{1, 5, 20, 50, 80, 97} {
			cut := len(src) * frac / 100
			err := decodeBounded(t, &d, src[:cut], p)
			if !errors.Is(err, codec.ErrCorrupt) {
				t.Errorf("%s cut at %d%%: %v, want ErrCorrupt", rel, frac, err)
			}
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	base, bp := firstFrame(t, "images/ct/jpeg-baseline/ct_jpeg-baseline_01.dcm")
	ll, lp := firstFrame(t, "images/ct/jpeg-lossless-sv1/ct_jpeg-lossless-sv1_01.dcm")
	sofAt := func(src []byte) int {
		for i := 2; i+1 < len(src); i++ {
			if src[i] == 0xFF && src[i+1] >= 0xC0 && src[i+1] <= 0xC3 {
				return i
			}
		}
		t.Fatal("no SOF")
		return 0
	}
	patch := func(src []byte, off int, b ...byte) []byte {
		out := append([]byte(nil), src...)
		copy(out[off:], b)
		return out
	}
	sosAt := func(src []byte) int {
		for i := 2; i+1 < len(src); i++ {
			if src[i] == 0xFF && src[i+1] == mSOS {
				return i
			}
		}
		t.Fatal("no SOS")
		return 0
	}
	// The scan of the image five times over: only one is allowed.
	scan := base[sosAt(base) : len(base)-2]
	repeated := append([]byte(nil), base[:sosAt(base)]...)
	for range 5 {
		repeated = append(repeated, scan...)
	}
	small := bp
	small.Rows = 64
	wide := lp
	wide.BitsAllocated = 8
	rgb := bp
	rgb.SamplesPerPixel = 3
	tests := []struct {
		name string
		src  []byte
		p    codec.Params
		want error
	}{
		{"empty", nil, bp, codec.ErrCorrupt},
		{"no SOI", base[2:], bp, codec.ErrCorrupt},
		{"only SOI and EOI", []byte{0xFF, 0xD8, 0xFF, 0xD9}, bp, codec.ErrCorrupt},
		{"rows differ", base, small, codec.ErrMismatch},
		{"16-bit samples in 8 bits", ll, wide, codec.ErrMismatch},
		{"one component for RGB", base, rgb, codec.ErrMismatch},
		{"arithmetic coding", patch(base, sofAt(base)+1, 0xC9), bp, codec.ErrUnsupported},
		{"hierarchical", patch(base, sofAt(base)+1, 0xC5), bp, codec.ErrUnsupported},
		{"baseline precision 12", patch(base, sofAt(base)+4, 12), bp, codec.ErrUnsupported},
		{"lossless precision 17", patch(ll, sofAt(ll)+4, 17), lp, codec.ErrUnsupported},
		{"zero width", patch(base, sofAt(base)+7, 0, 0), bp, codec.ErrCorrupt},
		{"huge size", patch(base, sofAt(base)+5, 0xFF, 0xFF, 0xFF, 0xFF), bp, codec.ErrTooLarge},
		{"size beyond dst", patch(base, sofAt(base)+5, 0x10, 0x00, 0x10, 0x00), bp, codec.ErrMismatch},
		{"zero components", patch(base, sofAt(base)+9, 0), bp, codec.ErrCorrupt},
		{"sampling 0", patch(base, sofAt(base)+11, 0x01), bp, codec.ErrCorrupt},
		{"repeated scans", repeated, bp, codec.ErrCorrupt},
		{"segment length past end", patch(base, 4, 0xFF, 0xFF), bp, codec.ErrCorrupt},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeBounded(t, &d, tc.src, tc.p)
			if !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// corpusSeeds returns one frame of each JPEG corpus file (and its
// Params), and the frames of the lenient files.
func corpusSeeds(tb testing.TB) ([][]byte, []codec.Params) {
	var frames [][]byte
	var ps []codec.Params
	for _, r := range testframes.Manifest(tb) {
		if !jpegTS[r["ts_key"]] && r["path"] != "malformed/bad_jpeg_corrupt.dcm" {
			continue
		}
		nf, _ := strconv.Atoi(r["frames"])
		fr, err := testframes.Frames(r["abspath"], max(nf, 1))
		if err != nil {
			continue
		}
		p := testframes.Params(r)
		if p.Rows == 0 {
			var ok bool
			if p, ok = paramsFromSOF(fr[0]); !ok {
				continue
			}
		}
		frames = append(frames, fr[0])
		ps = append(ps, p)
	}
	return frames, ps
}

// fuzzMaxFrame bounds the frames fuzzed: large frames only make each run
// slower (the decoding work is linear in the frame size).
const fuzzMaxFrame = 1 << 17

func FuzzJPEG(f *testing.F) {
	frames, ps := corpusSeeds(f)
	seen := map[string]bool{}
	for i, fr := range frames {
		p := ps[i]
		// One seed per kind of image keeps the seed run short.
		key := strconv.Itoa(p.Rows) + "x" + strconv.Itoa(p.Columns) + p.Photometric + strconv.Itoa(len(fr)/4096)
		if seen[key] || p.FrameSize() > fuzzMaxFrame {
			continue
		}
		seen[key] = true
		f.Add(fr, uint16(p.Rows), uint16(p.Columns), uint8(p.SamplesPerPixel), uint8(p.BitsAllocated), p.Photometric)
	}
	if os.Getenv("LIGHTBOX_FUZZ_VERBOSE") != "" {
		f.Logf("%d seeds", len(seen))
	}
	var d Decoder
	f.Fuzz(func(t *testing.T, src []byte, rows, cols uint16, spp, ba uint8, photometric string) {
		p := codec.Params{Rows: int(rows), Columns: int(cols), SamplesPerPixel: int(spp%4 + 1), BitsAllocated: int(ba), Photometric: photometric}
		if p.FrameSize() <= 0 || p.FrameSize() > fuzzMaxFrame {
			return
		}
		err := d.Decode(src, p, make([]byte, p.FrameSize()))
		if err != nil && !isSentinel(err) {
			t.Fatalf("error without a sentinel: %v", err)
		}
	})
}

// TestConcurrent decodes corpus frames from several goroutines with one
// Decoder (run with -race) and checks them against sequential results.
func TestConcurrent(t *testing.T) {
	frames, ps := corpusSeeds(t)
	var d Decoder
	want := make([][]byte, len(frames))
	for i, f := range frames {
		want[i] = make([]byte, ps[i].FrameSize())
		if err := d.Decode(f, ps[i], want[i]); err != nil {
			want[i] = nil
		}
	}
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for k := range frames {
				i := (k + g*7) % len(frames)
				if want[i] == nil {
					continue
				}
				got := make([]byte, len(want[i]))
				if err := d.Decode(frames[i], ps[i], got); err != nil || string(got) != string(want[i]) {
					errs <- fmt.Errorf("frame %d differs when decoded concurrently (%v)", i, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
