package dimse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/backend/pdu"
	"lightbox/backend/ul"
)

// fakeAssoc records PDVs and replays queued P-DATA.
type fakeAssoc struct {
	max    int
	sent   []pdu.PDV
	in     []*ul.PData
	abort  bool
	accept ul.Context
	delay  time.Duration // before each Receive
	stall  bool          // Receive blocks when nothing is queued
}

func (f *fakeAssoc) SendPDVs(_ context.Context, pdvs ...pdu.PDV) error {
	for _, v := range pdvs {
		f.sent = append(f.sent, pdu.PDV{ContextID: v.ContextID, Flags: v.Flags, Data: append([]byte(nil), v.Data...)})
	}
	return nil
}
func (f *fakeAssoc) Receive(ctx context.Context) (*ul.PData, error) {
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if len(f.in) == 0 {
		if f.stall {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, ul.ErrPeerReleased
	}
	p := f.in[0]
	f.in = f.in[1:]
	return p, nil
}
func (f *fakeAssoc) MaxPDVData() int { return f.max }
func (f *fakeAssoc) ContextByID(id uint8) (ul.Context, bool) {
	c := f.accept
	c.ID = id
	return c, f.accept.Accepted() && id == 1
}
func (f *fakeAssoc) Abort() { f.abort = true }

// framedFake is a fakeAssoc that also takes P-DATA-TF PDUs framed in place
// (as *ul.Association does); it decodes them as a peer would.
type framedFake struct {
	*fakeAssoc
	writes int
}

func (f *framedFake) SendPData(_ context.Context, b []byte) error {
	f.writes++
	for len(b) > 0 {
		if len(b) < pdu.HeaderLen {
			return fmt.Errorf("%d trailing bytes", len(b))
		}
		n := pdu.HeaderLen + int(uint32(b[2])<<24|uint32(b[3])<<16|uint32(b[4])<<8|uint32(b[5]))
		if n > len(b) || n > f.max+pdu.PDVHeaderLen+pdu.HeaderLen {
			return fmt.Errorf("PDU of %d bytes (%d left, max PDV %d)", n, len(b), f.max)
		}
		p, err := pdu.Decode(b[:n])
		if err != nil {
			return err
		}
		f.SendPDVs(context.Background(), p.(*pdu.PDataTF).Values...)
		b = b[n:]
	}
	return nil
}

func TestFragmentation(t *testing.T) {
	const maxPDV = 100
	// data bytes of one batch: a data set ending exactly there ends with a
	// full batch and an empty one
	const perBatch = maxPDV * (batchBytes / (maxPDV + pdataHeaderLen))
	sizes := []int{-1, 0, 1, maxPDV - 1, maxPDV, maxPDV + 1, 3 * maxPDV, 3*maxPDV + 7, batchBytes, 2*batchBytes + 7,
		perBatch - 1, perBatch, perBatch + 1, 2 * perBatch}
	for _, framed := range []bool{false, true} {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("framed=%v/%d", framed, size), func(t *testing.T) {
				testFragmentation(t, maxPDV, size, framed)
			})
		}
	}
}

func testFragmentation(t *testing.T, maxPDV, size int, framed bool) {
	f := &fakeAssoc{max: maxPDV}
	var a Association = f
	ff := &framedFake{fakeAssoc: f}
	if framed {
		a = ff
	}
	c := NewConn(a, Options{})
	cmd := &Command{Field: CStoreRQ, MessageID: 1, AffectedSOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
		AffectedSOPInstanceUID: "1.2.826.0.1.3680043.2.1125.1.12345678901234567890"}
	var data io.Reader
	payload := make([]byte, max(size, 0))
	rand.Read(payload)
	if size >= 0 {
		data = bytes.NewReader(payload)
	}
	if err := c.WriteMessage(context.Background(), 1, cmd, data); err != nil {
		t.Fatal(err)
	}
	var cmdBytes, dataBytes []byte
	sawLastCmd, sawLastData := false, false
	for i, v := range f.sent {
		if len(v.Data) > maxPDV {
			t.Fatalf("PDV %d carries %d bytes > %d", i, len(v.Data), maxPDV)
		}
		if v.Command() {
			if sawLastCmd || len(dataBytes) > 0 {
				t.Fatalf("command fragment %d after the last command / data", i)
			}
			cmdBytes = append(cmdBytes, v.Data...)
			sawLastCmd = v.Last()
		} else {
			if !sawLastCmd || sawLastData {
				t.Fatalf("data fragment %d out of order", i)
			}
			dataBytes = append(dataBytes, v.Data...)
			sawLastData = v.Last()
			if !v.Last() && len(v.Data) != maxPDV {
				t.Fatalf("non-last data fragment of %d bytes (want full %d)", len(v.Data), maxPDV)
			}
		}
	}
	if !sawLastCmd || (size >= 0) != sawLastData {
		t.Fatalf("last flags: command %v data %v", sawLastCmd, sawLastData)
	}
	got, err := DecodeCommand(cmdBytes)
	if err != nil || got.HasDataSet != (size >= 0) || got.AffectedSOPInstanceUID != cmd.AffectedSOPInstanceUID {
		t.Fatalf("command %+v %v", got, err)
	}
	if !bytes.Equal(dataBytes, payload) {
		t.Fatalf("data differs (%d vs %d bytes)", len(dataBytes), len(payload))
	}
	// feed what we sent back in, as the peer would, and read it
	in := &fakeAssoc{max: maxPDV, accept: ul.Context{Result: pdu.ContextAccepted, AbstractSyntax: cmd.AffectedSOPClassUID}}
	for _, v := range f.sent {
		in.in = append(in.in, &ul.PData{Values: []pdu.PDV{v}})
	}
	rc := NewConn(in, Options{})
	m, err := rc.ReadMessage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if (m.Data != nil) != (size >= 0) {
		t.Fatal("data presence")
	}
	if m.Data != nil {
		var buf bytes.Buffer
		if _, err := m.Data.WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), payload) {
			t.Fatalf("read back %d bytes: %v", buf.Len(), err)
		}
	}
	// framed: one write per batch of data (the command goes by SendPDVs)
	if want := (max(size, 0) + perBatchOf(maxPDV) - 1) / perBatchOf(maxPDV); framed && size > 0 && ff.writes != want {
		t.Fatalf("%d writes for %d bytes, want %d", ff.writes, size, want)
	}
}

// perBatchOf is how many data bytes one batch carries with PDVs of at most
// maxPDV bytes.
func perBatchOf(maxPDV int) int { return maxPDV * (batchBytes / (maxPDV + pdataHeaderLen)) }

func TestReadProtocolErrors(t *testing.T) {
	cmd, _ := (&Command{Field: CEchoRQ, MessageID: 1}).Encode()
	accepted := ul.Context{Result: pdu.ContextAccepted}
	cases := []struct {
		name string
		in   []pdu.PDV
		want error
	}{
		{"data before command", []pdu.PDV{{ContextID: 1, Flags: pdu.FlagLast, Data: []byte{1}}}, ErrProtocol},
		{"command on two contexts", []pdu.PDV{{ContextID: 1, Flags: pdu.FlagCommand, Data: cmd[:4]}, {ContextID: 3, Flags: 3, Data: cmd[4:]}}, ErrProtocol},
		{"context not accepted", []pdu.PDV{{ContextID: 5, Flags: 3, Data: cmd}}, ErrProtocol},
		{"garbage command", []pdu.PDV{{ContextID: 1, Flags: 3, Data: []byte{1, 2, 3}}}, ErrBadCommand},
		{"endless command", func() []pdu.PDV {
			var v []pdu.PDV
			for i := 0; i < MaxCommandLength/1000+2; i++ {
				v = append(v, pdu.PDV{ContextID: 1, Flags: pdu.FlagCommand, Data: make([]byte, 1000)})
			}
			return v
		}(), ErrCommandTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAssoc{max: 100, accept: accepted}
			for _, v := range tc.in {
				f.in = append(f.in, &ul.PData{Values: []pdu.PDV{v}})
			}
			_, err := NewConn(f, Options{}).ReadMessage(context.Background())
			if !errors.Is(err, tc.want) || !f.abort {
				t.Fatalf("got %v (aborted %v), want %v", err, f.abort, tc.want)
			}
		})
	}
	// a command fragment inside a data set
	store, _ := (&Command{Field: CStoreRQ, MessageID: 1, HasDataSet: true}).Encode()
	f := &fakeAssoc{max: 100, accept: accepted, in: []*ul.PData{
		{Values: []pdu.PDV{{ContextID: 1, Flags: 3, Data: store}, {ContextID: 1, Flags: 0, Data: []byte{1, 2}}}},
		{Values: []pdu.PDV{{ContextID: 1, Flags: 3, Data: store}}},
	}}
	m, err := NewConn(f, Options{}).ReadMessage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(m.Data); !errors.Is(err, ErrProtocol) {
		t.Fatalf("command inside data set: %v", err)
	}
}

// ---- over real associations on loopback ----

const (
	ctImage  = "1.2.840.10008.5.1.4.1.1.2"
	findRoot = "1.2.840.10008.5.1.4.1.2.2.1"
	moveRoot = "1.2.840.10008.5.1.4.1.2.2.2"
	getRoot  = "1.2.840.10008.5.1.4.1.2.2.3"
	implLE   = "1.2.840.10008.1.2"
	explLE   = "1.2.840.10008.1.2.1"
)

func serve(t testing.TB, pol ul.Policy, h ul.Handler) string {
	t.Helper()
	srv := ul.NewServer(pol, h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return ln.Addr().String()
}

func policy(maxPDU uint32, syntaxes ...string) ul.Policy {
	p := ul.Policy{AETitle: "LIGHTBOX", MaxPDULength: maxPDU, Syntaxes: map[string]ul.SyntaxPolicy{}}
	for _, s := range syntaxes {
		p.Syntaxes[s] = ul.SyntaxPolicy{TransferSyntaxes: []string{explLE, implLE}, AllowRequestorSCP: true}
	}
	return p
}

func dial(t *testing.T, addr string, maxPDU uint32, ctxs ...ul.ProposedContext) (*ul.Association, *Conn) {
	t.Helper()
	a, err := ul.Dial(context.Background(), ul.DialConfig{Addr: addr, CallingAE: "SCU", CalledAE: "LIGHTBOX", Contexts: ctxs, MaxPDULength: maxPDU})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, NewConn(a, Options{Timeout: 10 * time.Second})
}

type storeRecord struct {
	sum  [32]byte
	n    int64
	inst string
}

func TestStoreStreamsBothWays(t *testing.T) {
	var mu sync.Mutex
	var got []storeRecord
	mux := NewMux(Options{})
	mux.HandleFunc(ctImage, func(ctx context.Context, rw ResponseWriter, req *Message) Response {
		h := sha256.New()
		n, err := io.Copy(h, req.Data) // streams: the handler decides where bytes go
		if err != nil {
			return Response{Status: StatusProcessingFailure}
		}
		if req.Peer.CallingAE != "SCU" || req.Peer.CalledAE != "LIGHTBOX" || !strings.HasPrefix(req.Peer.Addr, "127.0.0.1:") {
			return Response{Status: StatusNotAuthorized, ErrorComment: fmt.Sprint(req.Peer)}
		}
		var r storeRecord
		copy(r.sum[:], h.Sum(nil))
		r.n, r.inst = n, req.Command.AffectedSOPInstanceUID
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		if req.Context.TransferSyntax != explLE {
			return Response{Status: StatusDataSetMismatch}
		}
		return Response{Status: StatusSuccess}
	})
	for _, maxPDU := range []uint32{4096, 16384, 1 << 20, ul.NoPDULimit} {
		t.Run(fmt.Sprint(maxPDU), func(t *testing.T) {
			got = nil
			addr := serve(t, policy(maxPDU, ctImage), mux)
			a, c := dial(t, addr, 0, ul.ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{implLE, explLE}})
			pc, ok := a.FindContext(ctImage, explLE)
			if !ok {
				t.Fatal("no explicit LE context")
			}
			var want []storeRecord
			for i, size := range []int{0, 1, 5000, 3 << 20} {
				payload := make([]byte, size)
				rand.Read(payload)
				inst := fmt.Sprintf("1.2.3.%d", i)
				rsp, err := c.Store(context.Background(), pc.ID, StoreRequest{SOPClassUID: ctImage, SOPInstanceUID: inst}, bytes.NewReader(payload))
				if err != nil {
					t.Fatal(err)
				}
				if rsp.Status != StatusSuccess || rsp.AffectedSOPInstanceUID != inst || rsp.MessageIDBeingRespondedTo == 0 {
					t.Fatalf("response %+v", rsp)
				}
				want = append(want, storeRecord{sha256.Sum256(payload), int64(size), inst})
			}
			if err := a.Release(context.Background()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("server received %v\nwant %v", got, want)
			}
		})
	}
}

func TestFailureStatusIsNotAnError(t *testing.T) {
	mux := NewMux(Options{})
	mux.HandleFunc(ctImage, func(ctx context.Context, rw ResponseWriter, req *Message) Response {
		if req.Command.AffectedSOPInstanceUID == "panic" {
			panic("handler bug")
		}
		// leave the data unread: the mux must discard it
		return Response{Status: StatusOutOfResources, ErrorComment: "disk full"}
	})
	addr := serve(t, policy(0, ctImage), mux)
	a, c := dial(t, addr, 0, ul.ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{explLE}})
	pc, _ := a.FindContext(ctImage)
	for _, tc := range []struct {
		inst string
		want Status
	}{{"1.2.3", StatusOutOfResources}, {"panic", StatusProcessingFailure}, {"1.2.4", StatusOutOfResources}} {
		rsp, err := c.Store(context.Background(), pc.ID, StoreRequest{SOPClassUID: ctImage, SOPInstanceUID: tc.inst}, bytes.NewReader(make([]byte, 200000)))
		if err != nil {
			t.Fatalf("%s: a failure status must not be an error: %v", tc.inst, err)
		}
		if rsp.Status != tc.want || rsp.Status.Class() != ClassFailure {
			t.Fatalf("%s: status %v", tc.inst, rsp.Status)
		}
	}
	// an echo on a context nobody registered still works (Verification is always answered)
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestFindPendingAndCancel(t *testing.T) {
	mux := NewMux(Options{})
	cancelled := make(chan bool, 1)
	mux.HandleFunc(findRoot, func(ctx context.Context, rw ResponseWriter, req *Message) Response {
		ident, _ := io.ReadAll(req.Data)
		for i := 0; i < 50; i++ {
			select {
			case <-ctx.Done():
				cancelled <- true
				return Response{Status: StatusCancel}
			default:
			}
			if err := rw.Pending(ctx, Response{Status: StatusPending, Data: bytes.NewReader(append(ident, byte(i)))}); err != nil {
				return Response{Status: StatusProcessingFailure}
			}
			if bytes.HasPrefix(ident, []byte("slow")) {
				time.Sleep(20 * time.Millisecond)
			}
		}
		cancelled <- false
		return Response{Status: StatusSuccess}
	})
	addr := serve(t, policy(0, findRoot), mux)
	a, c := dial(t, addr, 0, ul.ProposedContext{AbstractSyntax: findRoot, TransferSyntaxes: []string{implLE}})
	pc, _ := a.FindContext(findRoot)

	var matches [][]byte
	rsp, err := c.Find(context.Background(), pc.ID, findRoot, bytes.NewReader([]byte("query")), func(ctx context.Context, m *Message) error {
		b, err := io.ReadAll(m.Data)
		matches = append(matches, b)
		return err
	}, nil)
	if err != nil || rsp.Status != StatusSuccess || len(matches) != 50 || string(matches[49]) != "query\x31" {
		t.Fatalf("find: %v %v %d matches", rsp, err, len(matches))
	}
	if <-cancelled {
		t.Fatal("handler saw a cancel")
	}

	// C-CANCEL after 3 matches
	stop := make(chan struct{})
	n := 0
	rsp, err = c.Find(context.Background(), pc.ID, findRoot, bytes.NewReader([]byte("slow")), func(ctx context.Context, m *Message) error {
		n++
		if n == 3 {
			close(stop)
		}
		return nil
	}, stop)
	if err != nil || rsp.Status != StatusCancel || n >= 50 {
		t.Fatalf("cancelled find: status %v err %v after %d matches", rsp, err, n)
	}
	if !<-cancelled {
		t.Fatal("handler context was not cancelled")
	}
	// the association is still usable
	if _, err := c.Find(context.Background(), pc.ID, findRoot, bytes.NewReader([]byte("again")), nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestMovePendingCounts(t *testing.T) {
	mux := NewMux(Options{})
	mux.HandleFunc(moveRoot, func(ctx context.Context, rw ResponseWriter, req *Message) Response {
		io.Copy(io.Discard, req.Data)
		if req.Command.MoveDestination != "LIGHTBOX" {
			return Response{Status: StatusMoveDestinationUnknown}
		}
		for i := uint16(0); i < 3; i++ {
			rw.Pending(ctx, Response{Status: StatusPending, Remaining: Some(3 - i), Completed: Some(i), Failed: Some(0), Warning: Some(0)})
		}
		return Response{Status: StatusWarningCoercion, Completed: Some(2), Failed: Some(1), Warning: Some(0), Remaining: Some(0)}
	})
	addr := serve(t, policy(0, moveRoot), mux)
	a, c := dial(t, addr, 0, ul.ProposedContext{AbstractSyntax: moveRoot, TransferSyntaxes: []string{implLE}})
	pc, _ := a.FindContext(moveRoot)
	var remaining []uint16
	rsp, err := c.Move(context.Background(), pc.ID, moveRoot, "LIGHTBOX", bytes.NewReader([]byte("id")), func(p *Command) {
		remaining = append(remaining, p.Remaining.Value)
	}, nil)
	if err != nil || rsp.Status != StatusWarningCoercion || rsp.Completed != Some(2) || rsp.Failed != Some(1) || fmt.Sprint(remaining) != "[3 2 1]" {
		t.Fatalf("move: %+v %v %v", rsp, err, remaining)
	}
	rsp, err = c.Move(context.Background(), pc.ID, moveRoot, "NOBODY", bytes.NewReader([]byte("id")), nil, nil)
	if err != nil || rsp.Status != StatusMoveDestinationUnknown || rsp.Status.Meaning() != "refused: move destination unknown" {
		t.Fatalf("unknown destination: %+v %v", rsp, err)
	}
}

// TestGetWithSubOperations: a C-GET SCP written on Conn sends C-STORE
// sub-operations on the same association; our Get serves them.
func TestGetWithSubOperations(t *testing.T) {
	const n = 4
	scp := ul.HandlerFunc(func(ctx context.Context, a *ul.Association) {
		c := NewConn(a, Options{})
		for {
			m, err := c.ReadMessage(ctx)
			if err != nil {
				return
			}
			io.Copy(io.Discard, m.Data)
			store, ok := a.FindContext(ctImage)
			if !ok || !store.SCU {
				c.respond(ctx, m, Response{Status: StatusOutOfResourcesSubOps})
				continue
			}
			var completed uint16
			for i := 0; i < n; i++ {
				sub := &Command{Field: CStoreRQ, MessageID: c.NextMessageID(), AffectedSOPClassUID: ctImage, AffectedSOPInstanceUID: fmt.Sprintf("9.%d", i)}
				if err := c.WriteMessage(ctx, store.ID, sub, bytes.NewReader(bytes.Repeat([]byte{byte(i)}, 10000*(i+1)))); err != nil {
					return
				}
				rsp, err := c.ReadMessage(ctx)
				if err != nil || rsp.Command.Field != CStoreRSP || rsp.Command.MessageIDBeingRespondedTo != sub.MessageID {
					return
				}
				if rsp.Command.Status == StatusSuccess {
					completed++
				}
				c.respond(ctx, m, Response{Status: StatusPending, Remaining: Some(uint16(n - i - 1)), Completed: Some(completed), Failed: Some(uint16(i+1) - completed), Warning: Some(0)})
			}
			c.respond(ctx, m, Response{Status: StatusSuccess, Completed: Some(completed), Failed: Some(n - completed), Warning: Some(0)})
		}
	})
	addr := serve(t, policy(8192, getRoot, ctImage), scp)
	a, c := dial(t, addr, 0,
		ul.ProposedContext{AbstractSyntax: getRoot, TransferSyntaxes: []string{implLE}},
		ul.ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{explLE}, SCP: true})
	pc, _ := a.FindContext(getRoot)
	if st, _ := a.FindContext(ctImage); !st.SCP {
		t.Fatalf("SCP role not granted: %+v", st)
	}
	var stored []string
	var sizes []int64
	store := HandlerFunc(func(ctx context.Context, rw ResponseWriter, req *Message) Response {
		k, _ := io.Copy(io.Discard, req.Data)
		stored = append(stored, req.Command.AffectedSOPInstanceUID)
		sizes = append(sizes, k)
		if req.Command.AffectedSOPInstanceUID == "9.2" {
			return Response{Status: StatusOutOfResources}
		}
		return Response{Status: StatusSuccess}
	})
	var pend []uint16
	rsp, err := c.Get(context.Background(), pc.ID, getRoot, bytes.NewReader([]byte("id")), func(p *Command) { pend = append(pend, p.Completed.Value) }, store, nil)
	if err != nil || rsp.Status != StatusSuccess || rsp.Completed != Some(3) || rsp.Failed != Some(1) {
		t.Fatalf("get: %+v %v", rsp, err)
	}
	if fmt.Sprint(stored) != "[9.0 9.1 9.2 9.3]" || fmt.Sprint(sizes) != "[10000 20000 30000 40000]" || fmt.Sprint(pend) != "[1 2 2 3]" {
		t.Fatalf("stored %v sizes %v pending %v", stored, sizes, pend)
	}
}

func TestDIMSETimeoutAbortsAssociation(t *testing.T) {
	mux := NewMux(Options{})
	handlerDone := make(chan struct{})
	mux.HandleFunc(findRoot, func(ctx context.Context, rw ResponseWriter, req *Message) Response {
		<-ctx.Done() // never answers (nor reads its data) until the association ends
		close(handlerDone)
		return Response{Status: StatusCancel}
	})
	addr := serve(t, policy(0, findRoot), mux)
	a, err := ul.Dial(context.Background(), ul.DialConfig{Addr: addr, CallingAE: "SCU", CalledAE: "LIGHTBOX",
		Contexts: []ul.ProposedContext{{AbstractSyntax: findRoot, TransferSyntaxes: []string{implLE}}}})
	if err != nil {
		t.Fatal(err)
	}
	c := NewConn(a, Options{Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err = c.Find(context.Background(), 1, findRoot, bytes.NewReader([]byte("q")), nil, nil)
	if !errors.Is(err, ul.ErrTimeout) || err.Error() != "DIMSE response timed out after 300ms" {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
	select {
	case <-a.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("association not aborted after DIMSE timeout")
	}
	select {
	case <-handlerDone:
	case <-time.After(2 * time.Second):
		t.Fatal("SCP handler context not cancelled when the association was aborted")
	}
}

// TestDataFragmentTimeout: the DIMSE timeout bounds the wait for each data
// set fragment, not the whole data set.
func TestDataFragmentTimeout(t *testing.T) {
	store, _ := (&Command{Field: CStoreRQ, MessageID: 1, AffectedSOPClassUID: ctImage, HasDataSet: true}).Encode()
	frags := func(n int, last bool) []*ul.PData {
		in := []*ul.PData{{Values: []pdu.PDV{{ContextID: 1, Flags: 3, Data: store}}}}
		for i := 0; i < n; i++ {
			fl := uint8(0)
			if last && i == n-1 {
				fl = pdu.FlagLast
			}
			in = append(in, &ul.PData{Values: []pdu.PDV{{ContextID: 1, Flags: fl, Data: []byte{byte(i)}}}})
		}
		return in
	}
	accepted := ul.Context{Result: pdu.ContextAccepted}

	// slow but steady: 6 fragments 40 ms apart, timeout 100 ms: fine
	f := &fakeAssoc{max: 100, accept: accepted, in: frags(6, true), delay: 40 * time.Millisecond}
	c := NewConn(f, Options{Timeout: 100 * time.Millisecond})
	m, err := c.ReadMessage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(m.Data)
	if err != nil || !bytes.Equal(b, []byte{0, 1, 2, 3, 4, 5}) || f.abort {
		t.Fatalf("steady data set: %v %v (aborted %v)", b, err, f.abort)
	}

	// a fragment that never comes
	f = &fakeAssoc{max: 100, accept: accepted, in: frags(2, false), stall: true}
	c = NewConn(f, Options{Timeout: 100 * time.Millisecond})
	m, err = c.ReadMessage(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b, err = io.ReadAll(m.Data)
	if !errors.Is(err, ul.ErrTimeout) || !f.abort || len(b) != 2 {
		t.Fatalf("stalled data set: %v %v (aborted %v)", b, err, f.abort)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("gave up after %v", d)
	}
}

// brokenReader yields n zero bytes, then err.
type brokenReader struct {
	n   int
	err error
}

func (r *brokenReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

// TestWriteDataReaderError: a data set whose reader fails (inside a batch,
// at a batch's end where the byte read ahead fails, or at once) aborts the
// association; the fragments before the failure are never flagged last.
func TestWriteDataReaderError(t *testing.T) {
	const maxPDV = 100
	errDisk := errors.New("disk gone")
	for _, n := range []int{0, 50, perBatchOf(maxPDV), perBatchOf(maxPDV) + 30} {
		for _, framed := range []bool{false, true} {
			f := &fakeAssoc{max: maxPDV}
			var a Association = f
			if framed {
				a = &framedFake{fakeAssoc: f}
			}
			c := NewConn(a, Options{})
			err := c.WriteMessage(context.Background(), 1, &Command{Field: CStoreRQ, MessageID: 1}, &brokenReader{n: n, err: errDisk})
			if !errors.Is(err, errDisk) || !f.abort {
				t.Fatalf("%d bytes, framed %v: err %v, aborted %v", n, framed, err, f.abort)
			}
			sent := 0
			for _, v := range f.sent {
				if !v.Command() {
					sent += len(v.Data)
					if v.Last() {
						t.Fatalf("%d bytes, framed %v: a data fragment flagged last", n, framed)
					}
				}
			}
			if sent > n {
				t.Fatalf("%d bytes, framed %v: %d data bytes sent", n, framed, sent)
			}
		}
	}
}
