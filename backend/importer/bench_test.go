package importer

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"lightbox/backend/store"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkImportSeries imports the benchmark CT series (the one
// ./bench builds: $HOME/.cache/lightbox/bench/ct1000, or
// LIGHTBOX_BENCH_SERIES) into a fresh store with fsync on, and reports
// files/s, MB/s and the process CPU time per file.
func BenchmarkImportSeries(b *testing.B) {
	dir := os.Getenv("LIGHTBOX_BENCH_SERIES")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "lightbox", "bench", "ct1000")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	if len(files) == 0 {
		b.Skipf("no series at %s: run go test -bench Import1000CT ./bench/ once", dir)
	}
	var total int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		total += fi.Size()
		os.ReadFile(f) // warm the page cache
	}
	b.ResetTimer()
	var wall, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, err := store.Open(b.TempDir(), store.Options{Fsync: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0, c0 := time.Now(), cpuTime()
		sum := Run(context.Background(), st, []string{dir}, Options{})
		wall += time.Since(t0)
		cpu += cpuTime() - c0
		b.StopTimer()
		st.Close()
		if sum.Imported != len(files) {
			b.Fatalf("imported %d of %d: %+v", sum.Imported, len(files), sum.Failed)
		}
		b.StartTimer()
	}
	n := float64(b.N * len(files))
	b.ReportMetric(n/wall.Seconds(), "files/s")
	b.ReportMetric(float64(b.N)*float64(total)/1e6/wall.Seconds(), "MB/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/n, "cpu-ms/file")
	b.ReportMetric(0, "ns/op")
}
