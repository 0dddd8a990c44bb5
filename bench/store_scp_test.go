package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"lightbox/backend/dimse"
	"lightbox/backend/storage"
	"lightbox/backend/store"
	"lightbox/backend/ul"
)

// Ports of the storage benchmarks (the storage range 12200-12299).
const (
	benchLightboxPort = 12240
	benchStorescpPort = 12241
	benchOrthancDICOM = 12242
	benchOrthancHTTP  = 12243
)

// storescuParallel sends files with `parallel` storescu processes (one
// association each, files split evenly) to aet at port and returns the
// elapsed time.
func storescuParallel(b *testing.B, files []string, parallel int, aet string, port int) time.Duration {
	b.Helper()
	var wg sync.WaitGroup
	errs := make([]error, parallel)
	outs := make([][]byte, parallel)
	t0 := time.Now()
	for p := 0; p < parallel; p++ {
		part := files[p*len(files)/parallel : (p+1)*len(files)/parallel]
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("storescu", append([]string{"-aec", aet, "127.0.0.1", strconv.Itoa(port)}, part...)...)
			cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
			outs[p], errs[p] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	for p := range errs {
		if errs[p] != nil {
			b.Fatalf("storescu %d: %v\n%s", p, errs[p], outs[p])
		}
	}
	return d
}

// startStorescp starts DCMTK storescp on port with args; stopped at cleanup.
func startStorescp(b *testing.B, port int, args ...string) {
	b.Helper()
	cmd := exec.Command("storescp", append(append([]string{"-aet", "STORESCP"}, args...), strconv.Itoa(port))...)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitPort(b, port)
}

func waitPort(b *testing.B, port int) {
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	b.Fatalf("nothing listens on %d", port)
}

// startLightboxSCP runs the Storage SCP into a store (fsync on or off).
func startLightboxSCP(b *testing.B, port int, fsync bool) *store.Store {
	b.Helper()
	runtime.GC() // not the garbage of what ran before
	st, err := store.Open(tempDir(b), store.Options{Fsync: fsync})
	if err != nil {
		b.Fatal(err)
	}
	act := storage.NewActivity(nil)
	mux := dimse.NewMux(dimse.Options{})
	pol := ul.Policy{AETitle: "LIGHTBOX", Syntaxes: storage.Register(mux, storage.NewSCP(st, act, nil), false), MaxAssociations: 16}
	srv := ul.NewServer(pol, act.Track(mux))
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done; st.Close() })
	return st
}

func countFiles(dir string) int {
	n := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// BenchmarkReceive1000CT: storescu (1 and 4 parallel associations) sends
// the 1000-image 512x512 CT series to Lightbox (each object synced, data
// and name, before its response; timed until the background indexer has
// written every row; also without fsync), DCMTK storescp writing files (no
// fsync), storescp --ignore (network only) and Orthanc, in one run. With
// one association, sync-floor is what the disk allows a receiver that
// syncs each object before answering: the same files written and synced
// one by one, with no network at all, and durable-bound adds it to
// storescp --ignore's time: the least time any receiver that answers once
// each object is durable can take with one association on this machine.
// cpu-ms/img is the receiving process's CPU per image.
//
//	go test -run '^$' -bench Receive1000CT -benchtime 1x ./bench/
func BenchmarkReceive1000CT(b *testing.B) {
	files, total := dirBytes(b, ctSeries(b, 1000))
	warmCache(b, files)
	// last time of each contender with one association (durable-bound)
	took := map[string]time.Duration{}
	for _, par := range []int{1, 4} {
		for _, fsync := range []bool{true, false} {
			name := "lightbox"
			if !fsync {
				name = "lightbox-nofsync"
			}
			b.Run(fmt.Sprintf("%s/assoc=%d", name, par), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					port := benchLightboxPort + 20*i
					if !fsync {
						port++
					}
					st := startLightboxSCP(b, port, fsync)
					cpu0 := selfCPU()
					d := storescuParallel(b, files, par, "LIGHTBOX", port)
					// Every object is durable when its response goes out;
					// its index rows follow in the background: the time
					// counts until they are all written.
					t1 := time.Now()
					if err := st.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
					d += time.Since(t1)
					// CPU per image of the receiving process (less noisy
					// than the rate on a shared machine).
					b.ReportMetric(float64((selfCPU()-cpu0).Microseconds())/1000/float64(len(files)), "cpu-ms/img")
					var n int64
					st.DB().Model(&store.Instance{}).Count(&n)
					if int(n) != len(files) {
						b.Fatalf("%d indexed of %d", n, len(files))
					}
					report(b, len(files), total, d)
					took[name] = d
				}
			})
		}
		if par == 1 {
			// The floor of any receiver that answers only once an object
			// is durable, on this machine's disk: each file written and
			// synced (one fdatasync, as a slot costs), one after the other
			// as one association sends them, without any network.
			b.Run("sync-floor/assoc=1", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					d := syncFloor(b, files)
					report(b, len(files), total, d)
					took["sync-floor"] = d
				}
			})
		}
		b.Run(fmt.Sprintf("storescp-files/assoc=%d", par), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dir := tempDir(b)
				startStorescp(b, benchStorescpPort+10*i, "-od", dir)
				d := storescuParallel(b, files, par, "STORESCP", benchStorescpPort+10*i)
				if n := countFiles(dir); n != len(files) {
					b.Fatalf("storescp wrote %d of %d", n, len(files))
				}
				report(b, len(files), total, d)
				took["storescp-files"] = d
			}
		})
		b.Run(fmt.Sprintf("storescp-ignore/assoc=%d", par), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				startStorescp(b, benchStorescpPort+1+10*i, "--ignore")
				d := storescuParallel(b, files, par, "STORESCP", benchStorescpPort+1+10*i)
				report(b, len(files), total, d)
				took["storescp-ignore"] = d
			}
		})
		if par == 1 {
			// With one association the sender waits for each response, so
			// a receiver that answers only once the object is durable
			// cannot take less than the network alone (storescp --ignore)
			// plus the disk's syncs (sync-floor): that sum is the best any
			// such receiver can do on this machine, whatever its code.
			// Reported: its rate, its ratio to storescp writing files
			// without syncing (x_storescp), and Lightbox's rate as a
			// fraction of it (lightbox_of_bound).
			b.Run("durable-bound/assoc=1", func(b *testing.B) {
				bound := took["storescp-ignore"] + took["sync-floor"]
				if took["storescp-ignore"] == 0 || took["sync-floor"] == 0 || took["storescp-files"] == 0 {
					b.Skip("needs the sync-floor, storescp-files and storescp-ignore results of this run (-bench Receive1000CT)")
				}
				report(b, len(files), total, bound)
				b.ReportMetric(took["storescp-files"].Seconds()/bound.Seconds(), "x_storescp")
				if lb := took["lightbox"]; lb > 0 {
					b.ReportMetric(bound.Seconds()/lb.Seconds(), "lightbox_of_bound")
				}
			})
		}
		b.Run(fmt.Sprintf("orthanc/assoc=%d", par), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				o := startOrthanc(b, benchOrthancHTTP, benchOrthancDICOM, "BENCH", 12244)
				d := storescuParallel(b, files, par, "ORTHANC", o.dcm)
				var stats struct{ CountInstances int }
				rsp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/statistics", o.http))
				if err != nil {
					b.Fatal(err)
				}
				json.NewDecoder(rsp.Body).Decode(&stats)
				rsp.Body.Close()
				if stats.CountInstances != len(files) {
					b.Fatalf("Orthanc has %d of %d", stats.CountInstances, len(files))
				}
				report(b, len(files), total, d)
			}
		})
	}
}

// syncFloor writes the files into a fresh folder one after the other,
// each synced (fdatasync) before the next: what the disk allows a receiver
// that answers only once an object is durable, with no network at all.
func syncFloor(b *testing.B, files []string) time.Duration {
	dir := tempDir(b)
	var buf bytes.Buffer
	t0 := time.Now()
	for k, f := range files {
		buf.Reset()
		in, err := os.Open(f)
		if err == nil {
			_, err = buf.ReadFrom(in)
			in.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
		data := buf.Bytes()
		out, err := os.Create(filepath.Join(dir, strconv.Itoa(k)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := out.Write(data); err != nil {
			b.Fatal(err)
		}
		if err := unix.Fdatasync(int(out.Fd())); err != nil {
			b.Fatal(err)
		}
		out.Close()
	}
	return time.Since(t0)
}

// warmCache reads the files once so that no run pays for the disk.
// It reads through one buffer and collects the garbage of the setup, so
// that the in-process contender's measurement does not include garbage
// collection of the harness's own allocations (reading every file into
// a new slice left 500 MB for the collector to mark while Lightbox ran).
func warmCache(b *testing.B, files []string) {
	buf := make([]byte, 1<<20)
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf)
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
}
