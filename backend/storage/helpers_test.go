package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/dimse"
	"lightbox/backend/dimse/dimsetest"
	"lightbox/backend/store"
	"lightbox/backend/testcorpus"
	"lightbox/backend/ul"
)

var portMu sync.Mutex
var nextPort = 12200 + os.Getpid()%40

// freePort returns a port of our range 12200-12299 that nobody listens on.
func freePort(t testing.TB) string {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for i := 0; i < 100; i++ {
		p := nextPort
		nextPort++
		if nextPort > 12299 {
			nextPort = 12200
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			ln.Close()
			return strconv.Itoa(p)
		}
	}
	t.Fatal("no free port in 12200-12299")
	return ""
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type testSCP struct {
	addr, port string
	st         *store.Store
	act        *Activity
	srv        *ul.Server
	dir        string
	stop       func()
}

// startSCP runs our Storage SCP (AE LIGHTBOX) on a fresh store; mod may
// change the policy.
func startSCP(t testing.TB, mod func(*ul.Policy)) *testSCP {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{Fsync: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	return startSCPOn(t, st, dir, mod, nil)
}

// startSCPOn serves st; sink (optional) replaces the store as the SCP's sink.
func startSCPOn(t testing.TB, st *store.Store, dir string, mod func(*ul.Policy), sink Sink) *testSCP {
	act := NewActivity(nil)
	mux := dimse.NewMux(dimse.Options{Logger: quietLog()})
	scp := NewSCP(st, act, quietLog())
	if sink != nil {
		scp.Sink = sink
	}
	pol := ul.Policy{AETitle: "LIGHTBOX", Syntaxes: Register(mux, scp, false), MaxAssociations: 16}
	if mod != nil {
		mod(&pol)
	}
	srv := ul.NewServer(pol, act.Track(mux), ul.WithLogger(quietLog()))
	port := freePort(t)
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln) }()
	s := &testSCP{addr: "127.0.0.1:" + port, port: port, st: st, act: act, srv: srv, dir: dir}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			st.Close()
		})
	}
	t.Cleanup(s.stop)
	return s
}

// imageRows returns the corpus rows of images that decode (expect ok),
// optionally only the first file of each (kind, TS) series.
func imageRows(t testing.TB, firstOnly bool) []testcorpus.Row {
	var out []testcorpus.Row
	seen := map[string]bool{}
	for _, r := range testcorpus.Manifest(t) {
		if r["expect"] != "ok" || r["kind"] == "charset" || r["kind"] == "malformed" || r["ts_uid"] == "" {
			continue
		}
		k := r["kind"] + "/" + r["ts_key"]
		if firstOnly && r["kind"] != "external" && seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	return out
}

func readPart10(t testing.TB, path string) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return dimsetest.Part10(t, b)
}

// storedFile returns the path of the stored object with that SOP UID.
func storedFile(t testing.TB, st *store.Store, uid string) (string, error) {
	inst, err := st.InstanceByUID(context.Background(), uid)
	if err != nil {
		return "", err
	}
	return st.ObjectPath(inst), nil
}

// countRows counts instance rows of the store.
func countRows(t testing.TB, st *store.Store) int {
	var n int64
	if err := st.DB().Model(&store.Instance{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// checkConsistent: every row has its file, every file has its row, no temp file.
func checkConsistent(t testing.TB, st *store.Store, dir string) int {
	t.Helper()
	var rows []store.Instance
	if err := st.DB().Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	paths := map[string]bool{}
	for _, r := range rows {
		p := st.ObjectPath(&r)
		paths[p] = true
		f, err := dcm.ParseFile(p, dcm.Options{})
		if err != nil {
			t.Errorf("row %s: file %s: %v", r.SOPInstanceUID, p, err)
			continue
		}
		f.Close()
	}
	filepath.Walk(filepath.Join(dir, "objects"), func(p string, fi os.FileInfo, err error) error {
		// An empty file is a slot the store named ahead of need; an object,
		// even half received, has at least its File Meta header.
		if err == nil && !fi.IsDir() && !paths[p] && fi.Size() > 0 {
			t.Errorf("file without row: %s", p)
		}
		return nil
	})
	tmp, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if len(tmp) != 0 {
		t.Errorf("%d temp files left", len(tmp))
	}
	return len(rows)
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func sameBytes(a, b []byte) error {
	if bytes.Equal(a, b) {
		return nil
	}
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return fmt.Errorf("differ at byte %d of %d/%d", i, len(a), len(b))
		}
	}
	return fmt.Errorf("lengths %d and %d", len(a), len(b))
}

var errTest = errors.New("test")

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(dir, store.Options{Fsync: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func dimsetestCorpus(t testing.TB) string { return dimsetest.Corpus(t) }
