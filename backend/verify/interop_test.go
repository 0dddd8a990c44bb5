package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/backend/dimse"
	"lightbox/backend/dimse/dimsetest"
	"lightbox/backend/ul"
)

// startSCP runs a Verification SCP on an ephemeral 127.0.0.1 port.
func startSCP(t *testing.T, mutate func(*ul.Policy)) (*ul.Server, string) {
	t.Helper()
	mux := dimse.NewMux(dimse.Options{})
	pol := ul.Policy{
		AETitle:  "LIGHTBOX",
		Syntaxes: map[string]ul.SyntaxPolicy{dimse.VerificationSOPClass: Register(mux)},
		Timeouts: ul.Timeouts{ACSE: 5 * time.Second},
	}
	if mutate != nil {
		mutate(&pol)
	}
	var log *slog.Logger
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	} else {
		log = slog.New(slog.DiscardHandler)
	}
	srv := ul.NewServer(pol, mux, ul.WithLogger(log))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
		srv.Close()
	})
	return srv, ln.Addr().String()
}

func runTool(t *testing.T, name string, args ...string) (string, error) {
	return dimsetest.Run(t, 20*time.Second, name, args...)
}

func hostPort(t *testing.T, addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// TestEchoscuToOurSCP: DCMTK echoscu with each receive size it allows
// (4096..131072), and against our SCP announcing max PDU 0 (no limit;
// echoscu itself refuses "--max-pdu 0" as an underflow).
func TestEchoscuToOurSCP(t *testing.T) {
	_, addr := startSCP(t, nil)
	_, addrNoLimit := startSCP(t, func(p *ul.Policy) { p.MaxPDULength = ul.NoPDULimit })
	for _, tc := range []struct{ name, addr, pdu string }{
		{"echoscu-max-pdu=4096", addr, "4096"},
		{"echoscu-max-pdu=16384", addr, "16384"},
		{"echoscu-max-pdu=131072", addr, "131072"},
		{"scp-max-pdu=0", addrNoLimit, "16384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, p := hostPort(t, tc.addr)
			out, err := runTool(t, "echoscu", "-v", "-aet", "ECHOSCU", "-aec", "LIGHTBOX", "--max-pdu", tc.pdu, h, p)
			if err != nil {
				t.Fatalf("echoscu failed: %v\n%s", err, out)
			}
			if !strings.Contains(out, "Received Echo Response (Success)") {
				t.Fatalf("no success in echoscu output:\n%s", out)
			}
		})
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Ports reserved for these tests: 12100-12119.
const (
	portStorescp       = "12101"
	portStorescpRefuse = "12102"
	portOrthancDICOM   = "12110"
	portOrthancHTTP    = "12111"
	portClosed         = "12119"
)

func TestEchoToDCMTKStorescp(t *testing.T) {
	dimsetest.Storescp(t, "STORESCP", portStorescp)
	dimsetest.Storescp(t, "STORESCP", portStorescpRefuse, "--refuse")

	rtt, st, err := Echo(context.Background(), Target{CallingAE: "LIGHTBOX", CalledAE: "STORESCP", Addr: "127.0.0.1:" + portStorescp}, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("echo to storescp: %v", err)
	}
	if st != dimse.StatusSuccess || rtt <= 0 || rtt > 5*time.Second {
		t.Fatalf("echo to storescp: status %v rtt %v", st, rtt)
	}

	_, _, err = Echo(context.Background(), Target{CallingAE: "LIGHTBOX", CalledAE: "STORESCP", Addr: "127.0.0.1:" + portStorescpRefuse}, Options{Timeout: 5 * time.Second})
	var rj *ul.RejectError
	if !errors.As(err, &rj) {
		t.Fatalf("storescp --refuse: want *ul.RejectError, got %T %v", err, err)
	}
	if !strings.HasPrefix(err.Error(), "association rejected: ") {
		t.Fatalf("rejection text %q", err.Error())
	}
	t.Logf("storescp --refuse: %v", err)
}

func TestEchoToOrthanc(t *testing.T) {
	dimsetest.Orthanc(t, "ORTHANC", portOrthancDICOM, portOrthancHTTP, nil)
	addr := "127.0.0.1:" + portOrthancDICOM

	rtt, st, err := Echo(context.Background(), Target{CallingAE: "LIGHTBOX", CalledAE: "ORTHANC", Addr: addr}, Options{Timeout: 5 * time.Second})
	if err != nil || st != dimse.StatusSuccess {
		t.Fatalf("echo to Orthanc: status %v err %v", st, err)
	}
	t.Logf("echo to Orthanc: rtt %v", rtt)

	// Orthanc checks the called AE title here: a wrong one is rejected.
	_, _, err = Echo(context.Background(), Target{CallingAE: "LIGHTBOX", CalledAE: "NOTORTHANC", Addr: addr}, Options{Timeout: 5 * time.Second})
	var rj *ul.RejectError
	if !errors.As(err, &rj) {
		t.Fatalf("wrong called AE: want *ul.RejectError, got %T %v", err, err)
	}
	t.Logf("Orthanc, wrong called AE: %v", err)
}

func TestEchoClosedPortAndTimeout(t *testing.T) {
	start := time.Now()
	_, _, err := Echo(context.Background(), Target{CallingAE: "A", CalledAE: "B", Addr: "127.0.0.1:" + portClosed}, Options{Timeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("closed port: got %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("closed port took %v", d)
	}

	// a peer that accepts TCP and never answers
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start = time.Now()
	_, _, err = Echo(context.Background(), Target{CallingAE: "A", CalledAE: "B", Addr: ln.Addr().String()}, Options{Timeout: 700 * time.Millisecond})
	d := time.Since(start)
	if err == nil || !strings.HasSuffix(err.Error(), "timed out after 700ms") || !errors.Is(err, ul.ErrTimeout) {
		t.Fatalf("silent peer: got %v", err)
	}
	if d < 700*time.Millisecond || d > 3*time.Second {
		t.Fatalf("silent peer: returned after %v", d)
	}
}

func TestEchoscuRejectionsAndAbort(t *testing.T) {
	srv, addr := startSCP(t, nil)
	_, addrNone := startSCP(t, func(p *ul.Policy) { p.Syntaxes = map[string]ul.SyntaxPolicy{} })
	h, p := hostPort(t, addr)

	out, err := runTool(t, "echoscu", "-aet", "ECHOSCU", "-aec", "NOTME", h, p)
	if err == nil || !strings.Contains(out, "Called AE Title Not Recognized") {
		t.Fatalf("wrong called AE: err %v\n%s", err, out)
	}

	hn, pn := hostPort(t, addrNone)
	out, err = runTool(t, "echoscu", "-aet", "ECHOSCU", "-aec", "LIGHTBOX", hn, pn)
	if err == nil || !strings.Contains(out, "No Acceptable Presentation Contexts") {
		t.Fatalf("no acceptable context: err %v\n%s", err, out)
	}

	// echoscu --abort: A-ABORT after the echo instead of A-RELEASE
	out, err = runTool(t, "echoscu", "--abort", "-aet", "ECHOSCU", "-aec", "LIGHTBOX", h, p)
	if err != nil {
		t.Fatalf("echoscu --abort: %v\n%s", err, out)
	}
	// the server lives on
	if _, st, err := Echo(context.Background(), Target{CallingAE: "ME", CalledAE: "LIGHTBOX", Addr: addr}, Options{Timeout: 5 * time.Second}); err != nil || st != dimse.StatusSuccess {
		t.Fatalf("echo after abort: %v %v", st, err)
	}
	// wrong called AE from our own SCU reads well
	_, _, err = Echo(context.Background(), Target{CallingAE: "ME", CalledAE: "NOTME", Addr: addr}, Options{Timeout: 5 * time.Second})
	if err == nil || err.Error() != "association rejected: permanent, service-user: called AE title not recognised" {
		t.Fatalf("our SCU, wrong AE: %v", err)
	}
	_, _, err = Echo(context.Background(), Target{CallingAE: "ME", CalledAE: "LIGHTBOX", Addr: addrNone}, Options{Timeout: 5 * time.Second})
	if !errors.Is(err, ul.ErrNoContext) {
		t.Fatalf("our SCU, no context: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Active() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if srv.Active() != 0 {
		t.Fatalf("%d associations still active", srv.Active())
	}
}

// TestHundredConcurrentEchoscu: 100 DCMTK echoscu processes at once, all
// succeed with the default policy, and the server answers afterwards.
func TestHundredConcurrentEchoscu(t *testing.T) {
	srv, addr := startSCP(t, func(p *ul.Policy) {
		p.MaxAssociations = 0
		// default ACSE/ARTIM timeout (30 s, as DCMTK's): on a loaded
		// machine a starved echoscu can take seconds between connect and
		// its A-ASSOCIATE-RQ
		p.Timeouts = ul.Timeouts{}
	})
	h, p := hostPort(t, addr)
	const n = 100
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// generous: on a loaded 2-core machine starting 100 processes is slow
			t0 := time.Now()
			// echoscu's own ACSE/DIMSE timeouts (30 s by default) raised too:
			// 100 DCMTK start-ups on 2 busy cores can starve some of them
			out, err := dimsetest.Run(t, 55*time.Second, "echoscu", "-ta", "50", "-td", "50", "-aet", fmt.Sprintf("SCU%d", i), "-aec", "LIGHTBOX", h, p)
			if err != nil {
				errs <- fmt.Errorf("echoscu %d after %v: %v: %s", i, time.Since(t0).Round(time.Millisecond), err, out)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		failed++
		t.Error(err)
	}
	if failed > 0 {
		t.Fatalf("%d of %d echoscu runs failed", failed, n)
	}
	if _, st, err := Echo(context.Background(), Target{CallingAE: "ME", CalledAE: "LIGHTBOX", Addr: addr}, Options{Timeout: 5 * time.Second}); err != nil || st != dimse.StatusSuccess {
		t.Fatalf("echo after 100 concurrent: %v %v", st, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.Active() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if srv.Active() != 0 {
		t.Fatalf("%d associations still active", srv.Active())
	}
}
