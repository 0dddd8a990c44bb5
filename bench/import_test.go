package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"lightbox/backend/importer"
	"lightbox/backend/store"
)

func dirBytes(tb testing.TB, dir string) (files []string, total int64) {
	files, _ = filepath.Glob(filepath.Join(dir, "*.dcm"))
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			tb.Fatal(err)
		}
		total += st.Size()
	}
	return files, total
}

func report(b *testing.B, n int, bytes int64, d time.Duration) {
	b.ReportMetric(float64(n)/d.Seconds(), "files/s")
	b.ReportMetric(float64(bytes)/1e6/d.Seconds(), "MB/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkImport1000CT compares `lightbox import` (in-process, with fsync
// and indexing) with `cp -r` of the same files and with Orthanc's REST
// upload, in one run. Orthanc gets 4 parallel uploaders (its best case).
func BenchmarkImport1000CT(b *testing.B) {
	src := ctSeries(b, 1000)
	files, total := dirBytes(b, src)
	b.Run("lightbox", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			st, err := store.Open(tempDir(b), store.Options{Fsync: true})
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			sum := importer.Run(context.Background(), st, []string{src}, importer.Options{})
			d := time.Since(t0)
			st.Close()
			if sum.Imported != len(files) {
				b.Fatalf("imported %d of %d", sum.Imported, len(files))
			}
			report(b, len(files), total, d)
		}
	})
	b.Run("cp-r", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			dst := filepath.Join(tempDir(b), "copy")
			t0 := time.Now()
			if out, err := exec.Command("cp", "-r", src, dst).CombinedOutput(); err != nil {
				b.Fatalf("cp: %v %s", err, out)
			}
			exec.Command("sync").Run()
			report(b, len(files), total, time.Since(t0))
		}
	})
	b.Run("orthanc-rest", func(b *testing.B) {
		o := startOrthanc(b, 18342, 14342, "BENCH", 14343)
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			o.load(b, files, 4)
			report(b, len(files), total, time.Since(t0))
		}
	})
}
