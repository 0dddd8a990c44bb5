package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lightbox/backend/ul"
)

// Ports of the network benchmarks (P-DATA and retrieve): 18640-18669.
const (
	netOrthancHTTP  = 18640
	netOrthancDICOM = 18641
	netMoveSCPPort  = 18642 // Lightbox's C-MOVE destination (Orthanc's "viewer")
	netStorescpPort = 18643 // DCMTK storescp, the movescu destination
	netPDataPort    = 18650 // 18650.. one per P-DATA contender
)

// selfCPU is this process's user+system CPU time. Both ends of the P-DATA
// benchmark and the Lightbox side of a retrieve run in this process; on a
// shared machine CPU seconds swing far less with the load than wall time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serveUL runs an upper-layer server for h on 127.0.0.1:port until stop is
// called or the benchmark ends (stop aborts every association and waits
// for the handlers; it may be called more than once).
func serveUL(b *testing.B, port int, pol ul.Policy, h ul.Handler) (addr string, stop func()) {
	b.Helper()
	addr = "127.0.0.1:" + strconv.Itoa(port)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	srv := ul.NewServer(pol, h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done; srv.Close() }) }
	b.Cleanup(stop)
	return addr, stop
}

// get decodes the JSON answer of GET path into v.
func (o *orthanc) get(b *testing.B, path string, v any) {
	b.Helper()
	rsp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", o.http, path))
	if err != nil {
		b.Fatal(err)
	}
	defer rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		b.Fatalf("Orthanc GET %s: HTTP %d", path, rsp.StatusCode)
	}
	if err := json.NewDecoder(rsp.Body).Decode(v); err != nil {
		b.Fatalf("Orthanc GET %s: %v", path, err)
	}
}

// instances is Orthanc's instance count.
func (o *orthanc) instances(b *testing.B) int {
	var stats struct{ CountInstances int }
	o.get(b, "/statistics", &stats)
	return stats.CountInstances
}

// cpu is Orthanc's user+system CPU time so far (from /proc).
func (o *orthanc) cpu(b *testing.B) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", o.pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the parenthesised command name: state is field 3,
	// utime and stime are fields 14 and 15, in clock ticks (100 Hz).
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", o.pid, raw)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// addModality declares a C-MOVE destination through the REST API.
func (o *orthanc) addModality(b *testing.B, name, aet string, port int) {
	b.Helper()
	body := fmt.Sprintf(`{"AET": %q, "Host": "127.0.0.1", "Port": %d}`, aet, port)
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("http://127.0.0.1:%d/modalities/%s", o.http, name), bytes.NewReader([]byte(body)))
	rsp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	rsp.Body.Close()
	if rsp.StatusCode != http.StatusOK {
		b.Fatalf("Orthanc PUT /modalities/%s: HTTP %d", name, rsp.StatusCode)
	}
}

// load POSTs files to /instances with `parallel` uploaders and checks that
// Orthanc then holds exactly len(files) instances.
func (o *orthanc) load(b *testing.B, files []string, parallel int) {
	b.Helper()
	work := make(chan string)
	errs := make(chan error, len(files))
	var wg sync.WaitGroup
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				data, err := os.ReadFile(f)
				if err != nil {
					errs <- err
					continue
				}
				rsp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/instances", o.http), "application/dicom", bytes.NewReader(data))
				if err != nil {
					errs <- err
					continue
				}
				rsp.Body.Close()
				if rsp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("%s: HTTP %d", f, rsp.StatusCode)
				}
			}
		}()
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("Orthanc upload: %v", err)
	}
	if n := o.instances(b); n != len(files) {
		b.Fatalf("Orthanc holds %d instances, want %d", n, len(files))
	}
}
