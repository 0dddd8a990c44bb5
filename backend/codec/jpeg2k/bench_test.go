package jpeg2k

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// benchFrames picks the corpus frames the benchmarks decode: the CT series
// (128x128 int16) lossless and lossy, and the largest external lossy file.
func benchFrames(b *testing.B) map[string]corpusFile {
	out := map[string]corpusFile{}
	for _, f := range corpusJ2K(b) {
		switch {
		case f.row["path"] == "images/ct/j2k-lossless/ct_j2k-lossless_01.dcm":
			out["ct-lossless"] = f
		case f.row["path"] == "images/ct/j2k/ct_j2k_01.dcm":
			out["ct-lossy"] = f
		case f.row["path"] == "external/pydicom/JPEG2000.dcm":
			out["1024x256-lossy"] = f
		}
	}
	if len(out) != 3 {
		b.Fatalf("benchmark frames missing: %v", out)
	}
	return out
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"ct-lossless", "ct-lossy", "1024x256-lossy"} {
		f := benchFrames(b)[name]
		b.Run(name, func(b *testing.B) {
			var d Decoder
			p := f.params
			dst := make([]byte, p.FrameSize())
			b.SetBytes(int64(len(dst)))
			b.ReportAllocs()
			c0 := processCPU()
			n := 0
			for b.Loop() {
				if err := d.Decode(f.frames[0], p, dst); err != nil {
					b.Fatal(err)
				}
				n++
			}
			// The machine may be shared: CPU time is the fairer measure.
			if cpu := processCPU() - c0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/frame")
				b.ReportMetric(float64(len(dst))*float64(n)/cpu.Seconds()/1e6, "cpu-MB/s")
			}
		})
	}
}

// BenchmarkOpenJPEG times opj_decompress on the same codestreams, net of
// process start-up: one process decodes a directory of n copies, and the
// time of a one-copy run is subtracted.
func BenchmarkOpenJPEG(b *testing.B) {
	bin, err := exec.LookPath("opj_decompress")
	if err != nil {
		b.Skip("opj_decompress not installed")
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
	for _, name := range []string{"ct-lossless", "ct-lossy", "1024x256-lossy"} {
		f := benchFrames(b)[name]
		b.Run(name, func(b *testing.B) {
			const n = 40
			base := b.TempDir()
			one, many := filepath.Join(base, "one"), filepath.Join(base, "many")
			for _, d := range []string{one, many} {
				if err := os.Mkdir(d, 0o700); err != nil {
					b.Fatal(err)
				}
			}
			for i := 0; i < n; i++ {
				if err := os.WriteFile(filepath.Join(many, fmt.Sprintf("f%03d.j2k", i)), f.frames[0], 0o600); err != nil {
					b.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(one, "f.j2k"), f.frames[0], 0o600); err != nil {
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
