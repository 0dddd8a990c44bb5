package jpeg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
	"lightbox/backend/codec/rle"
)

// ctSeries writes a multi-frame 512x512 int16 CT-like series (a noisy
// phantom, so that it compresses like real CT) with pydicom.
func ctSeries(b *testing.B, dir string, frames int) string {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("ct512_%d.dcm", frames))
	script := fmt.Sprintf(`
import numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
n = %d
rng = np.random.default_rng(7)
y, x = np.mgrid[0:512, 0:512] - 256
r = np.hypot(x, y)
base = np.where(r < 200, 40.0, -1000.0)
base[(r >= 180) & (r < 200)] = 900.0
base[r >= 240] = -2000.0
frames = []
for k in range(n):
    img = base.copy()
    img[np.hypot(x - 60, y + 20 - k %% 40) < 30] = 200.0
    img += np.where(base > -2000, rng.normal(0, 12, size=base.shape), 0)
    frames.append((img + 1024).round().astype(np.int16) - 1024)
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.SOPClassUID = meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
ds.Modality = "CT"
ds.Rows, ds.Columns, ds.NumberOfFrames = 512, 512, n
ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
ds.RescaleIntercept, ds.RescaleSlope = 0, 1
ds.PixelData = np.stack(frames).tobytes()
ds.save_as(%q, write_like_original=False)
`, frames, path)
	if out, err := exec.Command("/usr/bin/python3", "-c", script).CombinedOutput(); err != nil {
		b.Skipf("pydicom: %v\n%s", err, out)
	}
	return path
}

// cpuTime returns the CPU time a finished command used.
func cpuTime(c *exec.Cmd) time.Duration {
	return c.ProcessState.UserTime() + c.ProcessState.SystemTime()
}

// refCPU runs a reference decoder on a file of many frames and on a file of
// one frame and returns the CPU time per frame with start-up subtracted.
func refCPU(b *testing.B, tool string, many, one string, frames int) time.Duration {
	runOne := func(src string) time.Duration {
		best := time.Duration(1 << 62)
		for range 5 {
			c := exec.Command(tool, src, filepath.Join(b.TempDir(), "out.dcm"))
			if out, err := c.CombinedOutput(); err != nil {
				b.Fatalf("%s: %v\n%s", tool, err, out)
			}
			best = min(best, cpuTime(c))
		}
		return best
	}
	return (runOne(many) - runOne(one)) / time.Duration(frames-1)
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVsDCMTK decodes a 512x512 16-bit CT series (200 frames, set
// LIGHTBOX_BENCH_FRAMES to change) in RLE, JPEG lossless SV1 and JPEG
// baseline, and reports the CPU throughput of our decoders next to that of
// dcmdrle/dcmdjpeg on the same files, start-up subtracted (cpu-MB/s,
// dcmtk-MB/s, and their ratio x-dcmtk). CPU time is compared rather than
// wall time because the machine may be shared.
func BenchmarkVsDCMTK(b *testing.B) {
	for _, t := range []string{"dcmcjpeg", "dcmdjpeg", "dcmcrle", "dcmdrle", "/usr/bin/python3"} {
		if _, err := exec.LookPath(t); err != nil {
			b.Skipf("%s not installed", t)
		}
	}
	n := 200
	if v, err := strconv.Atoi(os.Getenv("LIGHTBOX_BENCH_FRAMES")); err == nil && v > 1 {
		n = v
	}
	dir := b.TempDir()
	srcMany, srcOne := ctSeries(b, dir, n), ctSeries(b, dir, 1)
	var jd Decoder
	cases := []struct {
		name, enc, dec string
		opts           []string
		d              codec.Decoder
	}{
		{"rle", "dcmcrle", "dcmdrle", nil, rle.Decoder{}},
		{"jpeg-lossless-sv1", "dcmcjpeg", "dcmdjpeg", []string{"+e1"}, &jd},
		{"jpeg-baseline", "dcmcjpeg", "dcmdjpeg", []string{"+eb", "+rm"}, &jd},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			many, one := filepath.Join(dir, tc.name+"_many.dcm"), filepath.Join(dir, tc.name+"_one.dcm")
			for _, f := range [][2]string{{srcMany, many}, {srcOne, one}} {
				if out, err := exec.Command(tc.enc, append(tc.opts, f[0], f[1])...).CombinedOutput(); err != nil {
					b.Fatalf("%s: %v\n%s", tc.enc, err, out)
				}
			}
			frames, err := testframes.Frames(many, n)
			if err != nil {
				b.Fatal(err)
			}
			p := codec.Params{Rows: 512, Columns: 512, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 16, Signed: true, Photometric: "MONOCHROME2"}
			if tc.name == "jpeg-baseline" {
				p.BitsAllocated, p.BitsStored, p.Signed = 8, 8, false
			}
			ref := refCPU(b, tc.dec, many, one, n)
			dst := make([]byte, p.FrameSize())
			b.SetBytes(int64(len(dst)))
			b.ResetTimer()
			// The best CPU time per frame over chunks of frames: the machine
			// may be shared, and interference only ever adds time.
			const chunk = 10
			ours := time.Duration(1 << 62)
			cpu0, ops := processCPU(), 0
			for i := 0; b.Loop(); i++ {
				if err := tc.d.Decode(frames[i%len(frames)], p, dst); err != nil {
					b.Fatal(err)
				}
				if ops++; ops == chunk {
					cpu1 := processCPU()
					ours = min(ours, (cpu1-cpu0)/chunk)
					cpu0, ops = cpu1, 0
				}
			}
			if ours == 1<<62 {
				b.Skip("too few iterations for a CPU figure (use -benchtime 100x or more)")
			}
			mb := func(d time.Duration) float64 { return float64(len(dst)) / d.Seconds() / 1e6 }
			b.ReportMetric(mb(ours), "cpu-MB/s")
			b.ReportMetric(mb(ref), "dcmtk-MB/s")
			b.ReportMetric(float64(ref)/float64(ours), "x-dcmtk")
		})
	}
}
