package verify

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"lightbox/backend/dimse"
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
	})
	return srv, ln.Addr().String()
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed (DCMTK is required for interop tests)", name)
	}
	return p
}

func runTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, needTool(t, name), args...)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
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

var _ = fmt.Sprintf
