package jpegls

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// benchFrames returns the frames of the corpus files of one kind and
// transfer syntax key.
func benchFrames(b *testing.B, kind, ts string) ([][]byte, codec.Params) {
	var frames [][]byte
	var p codec.Params
	for _, r := range jpeglsRows(b) {
		if r["kind"] != kind || r["ts_key"] != ts {
			continue
		}
		n, _ := strconv.Atoi(r["frames"])
		fr, err := testframes.Frames(r["abspath"], n)
		if err != nil {
			b.Fatal(err)
		}
		frames = append(frames, fr...)
		p = testframes.Params(r)
	}
	if len(frames) == 0 {
		b.Fatalf("no %s %s frames", kind, ts)
	}
	return frames, p
}

// BenchmarkDecode decodes the corpus CT series (20 slices 128x128 16-bit)
// and other series; MB/s counts decoded output bytes.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ kind, ts string }{
		{"ct", "jpegls-lossless"}, {"ct", "jpegls-near"}, {"mr", "jpegls-lossless"}, {"us", "jpegls-lossless"},
	} {
		b.Run(bc.kind+"-"+bc.ts, func(b *testing.B) {
			frames, p := benchFrames(b, bc.kind, bc.ts)
			dst := make([]byte, p.FrameSize())
			var dec Decoder
			b.SetBytes(int64(len(frames) * len(dst)))
			b.ReportAllocs()
			for b.Loop() {
				for _, f := range frames {
					if err := dec.Decode(f, p, dst); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkDecodeNoisy decodes a 512x512 16-bit CT-like slice with noise
// (few runs, as in real CT), made by testdata/noisy.py with CharLS.
func BenchmarkDecodeNoisy(b *testing.B) {
	dir := b.TempDir()
	out, err := exec.Command("/usr/bin/python3", "testdata/noisy.py", filepath.Join(dir, "noisy")).CombinedOutput()
	if err != nil {
		b.Skipf("noisy.py (needs pydicom, numpy, libcharls): %v %s", err, out)
	}
	src, err := os.ReadFile(filepath.Join(dir, "noisy.jls"))
	if err != nil {
		b.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "noisy.raw"))
	if err != nil {
		b.Fatal(err)
	}
	p := codec.Params{Rows: 512, Columns: 512, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12,
		Photometric: "MONOCHROME2"}
	dst := make([]byte, p.FrameSize())
	var dec Decoder
	if err := dec.Decode(src, p, dst); err != nil || !bytes.Equal(dst, want) {
		b.Fatalf("noisy slice does not decode exactly: %v", err)
	}
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for b.Loop() {
		if err := dec.Decode(src, p, dst); err != nil {
			b.Fatal(err)
		}
	}
}
