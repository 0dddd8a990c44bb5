package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/dimse"
	"lightbox/backend/dimse/dimsetest"
	"lightbox/backend/pdu"
	"lightbox/backend/store"
	"lightbox/backend/ul"
)

const ctImage = "1.2.840.10008.5.1.4.1.1.2"

func ctFile(t testing.TB, n int) (path, uid string, ds []byte) {
	t.Helper()
	path = filepath.Join(dimsetest.Corpus(t), "images", "ct", "ele", fmt.Sprintf("ct_ele_%02d.dcm", n))
	_, ds = readPart10(t, path)
	f, err := dcm.ParseFile(path, dcm.Options{StopBeforePixels: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return path, f.DataSet.UID(dcm.TagSOPInstanceUID), ds
}

func dialSCP(t testing.TB, s *testSCP, contexts ...ul.ProposedContext) (*ul.Association, *dimse.Conn) {
	t.Helper()
	if len(contexts) == 0 {
		contexts = []ul.ProposedContext{{AbstractSyntax: ctImage, TransferSyntaxes: []string{dcm.ExplicitVRLittleEndian}}}
	}
	a, err := ul.Dial(context.Background(), ul.DialConfig{Addr: s.addr, CallingAE: "TESTSCU", CalledAE: "LIGHTBOX", Contexts: contexts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Abort() })
	return a, dimse.NewConn(a, dimse.Options{Timeout: 30 * time.Second})
}

// faultSink makes the n-th object's Write fail with ENOSPC after some bytes.
type faultSink struct {
	st    *store.Store
	n     int
	count int
}

type faultIncoming struct {
	*store.Incoming
	fail    bool
	written int
}

func (f *faultIncoming) Write(p []byte) (int, error) {
	if f.fail && f.written+len(p) > 2000 {
		return 0, fmt.Errorf("%w: %v", store.ErrNoSpace, syscall.ENOSPC)
	}
	f.written += len(p)
	return f.Incoming.Write(p)
}

func (s *faultSink) NewPart10(m dcm.MetaInfo) (Incoming, error) {
	s.count++
	in, err := s.st.NewPart10(m)
	if err != nil {
		return nil, err
	}
	return &faultIncoming{Incoming: in, fail: s.count == s.n}, nil
}

// Statuses of one association: a disk-full, a mismatch and garbage fail
// with their PS3.4 B.2.3 status and leave nothing behind; the
// association lives on and the good objects are stored.
func TestSCPStatuses(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{Fsync: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	s := startSCPOn(t, st, dir, nil, &faultSink{st: st, n: 2})

	_, uid1, ds1 := ctFile(t, 1)
	_, uid2, ds2 := ctFile(t, 2)
	_, uid3, ds3 := ctFile(t, 3)
	_, uid4, ds4 := ctFile(t, 4)
	changed := append([]byte(nil), ds4...)
	changed[len(changed)-1] ^= 0x55 // last pixel byte
	a, c := dialSCP(t, s)
	pc, _ := a.FindContext(ctImage)
	cases := []struct {
		name      string
		uid       string
		class     string
		data      []byte
		want      dimse.Status
		wantStore bool
	}{
		{"stored", uid1, ctImage, ds1, dimse.StatusSuccess, true},
		{"disk full", uid2, ctImage, ds2, dimse.StatusOutOfResources, false},
		{"instance mismatch", uid3 + ".9", ctImage, ds3, dimse.StatusDataSetMismatch, false},
		{"class mismatch", uid3, "1.2.840.10008.5.1.4.1.1.4", ds3, dimse.StatusDataSetMismatch, false},
		{"garbage", "1.2.3.4", ctImage, []byte("\x08\x00\x18\x00UI\xff\xffthis is not DICOM"), dimse.StatusCannotUnderstand, false},
		{"truncated", uid4, ctImage, ds4[:len(ds4)/2], dimse.StatusCannotUnderstand, false},
		{"after failures", uid4, ctImage, ds4, dimse.StatusSuccess, true},
		{"duplicate", uid1, ctImage, ds1, dimse.StatusSuccess, true},
		{"replaced by a different object", uid4, ctImage, changed, dimse.StatusSuccess, true},
	}
	for _, tc := range cases {
		rsp, err := c.Store(context.Background(), pc.ID, dimse.StoreRequest{SOPClassUID: tc.class, SOPInstanceUID: tc.uid}, strings.NewReader(string(tc.data)))
		if err != nil {
			t.Fatalf("%s: transport: %v", tc.name, err)
		}
		if rsp.Status != tc.want {
			t.Errorf("%s: status %s, want %s (%s)", tc.name, rsp.Status, tc.want, rsp.ErrorComment)
		}
		_, err = st.InstanceByUID(context.Background(), strings.TrimSuffix(tc.uid, ".9"))
		if got := err == nil; got != tc.wantStore && tc.name != "instance mismatch" && tc.name != "class mismatch" {
			t.Errorf("%s: indexed %v, want %v", tc.name, got, tc.wantStore)
		}
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p, err := storedFile(t, st, uid4); err != nil {
		t.Error(err)
	} else if _, got := readPart10(t, p); sameBytes(got, changed) != nil {
		t.Error("the newest object with a stored SOP Instance UID did not replace the old one")
	}
	if n := checkConsistent(t, st, s.dir); n != 2 {
		t.Errorf("%d rows, want 2", n)
	}
	var act AssociationActivity
	waitFor(t, 5*time.Second, "association end", func() bool {
		l := s.act.List()
		if len(l) > 0 && l[0].State != "active" {
			act = l[0]
			return true
		}
		return false
	})
	if act.Instances != 4 || act.Failed != 5 || act.CallingAE != "TESTSCU" || len(act.Errors) != 5 {
		t.Errorf("activity %+v", act)
	}
}

// abortReader yields n bytes, waits until the SCP has started writing the
// object into the store, then aborts the association.
type abortReader struct {
	data    []byte
	n       int
	a       *ul.Association
	started <-chan struct{}
	t       *testing.T
}

// watchSink tells when the SCP starts writing an object into the store and
// when it aborts one (the store's temp files may be unnamed, so the tmp
// folder does not show them).
type watchSink struct {
	st               *store.Store
	started, aborted chan struct{}
	onStart, onAbort sync.Once
}

type watchIncoming struct {
	*store.Incoming
	s *watchSink
}

func (s *watchSink) NewPart10(m dcm.MetaInfo) (Incoming, error) {
	in, err := s.st.NewPart10(m) // the File Meta header is in the store now
	if err != nil {
		return nil, err
	}
	s.onStart.Do(func() { close(s.started) })
	return watchIncoming{in, s}, nil
}

func (w watchIncoming) Abort() {
	w.Incoming.Abort()
	w.s.onAbort.Do(func() { close(w.s.aborted) })
}

func (r *abortReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		k := copy(p, r.data[:min(r.n, len(r.data))])
		r.data, r.n = r.data[k:], r.n-k
		return k, nil
	}
	select {
	case <-r.started:
	case <-time.After(5 * time.Second):
		r.t.Error("the SCP never started writing the object")
	}
	r.a.Abort()
	return 0, errTest
}

func TestSCPAbortMidTransfer(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{Fsync: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	sink := &watchSink{st: st, started: make(chan struct{}), aborted: make(chan struct{})}
	s := startSCPOn(t, st, dir, func(p *ul.Policy) { p.MaxPDULength = 4096 }, sink)
	_, uid, ds := ctFile(t, 5)
	a, c := dialSCP(t, s)
	pc, _ := a.FindContext(ctImage)
	_, err = c.Store(context.Background(), pc.ID, dimse.StoreRequest{SOPClassUID: ctImage, SOPInstanceUID: uid},
		&abortReader{data: ds, n: 20000, a: a, started: sink.started, t: t})
	if err == nil {
		t.Fatal("Store succeeded after abort")
	}
	waitFor(t, 5*time.Second, "aborted association", func() bool {
		l := s.act.List()
		return len(l) == 1 && l[0].State == "aborted"
	})
	select {
	case <-sink.aborted:
	case <-time.After(5 * time.Second):
		t.Fatal("the SCP did not abort the object")
	}
	waitFor(t, 5*time.Second, "temp file removed", func() bool {
		e, _ := os.ReadDir(filepath.Join(s.dir, "tmp"))
		return len(e) == 0
	})
	if n := checkConsistent(t, s.st, s.dir); n != 0 {
		t.Errorf("%d rows after an aborted transfer", n)
	}
	l := s.act.List()
	if l[0].Instances != 0 || l[0].Failed != 1 {
		t.Errorf("activity %+v", l[0])
	}
}

func TestSCPUnknownSOPClass(t *testing.T) {
	s := startSCP(t, nil)
	a, c := dialSCP(t, s,
		ul.ProposedContext{AbstractSyntax: "1.2.3.4.5.6.7", TransferSyntaxes: []string{dcm.ExplicitVRLittleEndian}},
		ul.ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{dcm.ExplicitVRLittleEndian}},
		ul.ProposedContext{AbstractSyntax: "1.2.840.10008.5.1.4.1.1.88.11", TransferSyntaxes: []string{dcm.JPEGBaseline}}, // SR: not an image TS
	)
	cs := a.Contexts()
	want := []pdu.ContextResult{pdu.ContextAbstractSyntaxNotSupported, pdu.ContextAccepted, pdu.ContextTransferSyntaxesNotSupported}
	for i, w := range want {
		if cs[i].Result != w {
			t.Errorf("context %d (%s): %s, want %s", cs[i].ID, cs[i].AbstractSyntax, cs[i].Result, w)
		}
	}
	_, uid, ds := ctFile(t, 6)
	rsp, err := c.Store(context.Background(), cs[1].ID, dimse.StoreRequest{SOPClassUID: ctImage, SOPInstanceUID: uid}, strings.NewReader(string(ds)))
	if err != nil || rsp.Status != dimse.StatusSuccess {
		t.Fatalf("store on the accepted context: %v %v", rsp, err)
	}
	if countRows(t, s.st) != 1 {
		t.Error("not stored")
	}
}

func TestPolicies(t *testing.T) {
	pol := Policies(false)
	if len(pol) != 113 || len(SOPClasses()) != 113 {
		t.Fatalf("%d policies for %d classes", len(pol), len(SOPClasses()))
	}
	img, non := 0, 0
	for _, c := range SOPClasses() {
		n := len(pol[c.UID].TransferSyntaxes)
		if c.Image {
			img++
			if n != 13 {
				t.Errorf("%s: %d TS", c.Name, n)
			}
		} else {
			non++
			if n != 3 {
				t.Errorf("%s: %d TS", c.Name, n)
			}
		}
	}
	if img != 55 || non != 58 {
		t.Errorf("%d image, %d non-image classes", img, non)
	}
	// the SOP class table matches the conformance TSV when it is around
	if b, err := os.ReadFile("/work/shared/conformance/storage-sop-classes.tsv"); err == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")[1:]
		for i, l := range lines {
			f := strings.Split(l, "\t")
			c := SOPClasses()[i]
			if c.Name != f[0] || c.UID != f[1] || c.Image != (f[2] == "image") {
				t.Errorf("row %d: %+v vs %q", i, c, l)
			}
		}
	}
	tests := []struct {
		image, prefer bool
		proposed      []string
		want          string
	}{
		{true, false, []string{dcm.JPEGLSLossless, dcm.ExplicitVRLittleEndian}, dcm.JPEGLSLossless},
		{true, true, []string{dcm.JPEGLSLossless, dcm.ExplicitVRLittleEndian}, dcm.ExplicitVRLittleEndian},
		{true, false, []string{dcm.ExplicitVRLittleEndian, dcm.ExplicitVRBigEndian, dcm.ImplicitVRLittleEndian}, dcm.ExplicitVRLittleEndian},
		{false, false, []string{dcm.JPEGBaseline}, ""},
		{false, false, []string{dcm.DeflatedExplicitVRLE, dcm.ImplicitVRLittleEndian}, dcm.DeflatedExplicitVRLE},
		{true, false, []string{dcm.ExplicitVRBigEndian}, dcm.ExplicitVRBigEndian},
		// the sender's order decides: its first choice that we accept
		{true, false, []string{dcm.ExplicitVRLittleEndian, dcm.JPEGLSLossless}, dcm.ExplicitVRLittleEndian},
		{true, false, []string{dcm.ImplicitVRLittleEndian, dcm.ExplicitVRLittleEndian}, dcm.ImplicitVRLittleEndian},
		{true, false, []string{"1.2.3.4.5.6", dcm.JPEG2000Lossless, dcm.RLELossless}, dcm.JPEG2000Lossless},
		{false, false, []string{dcm.JPEGBaseline, dcm.ImplicitVRLittleEndian}, dcm.ImplicitVRLittleEndian},
		// prefer uncompressed: ours
		{true, true, []string{dcm.JPEG2000Lossless, dcm.ImplicitVRLittleEndian, dcm.ExplicitVRLittleEndian}, dcm.ExplicitVRLittleEndian},
		{true, true, []string{dcm.JPEG2000Lossless, dcm.RLELossless}, dcm.JPEG2000Lossless},
	}
	for _, tc := range tests {
		class := "1.2.840.10008.5.1.4.1.1.88.11"
		if tc.image {
			class = ctImage
		}
		p := ul.Policy{AETitle: "A", Syntaxes: Policies(tc.prefer)}
		ac, rj := ul.Negotiate(&p, &pdu.AssociateRQ{CalledAE: "A", ApplicationContext: pdu.ApplicationContextName,
			Contexts: []pdu.PresentationContextRQ{{ID: 1, AbstractSyntax: class, TransferSyntaxes: tc.proposed}}})
		if rj != nil {
			t.Fatal(rj)
		}
		got := ""
		if ac.Contexts[0].Result == pdu.ContextAccepted {
			got = ac.Contexts[0].TransferSyntax
		}
		if got != tc.want {
			t.Errorf("%v prefer=%v %v: chose %q, want %q", tc.image, tc.prefer, tc.proposed, got, tc.want)
		}
	}
}

// The child process of TestKillMidIngest: an SCP on the store in
// LBX_STORAGE_CHILD=dir:port, until killed.
func TestKillChild(t *testing.T) {
	v := os.Getenv("LBX_STORAGE_CHILD")
	if v == "" {
		t.Skip("the child process of TestKillMidIngest: runs only when that test starts it with LBX_STORAGE_CHILD set")
	}
	dir, port, _ := strings.Cut(v, ":")
	st, err := store.Open(dir, store.Options{Fsync: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	mux := dimse.NewMux(dimse.Options{Logger: quietLog()})
	srv := ul.NewServer(ul.Policy{AETitle: "LIGHTBOX", Syntaxes: Register(mux, NewSCP(st, nil, quietLog()), false)}, mux)
	srv.ListenAndServe(context.Background(), "127.0.0.1:"+port)
}

func TestKillMidIngest(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	child := exec.Command(os.Args[0], "-test.run=^TestKillChild$")
	child.Env = append(os.Environ(), "LBX_STORAGE_CHILD="+dir+":"+port)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	dimsetest.WaitPort(t, "127.0.0.1:"+port, 10*time.Second)
	var files []string
	for _, r := range imageRows(t, false) {
		if r["kind"] != "external" && r["ts_key"] != "jpeg-lossless" {
			files = append(files, r["abspath"])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snd := exec.CommandContext(ctx, "dcmsend", append([]string{"-aec", "LIGHTBOX", "-dn", "127.0.0.1", port}, files...)...)
	snd.Env = append(os.Environ(), "TCP_NODELAY=1")
	if err := snd.Start(); err != nil {
		t.Fatal(err)
	}
	objects := filepath.Join(dir, "objects")
	waitFor(t, 30*time.Second, "30 objects", func() bool {
		n := 0
		filepath.Walk(objects, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() && fi.Size() > 0 { // not the empty slots named ahead
				n++
			}
			return nil
		})
		return n > 30 // one may be in flight
	})
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	snd.Wait()
	st, err := store.Open(dir, store.Options{Fsync: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := checkConsistent(t, st, dir)
	if n < 30 || n >= len(files) {
		t.Errorf("%d rows after kill -9 (sent up to %d)", n, len(files))
	}
	t.Logf("%d objects survived kill -9, store consistent", n)
	_ = strconv.Itoa
	_ = io.EOF
	_ = errors.New
}

// Without Activity.Track (the mux handed straight to ul.NewServer), the SCP
// takes the calling AE from dimse.Message.Peer: Source AE is written and
// the activity is counted per calling AE and address. With PeerIsCalled
// (C-GET sub-operations on our own association) the source is the called AE.
func TestSCPWithoutTrack(t *testing.T) {
	for _, tc := range []struct {
		peerIsCalled bool
		source       string
	}{{false, "UNTRACKED"}, {true, "LIGHTBOX"}} {
		dir := t.TempDir()
		st := openStore(t, dir)
		act := NewActivity(nil)
		mux := dimse.NewMux(dimse.Options{Logger: quietLog()})
		scp := NewSCP(st, act, quietLog())
		scp.PeerIsCalled = tc.peerIsCalled
		srv := ul.NewServer(ul.Policy{AETitle: "LIGHTBOX", Syntaxes: Register(mux, scp, false)}, mux)
		port := freePort(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); srv.ListenAndServe(ctx, "127.0.0.1:"+port) }()
		dimsetest.WaitPort(t, "127.0.0.1:"+port, 5*time.Second)
		var files []string
		for i := 1; i <= 3; i++ {
			p, _, _ := ctFile(t, i)
			files = append(files, p)
		}
		if out, err := dimsetest.Run(t, 30*time.Second, "storescu", append([]string{"-aet", "UNTRACKED", "-aec", "LIGHTBOX", "127.0.0.1", port}, files...)...); err != nil {
			t.Fatalf("storescu: %v %s", err, out)
		}
		checkArrived(t, &testSCP{st: st}, files, tc.source, true, nil)
		l := act.List()
		if len(l) != 1 || l[0].CallingAE != "UNTRACKED" || l[0].Host != "127.0.0.1" || l[0].Instances != 3 || l[0].State != "receiving" || l[0].ID == 0 {
			t.Errorf("activity %+v", l)
		}
		cancel()
		<-done
		st.Close()
	}
}
