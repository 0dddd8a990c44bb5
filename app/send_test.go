package app

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lightbox/backend/dimse"
	"lightbox/backend/storage"
	"lightbox/backend/store"
	"lightbox/backend/testcorpus"
	"lightbox/backend/ul"
)

// sendPort returns a free port of the storage range 12200-12299.
func sendPort(t *testing.T) int {
	for p := 12250 + os.Getpid()%40; p < 12300; p++ {
		if ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal("no free port")
	return 0
}

// openOnPort opens an app in a fresh data directory whose DICOM port is
// free (the listener starts with StartDICOM); it shuts down at cleanup.
func openOnPort(t *testing.T) (*App, int) {
	port := sendPort(t)
	a, err := Open(Config{DataDir: t.TempDir(), Mode: "web", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Shutdown(a) })
	return a, port
}

func ctFiles(t *testing.T, n int) []string {
	var out []string
	for _, r := range testcorpus.Manifest(t) {
		if r["kind"] == "ct" && r["ts_key"] == "jpegls-lossless" && len(out) < n {
			out = append(out, r["abspath"])
		}
	}
	return out
}

// The listener stores what storescu pushes (Incoming counts it); a send job
// to a peer that aborts at its 4th C-STORE stops with what is left, and
// RetrySend sends only that.
func TestReceiveThenSendWithRetry(t *testing.T) {
	a, port := openOnPort(t)
	var events atomic.Int64
	SetEmitter(a, EmitterFunc(func(name string, data any) {
		if name == "incoming" {
			events.Add(1)
		}
	}))
	if err := StartDICOM(a); err != nil {
		t.Fatal(err)
	}
	files := ctFiles(t, 10)
	cmd := exec.Command("dcmsend", append([]string{"-aet", "MODALITY", "-aec", "LIGHTBOX", "-dn", "127.0.0.1", strconv.Itoa(port)}, files...)...)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dcmsend: %v\n%s", err, out)
	}
	studies, err := a.ListStudies(storeQuery())
	if err != nil || len(studies) != 1 || studies[0].NumberOfInstances != 10 {
		t.Fatalf("studies %+v %v", studies, err)
	}
	in := a.Incoming()
	total := 0
	for _, x := range in {
		total += x.Instances
	}
	if total != 10 || events.Load() == 0 || in[0].CallingAE != "MODALITY" || in[0].Host != "127.0.0.1" {
		t.Errorf("incoming %+v, %d events", in, events.Load())
	}

	// the peer: our storage SCP that aborts at its 4th C-STORE
	peerDir := t.TempDir()
	var calls atomic.Int64
	peer := peerSCP(t, peerDir, &calls, 4)
	jobID, err := a.SendInstances(SendRequest{AETitle: "PEER", Host: "127.0.0.1", Port: peer, StudyUIDs: []string{studies[0].StudyInstanceUID}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j, err := a.jobs.waitJob(ctx, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != "stopped" || j.Done != 3 || j.Total != 10 || len(j.Errors) != 7 || !strings.Contains(j.Message, "7 left") {
		t.Fatalf("job after abort: %s done %d/%d, %d errors, %q", j.State, j.Done, j.Total, len(j.Errors), j.Message)
	}
	for _, e := range j.Errors {
		if !strings.HasPrefix(e.Reason, "not sent:") {
			t.Errorf("error %+v", e)
		}
	}
	retryID, err := a.RetrySend(jobID)
	if err != nil {
		t.Fatal(err)
	}
	j, err = a.jobs.waitJob(ctx, retryID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != "done" || j.Done != 7 || j.Total != 7 || j.Failed != 0 {
		t.Fatalf("retry: %+v", j)
	}
	if c := calls.Load(); c != 11 {
		t.Errorf("%d C-STOREs reached the peer, want 4+7", c)
	}
	if _, err := a.RetrySend(retryID); err == nil {
		t.Error("a retry of a complete job was accepted")
	}
	if _, err := a.SendInstances(SendRequest{NodeName: "nope", StudyUIDs: []string{"1.2"}}); err == nil {
		t.Error("unknown node accepted")
	}
}

// peerSCP runs a Storage SCP (AE PEER) storing files in dir, aborting the
// association at the abortAt-th C-STORE, and returns its port.
func peerSCP(t *testing.T, dir string, calls *atomic.Int64, abortAt int64) int {
	mux := dimse.NewMux(dimse.Options{})
	type aKey struct{}
	storage.Register(mux, dimse.HandlerFunc(func(ctx context.Context, rw dimse.ResponseWriter, req *dimse.Message) dimse.Response {
		n := calls.Add(1)
		if n == abortAt {
			ctx.Value(aKey{}).(*ul.Association).Abort()
			return dimse.Response{Status: dimse.StatusProcessingFailure}
		}
		f, err := os.Create(filepath.Join(dir, strconv.FormatInt(n, 10)))
		if err != nil {
			return dimse.Response{Status: dimse.StatusProcessingFailure}
		}
		defer f.Close()
		io.Copy(f, req.Data)
		return dimse.Response{Status: dimse.StatusSuccess}
	}), false)
	srv := ul.NewServer(ul.Policy{AETitle: "PEER", Syntaxes: storage.Policies(false)}, ul.HandlerFunc(func(ctx context.Context, as *ul.Association) {
		mux.ServeAssociation(context.WithValue(ctx, aKey{}, as), as)
	}))
	port := sendPort(t)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return port
}

func storeQuery() store.StudyQuery { return store.StudyQuery{} }
