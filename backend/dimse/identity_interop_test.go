package dimse

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/backend/dimse/dimsetest"
	"lightbox/backend/pdu"
)

// TestInteropUserIdentity: DCMTK storescu --user/--password (with
// --pos-response) against our SCP with an identity checker: the right
// passcode stores the object and storescu sees the positive response; a
// wrong one is rejected (permanent, ACSE) and nothing is stored.
func TestInteropUserIdentity(t *testing.T) {
	f := ctFiles(t)[0]
	scp := newStoreSCP(t)
	mux := NewMux(Options{})
	mux.Handle(ctImage, scp)
	pol := storagePolicy("LBXSCP")
	var mu sync.Mutex
	var seen []string
	pol.CheckUserIdentity = func(id *pdu.UserIdentityRQ, rq *pdu.AssociateRQ) ([]byte, bool) {
		if id == nil {
			return nil, false
		}
		mu.Lock()
		seen = append(seen, string(id.Primary))
		mu.Unlock()
		return nil, id.Type == 2 && string(id.Primary) == "alice" && string(id.Secondary) == "secret"
	}
	addr := serve(t, pol, mux)
	h, p, _ := net.SplitHostPort(addr)
	for _, tc := range []struct {
		name, pass string
		ok         bool
	}{
		{"right passcode", "secret", true},
		{"wrong passcode", "nope", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scp.mu.Lock()
			delete(scp.got, f.sopUID)
			scp.mu.Unlock()
			out, err := dimsetest.Run(t, 30*time.Second, "storescu", "-v", "-aet", "STORESCU", "-aec", "LBXSCP",
				"--user", "alice", "--password", tc.pass, "--pos-response", h, p, f.path)
			if tc.ok {
				if err != nil {
					t.Fatalf("storescu: %v\n%s", err, out)
				}
				scp.mu.Lock()
				defer scp.mu.Unlock()
				if scp.got[f.sopUID] != f.sum {
					t.Fatalf("object not stored intact\n%s", out)
				}
				return
			}
			if err == nil || !strings.Contains(out, "Association Rejected") || !strings.Contains(out, "Rejected Permanent") {
				t.Fatalf("storescu with a wrong passcode: %v\n%s", err, out)
			}
			scp.mu.Lock()
			defer scp.mu.Unlock()
			if _, stored := scp.got[f.sopUID]; stored {
				t.Fatal("stored despite the rejection")
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(seen, ",") != "alice,alice" {
		t.Fatalf("checker saw %v", seen)
	}
	// storescu does check the response: without a checker (identity
	// ignored, no server response item) it gives up after association
	plain := serve(t, storagePolicy("LBXSCP"), mux)
	h, p, _ = net.SplitHostPort(plain)
	out, err := dimsetest.Run(t, 30*time.Second, "storescu", "-aet", "STORESCU", "-aec", "LBXSCP",
		"--user", "alice", "--password", "secret", "--pos-response", h, p, f.path)
	if err == nil || !strings.Contains(out, "Positive response requested but none received") {
		t.Fatalf("storescu expecting a positive response from a server without identity checks: %v\n%s", err, out)
	}
}
