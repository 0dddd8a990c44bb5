package ul

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"lightbox/backend/pdu"
)

// Byte fixtures of User Identity Negotiation (PS3.7 D.3.3.7).
var (
	// RQ sub-item 0x58: type 2 (username and passcode), positive response
	// requested, primary "alice", secondary "secret".
	idAliceSecretRQ = fixture(`
		58 00 0011          item type 0x58, reserved, length 17
		02                  user identity type 2: username and passcode
		01                  positive response requested
		0005 616c696365     primary field: "alice"
		0006 736563726574   secondary field: "secret"`)
	// AC sub-item 0x59 for types 1 and 2: an empty server response.
	idEmptyAC = fixture(`
		59 00 0002          item type 0x59, reserved, length 2
		0000                server response length 0`)
	// AC sub-item 0x59 carrying the server response "tok" (type 5, JWT).
	idTokAC = fixture(`
		59 00 0005          item type 0x59, reserved, length 5
		0003 746f6b         server response: "tok"`)
	// A-ASSOCIATE-RJ for an identity refused.
	idRefusedRJ = fixture(`
		03 00 00000004      A-ASSOCIATE-RJ, length 4
		00                  reserved
		01                  result: rejected-permanent
		02                  source: DICOM UL service-provider (ACSE related function)
		01                  reason: no-reason-given`)
)

// fixture decodes hex pairs, ignoring spaces and the words after them on
// each line (the annotation).
func fixture(s string) []byte {
	var h strings.Builder
	for _, line := range strings.Split(s, "\n") {
		for _, f := range strings.Fields(line) {
			if _, err := hex.DecodeString(f); err != nil {
				break
			}
			h.WriteString(f)
		}
	}
	b, err := hex.DecodeString(h.String())
	if err != nil {
		panic(err)
	}
	return b
}

// readRawPDU reads one whole PDU as bytes.
func readRawPDU(t *testing.T, p *rawPeer) []byte {
	t.Helper()
	p.SetReadDeadline(time.Now().Add(5 * time.Second))
	hdr := make([]byte, 6)
	if _, err := io.ReadFull(p, hdr); err != nil {
		t.Fatal(err)
	}
	n := int(hdr[2])<<24 | int(hdr[3])<<16 | int(hdr[4])<<8 | int(hdr[5])
	if n > 1<<16 {
		t.Fatalf("PDU of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(p, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

// aliceChecker accepts alice/secret (types 1-2) and the JWT "good"
// (type 5, answered with the server response "tok"), and requires an
// identity.
func aliceChecker(calls *int) UserIdentityFunc {
	return func(id *pdu.UserIdentityRQ, rq *pdu.AssociateRQ) ([]byte, bool) {
		*calls++
		if id == nil || rq.CallingAE != "RAW" {
			return nil, false
		}
		switch id.Type {
		case 1, 2:
			return []byte("ignored for types 1 and 2"), string(id.Primary) == "alice" && (id.Type == 1 || string(id.Secondary) == "secret")
		case 5:
			return []byte("tok"), string(id.Primary) == "good"
		}
		return nil, false
	}
}

func TestUserIdentity(t *testing.T) {
	for _, tc := range []struct {
		name      string
		checker   bool
		id        *pdu.UserIdentityRQ
		wantCalls int
		rejected  bool
		response  []byte // the 0x59 sub-item expected in the AC; nil: none
	}{
		{"unconfigured: ignored", false, &pdu.UserIdentityRQ{Type: 2, PositiveResponseRequested: true, Primary: []byte("alice"), Secondary: []byte("wrong")}, 0, false, nil},
		{"username and passcode, positive response", true, &pdu.UserIdentityRQ{Type: 2, PositiveResponseRequested: true, Primary: []byte("alice"), Secondary: []byte("secret")}, 1, false, idEmptyAC},
		{"username only, no response asked", true, &pdu.UserIdentityRQ{Type: 1, Primary: []byte("alice")}, 1, false, nil},
		{"JWT with a server response", true, &pdu.UserIdentityRQ{Type: 5, PositiveResponseRequested: true, Primary: []byte("good")}, 1, false, idTokAC},
		{"wrong passcode", true, &pdu.UserIdentityRQ{Type: 2, PositiveResponseRequested: true, Primary: []byte("alice"), Secondary: []byte("wrong")}, 1, true, nil},
		{"no identity where one is required", true, nil, 1, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			pol := basicPolicy()
			if tc.checker {
				pol.CheckUserIdentity = aliceChecker(&calls)
			}
			ts := startServer(t, pol, holdHandler(nil))
			rq := echoRQ("LIGHTBOX")
			rq.UserInfo.UserIdentity = tc.id
			b, err := pdu.Encode(rq)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "username and passcode, positive response" && !bytes.Contains(b, idAliceSecretRQ) {
				t.Fatalf("A-ASSOCIATE-RQ % x lacks the user identity fixture % x", b, idAliceSecretRQ)
			}
			p := dialRaw(t, ts.addr)
			p.Write(b)
			got := readRawPDU(t, p)
			if calls != tc.wantCalls {
				t.Errorf("checker called %d times, want %d", calls, tc.wantCalls)
			}
			if tc.rejected {
				if !bytes.Equal(got, idRefusedRJ) {
					t.Fatalf("got % x, want A-ASSOCIATE-RJ % x", got, idRefusedRJ)
				}
				ev := ts.waitEvent(t, EventRejected, 1)
				if ev[0].Reason != "permanent, service-provider (ACSE): no reason given" {
					t.Fatalf("event reason %q", ev[0].Reason)
				}
				return
			}
			x, err := pdu.Decode(got)
			if err != nil || x.Type() != pdu.TypeAssociateAC {
				t.Fatalf("got % x (%v), want an A-ASSOCIATE-AC", got, err)
			}
			ac := x.(*pdu.AssociateAC)
			if tc.response == nil {
				if ac.UserInfo.UserIdentityResponse != nil {
					t.Fatalf("unexpected user identity response in % x", got)
				}
			} else {
				if !bytes.Contains(got, tc.response) {
					t.Fatalf("A-ASSOCIATE-AC % x lacks % x", got, tc.response)
				}
				if want := tc.response[6:]; !bytes.Equal(ac.UserInfo.UserIdentityResponse, want) || ac.UserInfo.UserIdentityResponse == nil {
					t.Fatalf("decoded server response %q, want %q", ac.UserInfo.UserIdentityResponse, want)
				}
			}
			p.send(&pdu.ReleaseRQ{})
			p.expect(pdu.TypeReleaseRP)
		})
	}
}

// TestUserIdentityDial: the SCU side sends the identity and sees the
// server response, or a rejection in words.
func TestUserIdentityDial(t *testing.T) {
	calls := 0
	pol := basicPolicy()
	pol.CheckUserIdentity = func(id *pdu.UserIdentityRQ, rq *pdu.AssociateRQ) ([]byte, bool) {
		calls++
		return nil, id != nil && string(id.Primary) == "alice" && string(id.Secondary) == "secret"
	}
	ts := startServer(t, pol, holdHandler(nil))
	dial := func(pass string) (*Association, error) {
		return Dial(context.Background(), DialConfig{Addr: ts.addr, CallingAE: "SCU", CalledAE: "LIGHTBOX",
			Contexts:     []ProposedContext{{AbstractSyntax: verification, TransferSyntaxes: []string{implicitLE}}},
			UserIdentity: &pdu.UserIdentityRQ{Type: 2, PositiveResponseRequested: true, Primary: []byte("alice"), Secondary: []byte(pass)}})
	}
	a, err := dial("secret")
	if err != nil {
		t.Fatal(err)
	}
	if r := a.Accept().UserInfo.UserIdentityResponse; r == nil || len(r) != 0 {
		t.Fatalf("server response %v, want present and empty", r)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err = dial("wrong")
	var rj *RejectError
	if !errors.Is(err, ErrRejected) || !errors.As(err, &rj) || !strings.Contains(err.Error(), "permanent, service-provider (ACSE): no reason given") {
		t.Fatalf("got %v, want a permanent ACSE rejection", err)
	}
	if calls != 2 {
		t.Fatalf("checker called %d times", calls)
	}
}

// TestUserIdentityDCMTKRequest: the A-ASSOCIATE-RQ DCMTK storescu sends
// with --user alice --password secret --pos-response (a recorded fixture)
// gets an A-ASSOCIATE-AC carrying the empty server response.
func TestUserIdentityDCMTKRequest(t *testing.T) {
	raw, err := os.ReadFile("../pdu/testdata/associate_rq_storescu_user.txt")
	if err != nil {
		t.Fatal(err)
	}
	rqBytes := fixture(string(raw))
	x, err := pdu.Decode(rqBytes)
	if err != nil {
		t.Fatal(err)
	}
	rq := x.(*pdu.AssociateRQ)
	if !bytes.Contains(rqBytes, idAliceSecretRQ) {
		t.Fatal("DCMTK's user identity sub-item differs from the fixture")
	}
	for _, pass := range []string{"secret", "other"} {
		pol := basicPolicy()
		pol.AETitle = rq.CalledAE
		pol.CheckUserIdentity = func(id *pdu.UserIdentityRQ, _ *pdu.AssociateRQ) ([]byte, bool) {
			return nil, id != nil && id.Type == 2 && string(id.Primary) == "alice" && string(id.Secondary) == pass
		}
		ts := startServer(t, pol, holdHandler(nil))
		p := dialRaw(t, ts.addr)
		p.Write(rqBytes)
		got := readRawPDU(t, p)
		if pass != "secret" {
			if !bytes.Equal(got, idRefusedRJ) {
				t.Fatalf("wrong passcode: got % x", got)
			}
			continue
		}
		if got[0] != byte(pdu.TypeAssociateAC) || !bytes.HasSuffix(got, idEmptyAC) {
			t.Fatalf("A-ASSOCIATE-AC % x does not end with the user identity response % x", got, idEmptyAC)
		}
	}
}
