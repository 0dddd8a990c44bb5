package ul

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/backend/pdu"
)

const (
	verification = "1.2.840.10008.1.1"
	implicitLE   = "1.2.840.10008.1.2"
	explicitLE   = "1.2.840.10008.1.2.1"
	ctImage      = "1.2.840.10008.5.1.4.1.1.2"
)

// countingHandler counts log records at Warn and above.
type countingHandler struct {
	mu    sync.Mutex
	warns []string
}

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.mu.Lock()
		h.warns = append(h.warns, r.Message)
		h.mu.Unlock()
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }
func (h *countingHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.warns)
}

type testServer struct {
	*Server
	addr   string
	logs   *countingHandler
	mu     sync.Mutex
	events []AssociationEvent
}

func (ts *testServer) eventsOf(k EventKind) []AssociationEvent {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []AssociationEvent
	for _, e := range ts.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits until n events of kind k were emitted.
func (ts *testServer) waitEvent(t *testing.T, k EventKind, n int) []AssociationEvent {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ev := ts.eventsOf(k); len(ev) >= n {
			return ev
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %d %s events after 5s: %+v", n, k, ts.events)
	return nil
}

func basicPolicy() Policy {
	return Policy{
		AETitle: "LIGHTBOX",
		Syntaxes: map[string]SyntaxPolicy{
			verification: {TransferSyntaxes: []string{explicitLE, implicitLE}},
			ctImage:      {TransferSyntaxes: []string{explicitLE, implicitLE}},
		},
		Timeouts: Timeouts{ACSE: 2 * time.Second},
	}
}

// echoLoop is a handler that answers nothing but keeps the association
// until the peer releases or aborts; it records the end error.
func holdHandler(ended chan<- error) HandlerFunc {
	return func(ctx context.Context, a *Association) {
		for {
			_, err := a.Receive(ctx)
			if err != nil {
				if ended != nil {
					ended <- err
				}
				return
			}
		}
	}
}

func startServer(t *testing.T, pol Policy, h Handler) *testServer {
	t.Helper()
	ts := &testServer{logs: &countingHandler{}}
	ts.Server = NewServer(pol, h, WithLogger(slog.New(ts.logs)), WithEventHook(func(e AssociationEvent) {
		ts.mu.Lock()
		ts.events = append(ts.events, e)
		ts.mu.Unlock()
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
		ts.Close()
	})
	return ts
}

func dialCfg(addr, called string, ctxs ...ProposedContext) DialConfig {
	if len(ctxs) == 0 {
		ctxs = []ProposedContext{{AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE}}}
	}
	return DialConfig{Addr: addr, CallingAE: "TESTSCU", CalledAE: called, Contexts: ctxs, Timeouts: Timeouts{ACSE: 2 * time.Second, Connect: 2 * time.Second}}
}

func TestDialAndRelease(t *testing.T) {
	ended := make(chan error, 1)
	ts := startServer(t, basicPolicy(), holdHandler(ended))
	a, err := Dial(context.Background(), dialCfg(ts.addr, "LIGHTBOX",
		ProposedContext{AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE, explicitLE}},
		ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{implicitLE}}))
	if err != nil {
		t.Fatal(err)
	}
	cs := a.Contexts()
	if len(cs) != 2 || cs[0].ID != 1 || cs[1].ID != 3 {
		t.Fatalf("contexts %+v", cs)
	}
	// our preference (explicit first) wins over the proposal order
	if cs[0].TransferSyntax != explicitLE || cs[1].TransferSyntax != implicitLE || !cs[0].SCU || cs[0].SCP {
		t.Fatalf("negotiated %+v", cs)
	}
	if c, ok := a.FindContext(ctImage, explicitLE, implicitLE); !ok || c.ID != 3 {
		t.Fatalf("FindContext: %+v %v", c, ok)
	}
	if a.Accept().UserInfo.ImplementationClassUID != ImplementationClassUID || a.PeerMaxPDU() != DefaultMaxPDULength {
		t.Fatalf("AC user info %+v", a.Accept().UserInfo)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatalf("release: %v", err)
	}
	if !errors.Is(<-ended, ErrPeerReleased) {
		t.Fatal("SCP did not see an orderly release")
	}
	ev := ts.waitEvent(t, EventEnded, 1)
	if ev[0].Err != nil || ev[0].CallingAE != "TESTSCU" || ev[0].CalledAE != "LIGHTBOX" || ev[0].End.Before(ev[0].Start) {
		t.Fatalf("ended event %+v", ev[0])
	}
	if a.State() != Sta1 {
		t.Fatalf("state after release %s", a.State())
	}
}

func TestRejections(t *testing.T) {
	pol := basicPolicy()
	pol.CallingAEs = []string{"TESTSCU", "OTHER"}
	ts := startServer(t, pol, holdHandler(nil))
	cases := []struct {
		name, called, calling string
		want                  string
	}{
		{"wrong called AE", "WRONG", "TESTSCU", "association rejected: permanent, service-user: called AE title not recognised"},
		{"calling AE not allowed", "LIGHTBOX", "STRANGER", "association rejected: permanent, service-user: calling AE title not recognised"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := dialCfg(ts.addr, tc.called)
			cfg.CallingAE = tc.calling
			_, err := Dial(context.Background(), cfg)
			var rj *RejectError
			if !errors.As(err, &rj) || !errors.Is(err, ErrRejected) || err.Error() != tc.want {
				t.Fatalf("got %T %v, want %q", err, err, tc.want)
			}
		})
	}
	if n := len(ts.waitEvent(t, EventRejected, 2)); n != 2 {
		t.Fatalf("%d rejected events", n)
	}
}

func TestNoAcceptableContext(t *testing.T) {
	ts := startServer(t, basicPolicy(), holdHandler(nil))
	cases := []struct {
		name string
		pc   ProposedContext
		want pdu.ContextResult
	}{
		{"abstract syntax", ProposedContext{AbstractSyntax: "1.2.3.4.5", TransferSyntaxes: []string{implicitLE}}, pdu.ContextAbstractSyntaxNotSupported},
		{"transfer syntax", ProposedContext{AbstractSyntax: verification, TransferSyntaxes: []string{"1.2.840.10008.1.2.4.50"}}, pdu.ContextTransferSyntaxesNotSupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Dial(context.Background(), dialCfg(ts.addr, "LIGHTBOX", tc.pc))
			var ne *NoContextError
			if !errors.As(err, &ne) || !errors.Is(err, ErrNoContext) {
				t.Fatalf("got %T %v", err, err)
			}
			if len(ne.Results) != 1 || ne.Results[0].Result != tc.want || !strings.Contains(err.Error(), tc.want.String()) {
				t.Fatalf("results %+v (%v)", ne.Results, err)
			}
		})
	}
	// the association was released, not aborted
	ev := ts.waitEvent(t, EventEnded, 2)
	for _, e := range ev {
		if e.Err != nil {
			t.Fatalf("association ended with %v", e.Err)
		}
	}
}

func TestMaxAssociationsAndSetPolicy(t *testing.T) {
	pol := basicPolicy()
	pol.MaxAssociations = 1
	ts := startServer(t, pol, holdHandler(nil))
	a1, err := Dial(context.Background(), dialCfg(ts.addr, "LIGHTBOX"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Dial(context.Background(), dialCfg(ts.addr, "LIGHTBOX"))
	var rj *RejectError
	if !errors.As(err, &rj) || !rj.Transient() || rj.RJ.Source != pdu.SourceServiceProviderPresentation ||
		err.Error() != "association rejected: transient, service-provider (presentation): local limit exceeded" {
		t.Fatalf("second association: %v", err)
	}
	if err := a1.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.waitEvent(t, EventEnded, 1)

	// AE title changed at run time: takes effect on the next association
	pol.AETitle = "NEWTITLE"
	ts.SetPolicy(pol)
	if _, err := Dial(context.Background(), dialCfg(ts.addr, "LIGHTBOX")); !errors.Is(err, ErrRejected) {
		t.Fatalf("old AE title after SetPolicy: %v", err)
	}
	a3, err := Dial(context.Background(), dialCfg(ts.addr, "NEWTITLE"))
	if err != nil {
		t.Fatalf("new AE title: %v", err)
	}
	a3.Release(context.Background())
}

func TestRoleSelection(t *testing.T) {
	for _, allow := range []bool{false, true} {
		pol := basicPolicy()
		sp := pol.Syntaxes[ctImage]
		sp.AllowRequestorSCP = allow
		pol.Syntaxes[ctImage] = sp
		scpSide := make(chan []Context, 1)
		ts := startServer(t, pol, HandlerFunc(func(ctx context.Context, a *Association) {
			scpSide <- a.Contexts()
			holdHandler(nil)(ctx, a)
		}))
		a, err := Dial(context.Background(), dialCfg(ts.addr, "LIGHTBOX",
			ProposedContext{AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE}},
			ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{implicitLE}, SCU: true, SCP: true}))
		if err != nil {
			t.Fatal(err)
		}
		roles := a.Accept().UserInfo.Roles
		if len(roles) != 1 || roles[0].SOPClassUID != ctImage || !roles[0].SCU || roles[0].SCP != allow {
			t.Fatalf("allow=%v: AC role items %+v", allow, roles)
		}
		c, _ := a.ContextByID(3)
		if !c.SCU || c.SCP != allow {
			t.Fatalf("allow=%v: our roles %+v", allow, c)
		}
		v, _ := a.ContextByID(1)
		if !v.SCU || v.SCP {
			t.Fatalf("verification roles %+v", v)
		}
		s := <-scpSide
		if !s[1].SCP || s[1].SCU != allow || !s[0].SCP || s[0].SCU {
			t.Fatalf("allow=%v: acceptor roles %+v", allow, s)
		}
		a.Release(context.Background())
	}
}

// rawPeer speaks PDUs by hand.
type rawPeer struct {
	t *testing.T
	net.Conn
}

func dialRaw(t *testing.T, addr string) *rawPeer {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawPeer{t, c}
}

func (p *rawPeer) send(x pdu.PDU) {
	b, err := pdu.Encode(x)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.Write(b); err != nil {
		p.t.Fatal(err)
	}
}

func (p *rawPeer) recv() (pdu.PDU, error) {
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	return pdu.ReadPDU(p, pdu.Limits{})
}

func (p *rawPeer) expect(typ pdu.Type) pdu.PDU {
	x, err := p.recv()
	if err != nil {
		p.t.Fatalf("want %s, got error %v", typ, err)
	}
	if x.Type() != typ {
		p.t.Fatalf("want %s, got %s", typ, x)
	}
	return x
}

// expectClosed reads until EOF; PDUs before it are returned.
func (p *rawPeer) expectClosed() []pdu.Type {
	var got []pdu.Type
	for {
		x, err := p.recv()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				p.t.Fatalf("connection still open after 5s (got %v)", got)
			}
			return got
		}
		got = append(got, x.Type())
	}
}

func echoRQ(called string) *pdu.AssociateRQ {
	return &pdu.AssociateRQ{
		ProtocolVersion: 1, CalledAE: called, CallingAE: "RAW", ApplicationContext: pdu.ApplicationContextName,
		Contexts: []pdu.PresentationContextRQ{{ID: 1, AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE}}},
		UserInfo: pdu.UserInfo{MaxLength: 16384, ImplementationClassUID: "1.2.3", ImplementationVersionName: "RAW"},
	}
}

func TestPeerAbortsSCPSide(t *testing.T) {
	ended := make(chan error, 4)
	ts := startServer(t, basicPolicy(), holdHandler(ended))

	// abort instead of A-ASSOCIATE-RQ (Sta2, Evt16: AA-2)
	p := dialRaw(t, ts.addr)
	p.send(&pdu.Abort{})
	if got := p.expectClosed(); len(got) != 0 {
		t.Fatalf("sent %v", got)
	}
	ts.waitEvent(t, EventFailed, 1)

	// abort right after the request, during negotiation
	p = dialRaw(t, ts.addr)
	p.send(echoRQ("LIGHTBOX"))
	p.send(&pdu.Abort{})
	p.expectClosed()
	// the abort may beat our A-ASSOCIATE-AC (EventFailed) or follow it
	// (the handler runs and sees it): wait for either, then forget it.
	deadline := time.Now().Add(5 * time.Second)
	for len(ts.eventsOf(EventFailed))+len(ts.eventsOf(EventEnded)) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-ended:
	default:
	}
	endedBefore := len(ts.eventsOf(EventEnded))

	// abort after negotiation (Sta6, Evt16: AA-3)
	p = dialRaw(t, ts.addr)
	p.send(echoRQ("LIGHTBOX"))
	p.expect(pdu.TypeAssociateAC)
	p.send(&pdu.Abort{Source: pdu.AbortServiceUser})
	p.expectClosed()
	for i := 0; i < 1; i++ {
		select {
		case err := <-ended:
			var ae *AbortError
			if !errors.As(err, &ae) || !ae.ByPeer || err.Error() != "aborted by peer" {
				t.Fatalf("handler saw %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("handler did not see the abort")
		}
	}
	ev := ts.waitEvent(t, EventEnded, endedBefore+1)
	if !errors.Is(ev[endedBefore].Err, ErrAborted) {
		t.Fatalf("ended event err %v", ev[endedBefore].Err)
	}
	// the server still works
	a, err := Dial(context.Background(), dialCfg(ts.addr, "LIGHTBOX"))
	if err != nil {
		t.Fatal(err)
	}
	a.Release(context.Background())
}

// fakeSCP runs script on each accepted connection.
func fakeSCP(t *testing.T, script func(p *rawPeer)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				script(&rawPeer{t, c})
			}()
		}
	}()
	return ln.Addr().String()
}

func acFor(rq *pdu.AssociateRQ) *pdu.AssociateAC {
	ac := &pdu.AssociateAC{ProtocolVersion: 1, CalledAE: rq.CalledAE, CallingAE: rq.CallingAE, UserInfo: pdu.UserInfo{MaxLength: 16384, ImplementationClassUID: "1.2.3"}}
	for _, c := range rq.Contexts {
		ac.Contexts = append(ac.Contexts, pdu.PresentationContextAC{ID: c.ID, TransferSyntax: c.TransferSyntaxes[0]})
	}
	return ac
}

func TestPeerAbortsSCUSide(t *testing.T) {
	// during negotiation: A-ABORT in answer to the request (Sta5, Evt16: AA-3)
	addr := fakeSCP(t, func(p *rawPeer) {
		p.expect(pdu.TypeAssociateRQ)
		p.send(&pdu.Abort{Source: pdu.AbortServiceProvider, Reason: pdu.AbortUnexpectedPDUParameter})
	})
	_, err := Dial(context.Background(), dialCfg(addr, "X"))
	if err == nil || err.Error() != "aborted by peer (service-provider: unexpected PDU parameter)" {
		t.Fatalf("during negotiation: %v", err)
	}

	// after negotiation: accept, then abort
	addr = fakeSCP(t, func(p *rawPeer) {
		rq := p.expect(pdu.TypeAssociateRQ).(*pdu.AssociateRQ)
		p.send(acFor(rq))
		p.send(&pdu.Abort{})
	})
	a, err := Dial(context.Background(), dialCfg(addr, "X"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Receive(context.Background())
	if !errors.Is(err, ErrAborted) || err.Error() != "aborted by peer" {
		t.Fatalf("after negotiation: %v", err)
	}
	if err := a.SendPDV(context.Background(), 1, 3, []byte{1}); !errors.Is(err, ErrAborted) {
		t.Fatalf("send after abort: %v", err)
	}

	// connection dropped without A-ABORT (A-P-ABORT, AA-4)
	addr = fakeSCP(t, func(p *rawPeer) {
		rq := p.expect(pdu.TypeAssociateRQ).(*pdu.AssociateRQ)
		p.send(acFor(rq))
	})
	a, err = Dial(context.Background(), dialCfg(addr, "X"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err = a.Receive(context.Background()); !errors.Is(err, ErrConnectionClosed) {
		t.Fatalf("dropped connection: %v", err)
	}
}

func TestReleaseCollision(t *testing.T) {
	// we are the requestor: Sta7 -Evt12-> AR-8 Sta9 -Evt14-> AR-9 Sta11 -Evt13-> AR-3 Sta1
	var trace []string
	var mu sync.Mutex
	addr := fakeSCP(t, func(p *rawPeer) {
		rq := p.expect(pdu.TypeAssociateRQ).(*pdu.AssociateRQ)
		p.send(acFor(rq))
		p.expect(pdu.TypeReleaseRQ)
		p.send(&pdu.ReleaseRQ{}) // collision
		p.expect(pdu.TypeReleaseRP)
		p.send(&pdu.ReleaseRP{})
		p.expectClosed()
	})
	a, err := Dial(context.Background(), dialCfg(addr, "X"))
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.trace = func(from State, e Event, act Action, to State) {
		mu.Lock()
		trace = append(trace, from.String()+"+"+e.String()[:5]+"="+act.String()+">"+to.String())
		mu.Unlock()
	}
	a.mu.Unlock()
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := strings.Join(trace, " ")
	mu.Unlock()
	want := "Sta6+Evt11=AR-1>Sta7 Sta7+Evt12=AR-8>Sta9 Sta9+Evt14=AR-9>Sta11 Sta11+Evt1=AR-3>Sta1"
	if !strings.HasPrefix(strings.ReplaceAll(got, "Evt13", "Evt1"), want) {
		t.Fatalf("trace %q\nwant %q", got, want)
	}

	// we are the acceptor: our handler releases, the peer collides.
	done := make(chan error, 1)
	ts := startServer(t, basicPolicy(), HandlerFunc(func(ctx context.Context, a *Association) {
		done <- a.Release(ctx)
	}))
	p := dialRaw(t, ts.addr)
	p.send(echoRQ("LIGHTBOX"))
	p.expect(pdu.TypeAssociateAC)
	p.expect(pdu.TypeReleaseRQ)
	p.send(&pdu.ReleaseRQ{}) // requestor side of the collision: Sta9
	p.send(&pdu.ReleaseRP{}) // AR-9, now Sta11 awaiting our RP
	p.expect(pdu.TypeReleaseRP)
	p.Close()
	if err := <-done; err != nil {
		t.Fatalf("acceptor release: %v", err)
	}
}

func TestGarbageOnThePort(t *testing.T) {
	ts := startServer(t, basicPolicy(), holdHandler(nil))
	random := make([]byte, 4096)
	rand.Read(random)
	random[0] = 0x01                                                    // looks like an A-ASSOCIATE-RQ...
	random[2], random[3], random[4], random[5] = 0xFF, 0xFF, 0xFF, 0xFF // ...of 4 GB
	clientHello := []byte{0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03}
	clientHello = append(clientHello, make([]byte, 160)...)
	cases := map[string][]byte{
		"random":       random,
		"http":         []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
		"tls":          clientHello,
		"short header": {0x01, 0x00},
	}
	n := 0
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			before := ts.logs.count()
			p := dialRaw(t, ts.addr)
			p.Write(b)
			if name == "short header" {
				p.Conn.(*net.TCPConn).CloseWrite()
			}
			got := p.expectClosed()
			if len(got) > 1 || (len(got) == 1 && got[0] != pdu.TypeAbort) {
				t.Fatalf("server sent %v", got)
			}
			n++
			ev := ts.waitEvent(t, EventFailed, n)
			if name == "short header" {
				if !errors.Is(ev[n-1].Err, ErrConnectionClosed) {
					t.Fatalf("event error %q", ev[n-1].Err)
				}
			} else if !strings.Contains(ev[n-1].Err.Error(), "invalid PDU from 127.0.0.1:") {
				t.Fatalf("event error %q", ev[n-1].Err)
			}
			t.Logf("%s: %v", name, ev[n-1].Err)
			time.Sleep(20 * time.Millisecond)
			if d := ts.logs.count() - before; name != "short header" && d != 1 {
				t.Fatalf("%d warnings logged, want 1", d)
			}
		})
	}
	a, err := Dial(context.Background(), dialCfg(ts.addr, "LIGHTBOX"))
	if err != nil {
		t.Fatalf("server down after garbage: %v", err)
	}
	a.Release(context.Background())
}

func TestARTIMExpiresWithoutRequest(t *testing.T) {
	pol := basicPolicy()
	pol.Timeouts.ACSE = 150 * time.Millisecond
	ts := startServer(t, pol, holdHandler(nil))
	p := dialRaw(t, ts.addr)
	start := time.Now()
	p.expectClosed()
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("closed after %v", d)
	}
	ev := ts.waitEvent(t, EventFailed, 1)
	if !errors.Is(ev[0].Err, ErrAborted) {
		t.Fatalf("event err %v", ev[0].Err)
	}
}

func TestPDataBothWays(t *testing.T) {
	got := make(chan []byte, 1)
	ts := startServer(t, basicPolicy(), HandlerFunc(func(ctx context.Context, a *Association) {
		var all []byte
		for {
			p, err := a.Receive(ctx)
			if err != nil {
				got <- all
				return
			}
			for _, v := range p.Values {
				all = append(all, v.Data...)
				if v.Last() {
					a.SendPDV(ctx, v.ContextID, v.Flags, []byte("ok"))
				}
			}
		}
	}))
	cfg := dialCfg(ts.addr, "LIGHTBOX")
	cfg.MaxPDULength = 4096
	a, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.MaxPDVData() != DefaultMaxPDULength-6 {
		t.Fatalf("MaxPDVData %d", a.MaxPDVData())
	}
	big := make([]byte, a.MaxPDVData()+1)
	if err := a.SendPDV(context.Background(), 1, 0, big); err == nil {
		t.Fatal("oversized PDV accepted")
	}
	want := []byte{}
	for i := 0; i < 10; i++ {
		chunk := []byte(strings.Repeat(string(rune('a'+i)), 1000))
		want = append(want, chunk...)
		flags := uint8(0)
		if i == 9 {
			flags = pdu.FlagLast
		}
		if err := a.SendPDV(context.Background(), 1, flags, chunk); err != nil {
			t.Fatal(err)
		}
	}
	p, err := a.Receive(context.Background())
	if err != nil || string(p.Values[0].Data) != "ok" {
		t.Fatalf("reply %v %v", p, err)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != string(want) {
		t.Fatalf("received %d bytes, want %d", len(b), len(want))
	}
	_ = io.EOF
}

func TestIdleTimeoutAndShutdown(t *testing.T) {
	pol := basicPolicy()
	pol.Timeouts.Idle = 200 * time.Millisecond
	ts := startServer(t, pol, holdHandler(nil))
	a, err := Dial(context.Background(), dialCfg(ts.addr, "LIGHTBOX"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = a.Receive(context.Background())
	if !errors.Is(err, ErrAborted) || err.Error() != "aborted by peer" {
		t.Fatalf("idle SCP association: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Fatalf("aborted after %v", d)
	}

	// Close aborts running associations, stops Serve and returns
	ended := make(chan error, 1)
	ts2 := &testServer{logs: &countingHandler{}}
	ts2.Server = NewServer(basicPolicy(), holdHandler(ended))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ts2.Serve(ctx, ln) }()
	b, err := Dial(context.Background(), dialCfg(ln.Addr().String(), "LIGHTBOX"))
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	ts2.Close()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if err := <-ended; !errors.Is(err, context.Canceled) && !errors.Is(err, ErrAborted) {
		t.Fatalf("handler ended with %v", err)
	}
	if _, err := b.Receive(context.Background()); !errors.Is(err, ErrAborted) && !errors.Is(err, ErrConnectionClosed) {
		t.Fatalf("client saw %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("listener still open after Serve returned")
	}
}

// TestPortChangeKeepsAssociations: a new listener replaces the old one
// (the UI changed the port); the association on the old port goes on.
func TestPortChangeKeepsAssociations(t *testing.T) {
	srv := NewServer(basicPolicy(), HandlerFunc(func(ctx context.Context, a *Association) {
		for {
			p, err := a.Receive(ctx)
			if err != nil {
				return
			}
			a.SendPDV(ctx, 1, pdu.FlagCommand|pdu.FlagLast, p.Values[0].Data) // echo back
		}
	}))
	defer srv.Close()
	ln1, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx1, cancel1 := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { done1 <- srv.Serve(ctx1, ln1) }()
	a, err := Dial(context.Background(), dialCfg(ln1.Addr().String(), "LIGHTBOX"))
	if err != nil {
		t.Fatal(err)
	}
	// port change
	cancel1()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go srv.Serve(ctx2, ln2)
	if _, err := net.Dial("tcp", ln1.Addr().String()); err == nil {
		t.Fatal("old port still accepts")
	}
	b, err := Dial(context.Background(), dialCfg(ln2.Addr().String(), "LIGHTBOX"))
	if err != nil {
		t.Fatalf("new port: %v", err)
	}
	b.Release(context.Background())
	// the association from before the change still works
	if err := a.SendPDV(context.Background(), 1, pdu.FlagCommand|pdu.FlagLast, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	p, err := a.Receive(context.Background())
	if err != nil || string(p.Values[0].Data) != "ping" {
		t.Fatalf("old association after the port change: %v %v", p, err)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestOversizedPData: a P-DATA-TF longer than the maximum we announced is
// refused from its header (nothing allocated): A-ABORT, connection closed.
func TestOversizedPData(t *testing.T) {
	for _, tc := range []struct {
		announce uint32
		length   uint32
	}{
		{16384, 16384 + 6 + readSlack + 1},
		{NoPDULimit, unlimitedPData + 1},
		{NoPDULimit, 0xFFFFFFFF},
	} {
		pol := basicPolicy()
		pol.MaxPDULength = tc.announce
		ts := startServer(t, pol, holdHandler(nil))
		p := dialRaw(t, ts.addr)
		p.send(echoRQ("LIGHTBOX"))
		ac := p.expect(pdu.TypeAssociateAC).(*pdu.AssociateAC)
		if want := announced(tc.announce); ac.UserInfo.MaxLength != want {
			t.Fatalf("announced %d, want %d", ac.UserInfo.MaxLength, want)
		}
		hdr := []byte{4, 0, byte(tc.length >> 24), byte(tc.length >> 16), byte(tc.length >> 8), byte(tc.length)}
		p.Write(hdr)
		got := p.expectClosed()
		if len(got) != 1 || got[0] != pdu.TypeAbort {
			t.Fatalf("announce %d, length %d: server sent %v", tc.announce, tc.length, got)
		}
		ev := ts.waitEvent(t, EventEnded, 1)
		if !errors.Is(ev[0].Err, ErrAborted) || !strings.Contains(ev[0].Err.Error(), "length exceeds limit") {
			t.Fatalf("event err %v", ev[0].Err)
		}
	}
}
