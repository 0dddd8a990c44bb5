package jpeg2k

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"lightbox/backend/codec"
)

// opjDecode decodes a codestream with opj_decompress and returns its samples
// interleaved, as int32. w, h, nc are the expected dimensions.
func opjDecode(t testing.TB, cs []byte, reduce, w, h, nc int, prec int, signed bool) []int32 {
	t.Helper()
	bin, err := exec.LookPath("opj_decompress")
	if err != nil {
		t.Fatal("opj_decompress not installed (libopenjp2-tools; make test installs it)")
	}
	dir := t.TempDir()
	ext := ".j2k"
	if !bytes.HasPrefix(cs, []byte{0xFF, 0x4F}) {
		ext = ".jp2"
	}
	in := filepath.Join(dir, "in"+ext)
	out := filepath.Join(dir, "out.raw")
	if err := os.WriteFile(in, cs, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"-i", in, "-o", out, "-quiet"}
	if reduce > 0 {
		args = append(args, "-r", itoa(reduce))
	}
	if msg, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("opj_decompress: %v\n%s", err, msg)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	bps := 1
	if prec > 8 {
		bps = 2
	}
	if len(raw) != w*h*nc*bps {
		t.Fatalf("opj_decompress wrote %d bytes, want %dx%dx%dx%d", len(raw), w, h, nc, bps)
	}
	vals := make([]int32, w*h*nc)
	for c := 0; c < nc; c++ {
		for i := 0; i < w*h; i++ {
			o := (c*w*h + i) * bps
			var v int32
			if bps == 1 {
				v = int32(raw[o])
				if signed {
					v = int32(int8(raw[o]))
				}
			} else {
				u := uint16(raw[o]) | uint16(raw[o+1])<<8
				v = int32(u)
				if signed {
					// sign-extend from the precision
					v = int32(int16(u<<(16-prec))) >> (16 - prec)
				}
			}
			vals[i*nc+c] = v
		}
	}
	return vals
}

func itoa(n int) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// ourValues reads our canonical output back as int32 values (sign from the
// codestream, before any BitsStored masking).
func ourValues(data []byte, bps int, signed bool) []int32 {
	out := make([]int32, len(data)/bps)
	for i := range out {
		switch bps {
		case 1:
			out[i] = int32(data[i])
			if signed {
				out[i] = int32(int8(data[i]))
			}
		default:
			u := uint16(data[2*i]) | uint16(data[2*i+1])<<8
			out[i] = int32(u)
			if signed {
				out[i] = int32(int16(u))
			}
		}
	}
	return out
}

// compareWithOpenJPEG checks a full-resolution decode against opj_decompress
// and returns the largest difference (failing the test if it is not 0).
func compareWithOpenJPEG(t testing.TB, cs []byte, p codec.Params, ours []byte) {
	t.Helper()
	info, err := ReadInfo(cs)
	if err != nil {
		t.Fatal(err)
	}
	ref := opjDecode(t, cs, 0, p.Columns, p.Rows, p.SamplesPerPixel, info.Precision, info.Signed)
	got := ourValues(ours, (p.BitsAllocated+7)/8, info.Signed)
	if d, at := maxDiff(got, ref); d != 0 {
		t.Errorf("differs from opj_decompress by up to %d (first at sample %d)", d, at)
	}
}

func maxDiff(a, b []int32) (int32, int) {
	var m int32
	first := -1
	for i := range a {
		d := a[i] - b[i]
		if d < 0 {
			d = -d
		}
		if d > 0 && first < 0 {
			first = i
		}
		m = max(m, d)
	}
	return m, first
}

// TestRealCTAgainstOpenJPEG decodes a real 512x512 CT slice re-encoded by
// opj_compress with its defaults (lossless) and with -I -r 10 (9/7, 10:1),
// and requires the samples of opj_decompress.
func TestRealCTAgainstOpenJPEG(t *testing.T) {
	frames := realCT(t)
	var d Decoder
	var lossless []byte
	for _, f := range frames {
		t.Run(f.name, func(t *testing.T) {
			dst := make([]byte, f.params.FrameSize())
			if err := d.Decode(f.cs, f.params, dst); err != nil {
				t.Fatal(err)
			}
			compareWithOpenJPEG(t, f.cs, f.params, dst)
			if f.name == "ct512-lossless" {
				lossless = dst
			} else if lossless != nil && bytes.Equal(lossless, dst) {
				t.Fatal("the lossy decode equals the lossless one")
			}
		})
	}
}
