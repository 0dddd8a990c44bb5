package dimse

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"

	"lightbox/backend/ul"
)

// TestRoleSelectionRequestorRequests: a C-STORE-RQ from the association
// requestor is served only where the negotiated roles leave us SCP;
// elsewhere it is refused with 0x0122 and the association goes on.
func TestRoleSelectionRequestorRequests(t *testing.T) {
	var served atomic.Int32
	mux := NewMux(Options{})
	mux.HandleFunc(ctImage, func(ctx context.Context, rw ResponseWriter, req *Message) Response {
		served.Add(1)
		io.Copy(io.Discard, req.Data)
		return Response{Status: StatusSuccess}
	})
	pol := policy(16384, ctImage, VerificationSOPClass)
	addr := serve(t, pol, mux)
	for _, tc := range []struct {
		name       string
		scu, scp   bool // roles the requestor proposes (SCP true: a role selection item)
		acceptorSC bool // we, the acceptor, are SCP after negotiation
		want       Status
	}{
		{"no role selection", false, false, true, StatusSuccess},
		{"requestor SCU and SCP", true, true, true, StatusSuccess},
		{"requestor SCP only", false, true, false, StatusSOPClassNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served.Store(0)
			a, c := dial(t, addr, 0,
				ul.ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{explLE}, SCU: tc.scu, SCP: tc.scp},
				ul.ProposedContext{AbstractSyntax: VerificationSOPClass, TransferSyntaxes: []string{implLE}})
			pc, ok := a.FindContext(ctImage)
			if !ok {
				t.Fatal("storage context not accepted")
			}
			rsp, err := c.Store(context.Background(), pc.ID, StoreRequest{SOPClassUID: ctImage, SOPInstanceUID: "1.2.3"},
				bytes.NewReader(make([]byte, 50000)))
			if err != nil {
				t.Fatal(err)
			}
			wantServed := int32(0)
			if tc.acceptorSC {
				wantServed = 1
			}
			if rsp.Status != tc.want || served.Load() != wantServed {
				t.Fatalf("status %s (%q), handler ran %d times; want %s, %d", rsp.Status, rsp.ErrorComment, served.Load(), tc.want, wantServed)
			}
			// the association lives on
			ec, _ := a.FindContext(VerificationSOPClass)
			if st, err := c.Echo(context.Background(), ec.ID); err != nil || st != StatusSuccess {
				t.Fatalf("echo after the refusal: %s %v", st, err)
			}
			if err := a.Release(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRoleSelectionAcceptorRequests: a C-STORE-RQ from the acceptor (a
// C-GET SCP's sub-operation) is served by the requestor only on a context
// where role selection made it SCP; a scripted acceptor that sends one
// anyway gets 0x0122 and the SubOps handler never runs.
func TestRoleSelectionAcceptorRequests(t *testing.T) {
	// the scripted acceptor answers each C-GET-RQ with one C-STORE-RQ on the
	// storage context, whatever the roles, and reports the sub-operation's
	// status as the C-GET's final status
	scp := ul.HandlerFunc(func(ctx context.Context, a *ul.Association) {
		c := NewConn(a, Options{})
		for {
			m, err := c.ReadMessage(ctx)
			if err != nil {
				return
			}
			io.Copy(io.Discard, m.Data)
			store, _ := a.FindContext(ctImage)
			sub := &Command{Field: CStoreRQ, MessageID: c.NextMessageID(), AffectedSOPClassUID: ctImage, AffectedSOPInstanceUID: "9.1"}
			if err := c.WriteMessage(ctx, store.ID, sub, bytes.NewReader(make([]byte, 30000))); err != nil {
				return
			}
			rsp, err := c.ReadMessage(ctx)
			if err != nil || rsp.Command.Field != CStoreRSP {
				return
			}
			c.respond(ctx, m, Response{Status: rsp.Command.Status, ErrorComment: rsp.Command.ErrorComment})
		}
	})
	addr := serve(t, policy(16384, getRoot, ctImage), scp)
	for _, tc := range []struct {
		name   string
		askSCP bool // the requestor proposes the SCP role for CT storage
		want   Status
	}{
		{"requestor granted SCP", true, StatusSuccess},
		{"requestor SCU only", false, StatusSOPClassNotSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, c := dial(t, addr, 0,
				ul.ProposedContext{AbstractSyntax: getRoot, TransferSyntaxes: []string{implLE}},
				ul.ProposedContext{AbstractSyntax: ctImage, TransferSyntaxes: []string{explLE}, SCP: tc.askSCP})
			if st, _ := a.FindContext(ctImage); st.SCP != tc.askSCP {
				t.Fatalf("storage context roles %+v", st)
			}
			pc, _ := a.FindContext(getRoot)
			var stored int
			store := HandlerFunc(func(ctx context.Context, rw ResponseWriter, req *Message) Response {
				stored++
				return Response{Status: StatusSuccess}
			})
			rsp, err := c.Get(context.Background(), pc.ID, getRoot, bytes.NewReader([]byte("id")), nil, store, nil)
			if err != nil {
				t.Fatal(err)
			}
			wantStored := 0
			if tc.askSCP {
				wantStored = 1
			}
			if rsp.Status != tc.want || stored != wantStored {
				t.Fatalf("sub-operation status %s (%q), stored %d; want %s, %d", rsp.Status, rsp.ErrorComment, stored, tc.want, wantStored)
			}
			if err := a.Release(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}
