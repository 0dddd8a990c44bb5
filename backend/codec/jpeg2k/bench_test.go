package jpeg2k

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

type benchFrame struct {
	name   string
	cs     []byte
	params codec.Params
}

// benchFrames picks the frames the benchmarks decode:
//   - ct512-lossless / ct512-lossy: a real 512x512 CT slice (the corpus's
//     J2K_pixelrep_mismatch.dcm, read as signed 13-bit values, stored as
//     16-bit signed) re-encoded by opj_compress with its defaults
//     (lossless 5/3, 6 resolutions, 64x64 code-blocks) and with -I -r 10
//     (9/7, 10:1);
//   - bench-j2k / bench-j2k-lossy: a slice of the synthetic 1000-slice CT
//     series that bench/ decodes (GDCM-encoded), when its cache exists;
//   - the 128x128 corpus CT lossless and lossy, and a 1024x256 lossy file.
func benchFrames(b *testing.B) []benchFrame {
	b.Helper()
	var out []benchFrame
	for _, f := range corpusJ2K(b) {
		switch f.row["path"] {
		case "images/ct/j2k-lossless/ct_j2k-lossless_01.dcm":
			out = append(out, benchFrame{"ct128-lossless", f.frames[0], f.params})
		case "images/ct/j2k/ct_j2k_01.dcm":
			out = append(out, benchFrame{"ct128-lossy", f.frames[0], f.params})
		case "external/pydicom/JPEG2000.dcm":
			out = append(out, benchFrame{"1024x256-lossy", f.frames[0], f.params})
		}
	}
	if len(out) != 3 {
		b.Fatalf("benchmark frames missing from the corpus (%d found)", len(out))
	}
	out = append(out, realCT(b)...)
	p := out[len(out)-1].params
	home, _ := os.UserHomeDir()
	for _, key := range []string{"j2k", "j2k-lossy"} {
		path := filepath.Join(home, ".cache", "lightbox", "bench", "ct200-"+key, "ct_0100.dcm")
		if _, err := os.Stat(path); err != nil {
			b.Logf("%s not cached (run the bench/ BenchmarkDecode once): left out", path)
			continue
		}
		fr, err := testframes.Frames(path, 1)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, benchFrame{"bench-" + key, fr[0], p})
	}
	return out
}

// realCT returns the real 512x512 CT slice of the corpus re-encoded by
// opj_compress, lossless and 10:1 lossy (see opjEncodedCT).
func realCT(tb testing.TB) []benchFrame {
	tb.Helper()
	for _, f := range corpusJ2K(tb) {
		if f.row["path"] == "external/pydicom/J2K_pixelrep_mismatch.dcm" {
			p := codec.Params{Rows: 512, Columns: 512, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 16, Signed: true,
				Photometric: "MONOCHROME2"}
			return opjEncodedCT(tb, f.frames[0], p)
		}
	}
	tb.Fatal("external/pydicom/J2K_pixelrep_mismatch.dcm missing from the corpus")
	return nil
}

// opjEncodedCT decodes the 13-bit CT codestream src with our decoder,
// sign-extends it (the file's values are two's complement in 13 bits: air
// and padding come out negative), and re-encodes it with opj_compress,
// lossless and 10:1 lossy.
func opjEncodedCT(b testing.TB, src []byte, p codec.Params) []benchFrame {
	b.Helper()
	bin, err := exec.LookPath("opj_compress")
	if err != nil {
		b.Fatal("opj_compress not installed (libopenjp2-tools; make test installs it)")
	}
	var d Decoder
	sp := codec.Params{Rows: 512, Columns: 512, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 13}
	raw := make([]byte, sp.FrameSize())
	if err := d.Decode(src, sp, raw); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(raw); i += 2 {
		v := int32(binary.LittleEndian.Uint16(raw[i:]))
		if v >= 4096 {
			v -= 8192
		}
		binary.LittleEndian.PutUint16(raw[i:], uint16(int16(v)))
	}
	dir := b.TempDir()
	in := filepath.Join(dir, "ct.rawl")
	if err := os.WriteFile(in, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	var out []benchFrame
	for _, c := range []struct {
		name string
		args []string
	}{{"ct512-lossless", nil}, {"ct512-lossy", []string{"-I", "-r", "10"}}} {
		o := filepath.Join(dir, c.name+".j2k")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		args := append([]string{"-i", in, "-o", o, "-F", "512,512,1,16,s"}, c.args...)
		msg, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		cancel()
		if err != nil {
			b.Fatalf("opj_compress: %v\n%s", err, msg)
		}
		cs, err := os.ReadFile(o)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, benchFrame{c.name, cs, p})
	}
	return out
}

// BenchmarkDecode decodes each frame with the default worker count, and
// with one worker (name/1worker). The machine may be shared, so it also
// reports CPU time per frame; the one-worker figure is the one to compare
// with BenchmarkOpenJPEG's opj-cpu-ns/frame (single-threaded; bench/
// decodes two files at once, so per-core efficiency is what counts there).
func BenchmarkDecode(b *testing.B) {
	for _, f := range benchFrames(b) {
		for _, workers := range []int{0, 1} {
			name := f.name
			if workers == 1 {
				name += "/1worker"
			}
			benchDecode(b, name, f, workers)
		}
	}
}

func benchDecode(b *testing.B, name string, f benchFrame, workers int) {
	b.Run(name, func(b *testing.B) {
		d := Decoder{Workers: workers}
		p := f.params
		dst := make([]byte, p.FrameSize())
		b.SetBytes(int64(len(dst)))
		b.ReportAllocs()
		c0 := processCPU()
		n := 0
		for b.Loop() {
			if err := d.Decode(f.cs, p, dst); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if cpu := processCPU() - c0; cpu > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/frame")
			b.ReportMetric(float64(len(dst))*float64(n)/cpu.Seconds()/1e6, "cpu-MB/s")
		}
	})
}

// BenchmarkOpenJPEG times opj_decompress (single-threaded, its default) on
// the same codestreams, net of process start-up: one process decodes a
// directory of n copies, and the time of a one-copy run is subtracted.
func BenchmarkOpenJPEG(b *testing.B) {
	bin, err := exec.LookPath("opj_decompress")
	if err != nil {
		b.Fatal("opj_decompress not installed (libopenjp2-tools; make test installs it)")
	}
	// run returns the wall and CPU time of one opj_decompress process.
	run := func(dir string) (time.Duration, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		t0 := time.Now()
		cmd := exec.CommandContext(ctx, bin, "-ImgDir", dir, "-OutFor", "RAW", "-quiet")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("opj_decompress: %v\n%s", err, msg)
		}
		return time.Since(t0), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	for _, f := range benchFrames(b) {
		b.Run(f.name, func(b *testing.B) {
			const n = 40
			base := b.TempDir()
			one, many := filepath.Join(base, "one"), filepath.Join(base, "many")
			for _, d := range []string{one, many} {
				if err := os.Mkdir(d, 0o700); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < n; i++ {
				if err := os.WriteFile(filepath.Join(many, fmt.Sprintf("f%03d.j2k", i)), f.cs, 0o600); err != nil {
					b.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(one, "f.j2k"), f.cs, 0o600); err != nil {
				b.Fatal(err)
			}
			size := f.params.FrameSize()
			b.SetBytes(int64(size))
			var net, netCPU time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				wm, cm := run(many)
				w1, c1 := run(one)
				net += (wm - w1) / (n - 1)
				netCPU += (cm - c1) / (n - 1)
			}
			b.ReportMetric(float64(net.Nanoseconds())/float64(b.N), "opj-ns/frame")
			b.ReportMetric(float64(size)*float64(b.N)/net.Seconds()/1e6, "opj-MB/s")
			if netCPU > 0 {
				b.ReportMetric(float64(netCPU.Nanoseconds())/float64(b.N), "opj-cpu-ns/frame")
				b.ReportMetric(float64(size)*float64(b.N)/netCPU.Seconds()/1e6, "opj-cpu-MB/s")
			}
		})
	}
}
