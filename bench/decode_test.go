package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/backend/pixel"
)

// encodedSeries returns the first n slices of the 1000-slice CT series
// encoded in transfer syntax key (rle, sv1, baseline, jpegls, j2k, j2k-lossy),
// made once with GDCM (in-process through python3-gdcm) or DCMTK.
func encodedSeries(tb testing.TB, key string, n int) []string {
	seriesMu.Lock()
	defer seriesMu.Unlock()
	dir := cacheDir(tb, fmt.Sprintf("ct%d-%s", n, key))
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	if len(files) == n {
		return files
	}
	seriesMu.Unlock()
	src := ctSeries(tb, 1000)
	seriesMu.Lock()
	srcFiles, _ := filepath.Glob(filepath.Join(src, "*.dcm"))
	srcFiles = srcFiles[:n]
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	os.MkdirAll(tmp, 0o755)
	if key == "baseline" {
		// GDCM cannot write 8-bit baseline JPEG from 16-bit data; DCMTK rescales.
		for _, f := range srcFiles {
			if out, err := exec.Command("dcmcjpeg", "+eb", f, filepath.Join(tmp, filepath.Base(f))).CombinedOutput(); err != nil {
				tb.Fatalf("dcmcjpeg: %v %s", err, out)
			}
		}
	} else {
		script := `
import sys, gdcm, os
key, out = sys.argv[1], sys.argv[2]
T = {'rle': gdcm.TransferSyntax.RLELossless, 'sv1': gdcm.TransferSyntax.JPEGLosslessProcess14_1,
     'jpegls': gdcm.TransferSyntax.JPEGLSLossless, 'j2k': gdcm.TransferSyntax.JPEG2000Lossless, 'j2k-lossy': gdcm.TransferSyntax.JPEG2000}[key]
for f in sys.argv[3:]:
    r = gdcm.ImageReader(); r.SetFileName(f)
    assert r.Read()
    ch = gdcm.ImageChangeTransferSyntax(); ch.SetTransferSyntax(gdcm.TransferSyntax(T))
    if key == 'j2k-lossy':
        c = gdcm.JPEG2000Codec(); c.SetRate(0, 8); c.SetReversible(False); ch.SetUserCodec(c)
    ch.SetInput(r.GetImage()); assert ch.Change()
    w = gdcm.ImageWriter(); w.SetFileName(os.path.join(out, os.path.basename(f)))
    w.SetFile(r.GetFile()); w.SetImage(ch.GetOutput()); assert w.Write()
`
		cmd := exec.Command("/usr/bin/python3", append([]string{"-c", script, key, tmp}, srcFiles...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("gdcm encode %s: %v\n%s", key, err, out)
		}
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		tb.Fatal(err)
	}
	files, _ = filepath.Glob(filepath.Join(dir, "*.dcm"))
	return files
}

// decodeLightbox decodes every frame with our codecs on both cores and
// returns the output bytes and the wall time.
func decodeLightbox(tb testing.TB, files []string) (int64, time.Duration) {
	var total int64
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				img, err := pixel.Open(f, pixel.WithCodecs(pixel.DefaultCodecs()))
				if err != nil {
					tb.Error(err)
					continue
				}
				b, err := img.Frame(context.Background(), 0)
				img.Close()
				if err != nil {
					tb.Error(err)
					continue
				}
				mu.Lock()
				total += int64(len(b))
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	return total, time.Since(t0)
}

// decodeGDCM decodes every file in one python3-gdcm process (GDCM's own
// codecs: its JPEG, CharLS, OpenJPEG), two processes for two cores, and
// returns the decode time measured inside the processes.
func decodeGDCM(tb testing.TB, files []string) time.Duration {
	script := `
import sys, gdcm, time
t = 0.0
for f in sys.argv[1:]:
    r = gdcm.ImageReader(); r.SetFileName(f)
    t0 = time.perf_counter()
    assert r.Read()
    img = r.GetImage()
    buf = img.GetBuffer()
    t += time.perf_counter() - t0
    assert len(buf) > 0
print(t)
`
	half := len(files) / 2
	var wg sync.WaitGroup
	times := make([]float64, 2)
	t0 := time.Now()
	for i, part := range [][]string{files[:half], files[half:]} {
		wg.Add(1)
		go func(i int, part []string) {
			defer wg.Done()
			out, err := exec.Command("/usr/bin/python3", append([]string{"-c", script}, part...)...).Output()
			if err != nil {
				tb.Errorf("gdcm decode: %v", err)
				return
			}
			times[i], _ = strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		}(i, part)
	}
	wg.Wait()
	_ = t0
	// the two processes ran in parallel: the slower one is the wall time
	return time.Duration(max(times[0], times[1]) * float64(time.Second))
}

// decodeTool runs a DCMTK/OpenJPEG decoder once per file on two cores and
// subtracts its start-up time (measured on the smallest input it takes).
func decodeTool(tb testing.TB, files []string, argv func(in, out string) []string, startup time.Duration) (net, gross time.Duration) {
	dir := tb.TempDir()
	work := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				a := argv(files[i], filepath.Join(dir, strconv.Itoa(i)))
				if out, err := exec.Command(a[0], a[1:]...).CombinedOutput(); err != nil {
					tb.Errorf("%s: %v %s", a[0], err, out)
				}
			}
		}()
	}
	for i := range files {
		work <- i
	}
	close(work)
	wg.Wait()
	gross = time.Since(t0)
	return gross - startup*time.Duration(len(files))/2, gross
}

// startupOf times a tool on a trivial input (process start-up, DICOM read).
func startupOf(tb testing.TB, a []string) time.Duration {
	best := time.Hour
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		exec.Command(a[0], a[1:]...).Run()
		if d := time.Since(t0); d < best {
			best = d
		}
	}
	return best
}

// BenchmarkDecode compares our decoders with GDCM (in-process) and DCMTK
// (per file, net of start-up) on 200 slices of 512x512 16-bit CT; JPEG-LS
// and JPEG 2000 also against CharLS/OpenJPEG through GDCM and opj_decompress.
func BenchmarkDecode(b *testing.B) {
	n := 200
	if s := os.Getenv("BENCH_SLICES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	tiny := ctSeries(b, 1000)
	smallest := filepath.Join(tiny, "ct_0001.dcm")
	dcmtk := map[string]string{"rle": "dcmdrle", "sv1": "dcmdjpeg", "baseline": "dcmdjpeg", "jpegls": "dcmdjpls"}
	for _, key := range []string{"rle", "sv1", "baseline", "jpegls", "j2k", "j2k-lossy"} {
		files := encodedSeries(b, key, n)
		out := outputBytes(b, files) // the same decoded size for every contender
		b.Run(key+"/lightbox", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				bytes, d := decodeLightbox(b, files)
				b.ReportMetric(float64(bytes)/1e6/d.Seconds(), "MB/s")
				b.ReportMetric(0, "ns/op")
			}
		})
		b.Run(key+"/gdcm", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				d := decodeGDCM(b, files)
				b.ReportMetric(float64(out)/1e6/d.Seconds(), "MB/s")
				b.ReportMetric(0, "ns/op")
			}
		})
		if tool, ok := dcmtk[key]; ok {
			b.Run(key+"/"+tool, func(b *testing.B) {
				st := startupOf(b, []string{tool, smallest, filepath.Join(b.TempDir(), "x")})
				for i := 0; i < b.N; i++ {
					d, gross := decodeTool(b, files, func(in, out string) []string { return []string{tool, in, out} }, st)
					// Net of start-up is only meaningful when decoding outweighs
					// the start-up noise; the gross figure is always reported.
					if d > gross/10 {
						b.ReportMetric(float64(out)/1e6/d.Seconds(), "MB/s")
					}
					b.ReportMetric(float64(out)/1e6/gross.Seconds(), "MB/s_with_startup")
					b.ReportMetric(0, "ns/op")
				}
			})
		}
	}
}

// outputBytes is the decoded size of the files (8-bit for the baseline JPEG
// series, which DCMTK writes after rescaling to 8 bits; 16-bit otherwise).
func outputBytes(tb testing.TB, files []string) int64 {
	var total int64
	for _, f := range files {
		img, err := pixel.Open(f, pixel.WithCodecs(pixel.DefaultCodecs()))
		if err != nil {
			tb.Fatal(err)
		}
		total += int64(img.Info.FrameSize()) * int64(img.Info.Frames)
		img.Close()
	}
	return total
}
