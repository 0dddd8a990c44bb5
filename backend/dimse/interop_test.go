package dimse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/backend/dimse/dimsetest"
	"lightbox/backend/ul"
)

// Ports reserved for these tests: 12120-12129.
const (
	portOrthanc     = "12120"
	portOrthancHTTP = "12121"
	portOurSCP      = "12122"
	portStorescp    = "12123"
)

// implicit encodes a flat data set in Implicit VR Little Endian.
func implicit(elems ...any) []byte {
	var b []byte
	for i := 0; i+1 < len(elems); i += 2 {
		tag := elems[i].(uint32)
		v := []byte(elems[i+1].(string))
		if len(v)%2 == 1 {
			v = append(v, ' ')
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(tag>>16))
		b = binary.LittleEndian.AppendUint16(b, uint16(tag))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return b
}

// implicitValue finds a top-level element with a defined length.
func implicitValue(b []byte, tag uint32) (string, bool) {
	for len(b) >= 8 {
		t := uint32(binary.LittleEndian.Uint16(b))<<16 | uint32(binary.LittleEndian.Uint16(b[2:]))
		n := binary.LittleEndian.Uint32(b[4:])
		if n == 0xFFFFFFFF || int(n) > len(b)-8 {
			return "", false
		}
		if t == tag {
			return strings.TrimRight(string(b[8:8+n]), " \x00"), true
		}
		b = b[8+n:]
	}
	return "", false
}

// storeSCP is the storage handler the next developer will write for real:
// the data set streams into a temp file, which is fsynced before the status.
type storeSCP struct {
	dir  string
	mu   sync.Mutex
	got  map[string][32]byte // SOP instance UID -> sha256 of the data set
	ts   map[string]string
	seen int
}

func newStoreSCP(t *testing.T) *storeSCP {
	return &storeSCP{dir: t.TempDir(), got: map[string][32]byte{}, ts: map[string]string{}}
}

func (s *storeSCP) ServeDIMSE(ctx context.Context, rw ResponseWriter, req *Message) Response {
	f, err := os.CreateTemp(s.dir, "rx-*")
	if err != nil {
		return Response{Status: StatusOutOfResources}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := req.Data.WriteTo(io.MultiWriter(f, h)); err != nil {
		return Response{Status: StatusProcessingFailure}
	}
	if err := f.Sync(); err != nil {
		return Response{Status: StatusOutOfResources}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	s.mu.Lock()
	s.got[req.Command.AffectedSOPInstanceUID] = sum
	s.ts[req.Command.AffectedSOPInstanceUID] = req.Context.TransferSyntax
	s.seen++
	s.mu.Unlock()
	return Response{Status: StatusSuccess}
}

type corpusFile struct {
	path, sopUID string
	ts           string
	sum          [32]byte
	data         []byte
}

// ctFiles: four Explicit VR LE CT images of one study from the corpus.
func ctFiles(t *testing.T) []corpusFile {
	dir := dimsetest.Corpus(t)
	var out []corpusFile
	for i := 1; i <= 4; i++ {
		p := filepath.Join(dir, "images", "ct", "ele", fmt.Sprintf("ct_ele_%02d.dcm", i))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ts, ds := dimsetest.Part10(t, b)
		uid, ok := explicitValue(ds, 0x00080018)
		if !ok {
			t.Fatalf("%s: no SOP instance UID", p)
		}
		out = append(out, corpusFile{path: p, sopUID: uid, ts: ts, sum: sha256.Sum256(ds), data: ds})
	}
	return out
}

// explicitValue finds a short top-level element in Explicit VR LE.
func explicitValue(b []byte, tag uint32) (string, bool) {
	for len(b) >= 8 {
		t := uint32(binary.LittleEndian.Uint16(b))<<16 | uint32(binary.LittleEndian.Uint16(b[2:]))
		vr := string(b[4:6])
		var n, hdr int
		switch vr {
		case "OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "OV", "UC", "UR":
			n, hdr = int(binary.LittleEndian.Uint32(b[8:])), 12
		default:
			n, hdr = int(binary.LittleEndian.Uint16(b[6:])), 8
		}
		if n < 0 || hdr+n > len(b) {
			return "", false
		}
		if t == tag {
			return strings.TrimRight(string(b[hdr:hdr+n]), " \x00"), true
		}
		b = b[hdr+n:]
	}
	return "", false
}

func storagePolicy(aet string) ul.Policy {
	return ul.Policy{AETitle: aet, Syntaxes: map[string]ul.SyntaxPolicy{
		ctImage: {TransferSyntaxes: []string{explLE, implLE}},
	}}
}

func TestInteropOrthancQueryRetrieve(t *testing.T) {
	files := ctFiles(t)
	dimsetest.Orthanc(t, "ORTHANC", portOrthanc, portOrthancHTTP, map[string]dimsetest.Modality{"lbx": {AET: "LBXSCP", Port: portOurSCP}})
	var paths []string
	for _, f := range files {
		paths = append(paths, f.path)
	}
	dimsetest.OrthancUpload(t, portOrthancHTTP, paths...)

	// our storage SCP, the C-MOVE destination
	scp := newStoreSCP(t)
	mux := NewMux(Options{})
	mux.Handle(ctImage, scp)
	ln, err := net.Listen("tcp", "127.0.0.1:"+portOurSCP)
	if err != nil {
		t.Fatal(err)
	}
	srv := ul.NewServer(storagePolicy("LBXSCP"), mux)
	sctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { srv.Serve(sctx, ln); close(served) }()
	defer func() { stop(); <-served; srv.Close() }()

	ctx := context.Background()
	a, err := ul.Dial(ctx, ul.DialConfig{Addr: "127.0.0.1:" + portOrthanc, CallingAE: "LBXSCP", CalledAE: "ORTHANC",
		Contexts: []ul.ProposedContext{
			{AbstractSyntax: findRoot, TransferSyntaxes: []string{implLE}},
			{AbstractSyntax: moveRoot, TransferSyntaxes: []string{implLE}},
			{AbstractSyntax: getRoot, TransferSyntaxes: []string{implLE}},
			{AbstractSyntax: ctImage, TransferSyntaxes: []string{explLE, implLE}, SCP: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c := NewConn(a, Options{Timeout: 20 * time.Second})
	find, _ := a.FindContext(findRoot)
	move, _ := a.FindContext(moveRoot)
	get, _ := a.FindContext(getRoot)
	if st, ok := a.FindContext(ctImage); !ok || !st.SCP {
		t.Fatalf("Orthanc did not grant the SCP role for CT storage: %+v", a.Contexts())
	}

	// C-FIND, image level: one pending response per instance, streamed
	studyUID, _ := explicitValue(files[0].data, 0x0020000D)
	query := implicit(uint32(0x00080018), "", uint32(0x00080052), "IMAGE", uint32(0x0020000D), studyUID, uint32(0x0020000E), "")
	var found []string
	rsp, err := c.Find(ctx, find.ID, findRoot, bytes.NewReader(query), func(ctx context.Context, m *Message) error {
		b, err := io.ReadAll(m.Data)
		if err != nil {
			return err
		}
		uid, ok := implicitValue(b, 0x00080018)
		if !ok {
			return errors.New("match without SOP instance UID")
		}
		found = append(found, uid)
		return nil
	}, nil)
	if err != nil || rsp.Status != StatusSuccess {
		t.Fatalf("C-FIND: %v %v", rsp, err)
	}
	var want []string
	for _, f := range files {
		want = append(want, f.sopUID)
	}
	sort.Strings(found)
	sort.Strings(want)
	if fmt.Sprint(found) != fmt.Sprint(want) {
		t.Fatalf("C-FIND found %v, want %v", found, want)
	}

	// C-MOVE to our SCP: pending counts, then the objects arrive byte-exact
	studyQuery := implicit(uint32(0x00080052), "STUDY", uint32(0x0020000D), studyUID)
	var pending int
	rsp, err = c.Move(ctx, move.ID, moveRoot, "LBXSCP", bytes.NewReader(studyQuery), func(*Command) { pending++ }, nil)
	if err != nil || rsp.Status != StatusSuccess || rsp.Completed.Value != 4 || rsp.Failed.Value != 0 {
		t.Fatalf("C-MOVE: %+v %v", rsp, err)
	}
	scp.mu.Lock()
	for _, f := range files {
		if scp.got[f.sopUID] != f.sum {
			got := scp.got[f.sopUID]
			t.Errorf("C-MOVE: %s received %x, want the file's data set %x (TS %s)", f.sopUID, got[:4], f.sum[:4], scp.ts[f.sopUID])
		}
	}
	scp.got = map[string][32]byte{}
	scp.mu.Unlock()
	t.Logf("C-MOVE: %d pending responses", pending)

	rsp, err = c.Move(ctx, move.ID, moveRoot, "UNKNOWNAE", bytes.NewReader(studyQuery), nil, nil)
	if err != nil || rsp.Status.Class() != ClassFailure {
		t.Fatalf("C-MOVE to an unknown AE: %+v %v", rsp, err)
	}
	t.Logf("C-MOVE to an unknown destination: %s", rsp.Status)

	// C-GET: the C-STORE sub-operations come back on this association
	getSCP := newStoreSCP(t)
	rsp, err = c.Get(ctx, get.ID, getRoot, bytes.NewReader(studyQuery), nil, getSCP, nil)
	if err != nil || rsp.Status != StatusSuccess || rsp.Completed.Value != 4 {
		t.Fatalf("C-GET: %+v %v", rsp, err)
	}
	for _, f := range files {
		if getSCP.got[f.sopUID] != f.sum {
			t.Errorf("C-GET: %s not received intact", f.sopUID)
		}
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestInteropStorage(t *testing.T) {
	files := ctFiles(t)
	// DCMTK storescu -> our SCP
	scp := newStoreSCP(t)
	mux := NewMux(Options{})
	mux.Handle(ctImage, scp)
	addr := serve(t, storagePolicy("LBXSCP"), mux)
	h, p, _ := net.SplitHostPort(addr)
	args := []string{"-aet", "STORESCU", "-aec", "LBXSCP", "--max-pdu", "4096", h, p}
	for _, f := range files {
		args = append(args, f.path)
	}
	if out, err := dimsetest.Run(t, 30*time.Second, "storescu", args...); err != nil {
		t.Fatalf("storescu: %v\n%s", err, out)
	}
	for _, f := range files {
		if scp.got[f.sopUID] != f.sum {
			t.Errorf("storescu -> us: %s not received intact", f.sopUID)
		}
	}

	// our Store -> DCMTK storescp, four objects over one association
	dir := dimsetest.Storescp(t, "STORESCP", portStorescp)
	a, err := ul.Dial(context.Background(), ul.DialConfig{Addr: "127.0.0.1:" + portStorescp, CallingAE: "LIGHTBOX", CalledAE: "STORESCP",
		Contexts: []ul.ProposedContext{{AbstractSyntax: ctImage, TransferSyntaxes: []string{explLE}}, {AbstractSyntax: ctImage, TransferSyntaxes: []string{implLE}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn(a, Options{Timeout: 20 * time.Second})
	pc, ok := a.FindContext(ctImage, files[0].ts)
	if !ok {
		t.Fatalf("no context with %s: %+v", files[0].ts, a.Contexts())
	}
	for _, f := range files {
		rsp, err := c.Store(context.Background(), pc.ID, StoreRequest{SOPClassUID: ctImage, SOPInstanceUID: f.sopUID}, bytes.NewReader(f.data))
		if err != nil || rsp.Status != StatusSuccess {
			t.Fatalf("store %s: %v %v", f.sopUID, rsp, err)
		}
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, "CT."+f.sopUID))
		if err != nil {
			t.Fatal(err)
		}
		if _, ds := dimsetest.Part10(t, b); sha256.Sum256(ds) != f.sum {
			t.Errorf("storescp wrote a different data set for %s", f.sopUID)
		}
	}
}
