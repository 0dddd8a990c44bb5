package ul

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lightbox/backend/pdu"
)

// standardTable is PS3.8 table 9-10 transcribed again, per state (the code
// holds it per event), so that a transposition in either shows up.
var standardTable = map[State]string{
	Sta1:  "Evt1:AE-1 Evt5:AE-5",
	Sta2:  "Evt3:AA-1 Evt4:AA-1 Evt6:AE-6 Evt10:AA-1 Evt12:AA-1 Evt13:AA-1 Evt16:AA-2 Evt17:AA-5 Evt18:AA-2 Evt19:AA-1",
	Sta3:  "Evt3:AA-8 Evt4:AA-8 Evt6:AA-8 Evt7:AE-7 Evt8:AE-8 Evt10:AA-8 Evt12:AA-8 Evt13:AA-8 Evt15:AA-1 Evt16:AA-3 Evt17:AA-4 Evt19:AA-8",
	Sta4:  "Evt2:AE-2 Evt15:AA-2 Evt17:AA-4",
	Sta5:  "Evt3:AE-3 Evt4:AE-4 Evt6:AA-8 Evt10:AA-8 Evt12:AA-8 Evt13:AA-8 Evt15:AA-1 Evt16:AA-3 Evt17:AA-4 Evt19:AA-8",
	Sta6:  "Evt3:AA-8 Evt4:AA-8 Evt6:AA-8 Evt9:DT-1 Evt10:DT-2 Evt11:AR-1 Evt12:AR-2 Evt13:AA-8 Evt15:AA-1 Evt16:AA-3 Evt17:AA-4 Evt19:AA-8",
	Sta7:  "Evt3:AA-8 Evt4:AA-8 Evt6:AA-8 Evt10:AR-6 Evt12:AR-8 Evt13:AR-3 Evt15:AA-1 Evt16:AA-3 Evt17:AA-4 Evt19:AA-8",
	Sta8:  "Evt3:AA-8 Evt4:AA-8 Evt6:AA-8 Evt9:AR-7 Evt10:AA-8 Evt12:AA-8 Evt13:AA-8 Evt14:AR-4 Evt15:AA-1 Evt16:AA-3 Evt17:AA-4 Evt19:AA-8",
	Sta9:  "Evt3:AA-8 Evt4:AA-8 Evt6:AA-8 Evt10:AA-8 Evt12:AA-8 Evt13:AA-8 Evt14:AR-9 Evt15:AA-1 Evt16:AA-3 Evt17:AA-4 Evt19:AA-8",
	Sta10: "Evt3:AA-8 Evt4:AA-8 Evt6:AA-8 Evt10:AA-8 Evt12:AA-8 Evt13:AR-10 Evt15:AA-1 Evt16:AA-3 Evt17:AA-4 Evt19:AA-8",
	Sta11: "Evt3:AA-8 Evt4:AA-8 Evt6:AA-8 Evt10:AA-8 Evt12:AA-8 Evt13:AR-3 Evt15:AA-1 Evt16:AA-3 Evt17:AA-4 Evt19:AA-8",
	Sta12: "Evt3:AA-8 Evt4:AA-8 Evt6:AA-8 Evt10:AA-8 Evt12:AA-8 Evt13:AA-8 Evt14:AR-4 Evt15:AA-1 Evt16:AA-3 Evt17:AA-4 Evt19:AA-8",
	Sta13: "Evt3:AA-6 Evt4:AA-6 Evt6:AA-7 Evt10:AA-6 Evt12:AA-6 Evt13:AA-6 Evt16:AA-2 Evt17:AR-5 Evt18:AA-2 Evt19:AA-7",
}

// effect is what an action visibly does, from PS3.8 tables 9-6..9-9.
type effect struct {
	sends   pdu.Type // 0: nothing sent
	ind     indKind  // 0: no indication
	closes  bool
	artim   int // +1 started, -1 stopped, 0 untouched
	next    State
	nextAcc State // next state when we are the association-acceptor, if different
}

var actionEffects = map[string]effect{
	"AE-1":  {next: Sta4},
	"AE-2":  {sends: pdu.TypeAssociateRQ, next: Sta5},
	"AE-3":  {ind: indAssociateAC, next: Sta6},
	"AE-4":  {ind: indAssociateRJ, closes: true, next: Sta1},
	"AE-5":  {artim: +1, next: Sta2},
	"AE-6":  {ind: indAssociateRQ, artim: -1, next: Sta3},
	"AE-7":  {sends: pdu.TypeAssociateAC, next: Sta6},
	"AE-8":  {sends: pdu.TypeAssociateRJ, artim: +1, next: Sta13},
	"DT-1":  {sends: pdu.TypePDataTF, next: Sta6},
	"DT-2":  {ind: indPData, next: Sta6},
	"AR-1":  {sends: pdu.TypeReleaseRQ, next: Sta7},
	"AR-2":  {ind: indRelease, next: Sta8},
	"AR-3":  {ind: indReleaseConfirm, closes: true, next: Sta1},
	"AR-4":  {sends: pdu.TypeReleaseRP, artim: +1, next: Sta13},
	"AR-5":  {artim: -1, closes: true, next: Sta1},
	"AR-6":  {ind: indPData, next: Sta7},
	"AR-7":  {sends: pdu.TypePDataTF, next: Sta8},
	"AR-8":  {ind: indReleaseCollision, next: Sta9, nextAcc: Sta10},
	"AR-9":  {sends: pdu.TypeReleaseRP, next: Sta11},
	"AR-10": {ind: indReleaseConfirm, next: Sta12},
	"AA-1":  {sends: pdu.TypeAbort, artim: +1, next: Sta13},
	"AA-2":  {artim: -1, closes: true, next: Sta1},
	"AA-3":  {closes: true, next: Sta1},
	"AA-4":  {closes: true, next: Sta1},
	"AA-5":  {artim: -1, closes: true, next: Sta1},
	"AA-6":  {next: Sta13},
	"AA-7":  {sends: pdu.TypeAbort, next: Sta13},
	"AA-8":  {sends: pdu.TypeAbort, artim: +1, next: Sta13},
}

type spyConn struct {
	net.Conn
	closed atomic.Bool
}

func (c *spyConn) Close() error { c.closed.Store(true); return c.Conn.Close() }

// eventInput builds the PDU / primitive argument of an event.
func eventInput(e Event) (pdu.PDU, *outgoing) {
	switch e {
	case Evt2:
		return nil, &outgoing{p: &pdu.AssociateRQ{CalledAE: "B", CallingAE: "A", Contexts: []pdu.PresentationContextRQ{{ID: 1, AbstractSyntax: "1.2", TransferSyntaxes: []string{"1.2.840.10008.1.2"}}}}}
	case Evt3:
		return &pdu.AssociateAC{}, nil
	case Evt4:
		return &pdu.AssociateRJ{Result: pdu.RejectPermanent, Source: pdu.SourceServiceUser, Reason: 1}, nil
	case Evt6:
		return &pdu.AssociateRQ{}, nil
	case Evt7:
		return nil, &outgoing{p: &pdu.AssociateAC{CalledAE: "B", CallingAE: "A"}}
	case Evt8:
		return nil, &outgoing{p: &pdu.AssociateRJ{Result: pdu.RejectTransient, Source: pdu.SourceServiceProviderPresentation, Reason: 2}}
	case Evt9:
		return nil, &outgoing{isPDV: true, ctx: context.Background(), pdvs: []pdu.PDV{{ContextID: 1, Flags: 3, Data: []byte{1, 2}}}}
	case Evt10:
		return &pdu.PDataTF{Values: []pdu.PDV{{ContextID: 1, Flags: 3, Data: []byte{9}}}}, nil
	case Evt12:
		return &pdu.ReleaseRQ{}, nil
	case Evt13:
		return &pdu.ReleaseRP{}, nil
	case Evt16:
		return &pdu.Abort{Source: pdu.AbortServiceUser}, nil
	case Evt19:
		return nil, &outgoing{p: &pdu.Abort{Source: pdu.AbortServiceProvider, Reason: pdu.AbortUnrecognizedPDU}}
	}
	return nil, nil
}

func parseRow(t *testing.T, s State) map[Event]string {
	m := map[Event]string{}
	for _, f := range strings.Fields(standardTable[s]) {
		var e int
		var a string
		if _, err := fmt.Sscanf(strings.Replace(f, ":", " ", 1), "Evt%d %s", &e, &a); err != nil {
			t.Fatalf("bad fixture %q", f)
		}
		m[Event(e)] = a
	}
	return m
}

// TestEveryCell drives every (state, event) pair of table 9-10 — the 123
// cells with an action and the 124 without — through a scripted peer on a
// net.Pipe, and checks the action taken, the PDU the peer receives, the
// indication, the transport close, the ARTIM timer and the next state.
func TestEveryCell(t *testing.T) {
	cells, empty := 0, 0
	for s := Sta1; s <= Sta13; s++ {
		row := parseRow(t, s)
		for e := Evt1; e <= Evt19; e++ {
			want, has := row[e]
			roles := []bool{true}
			if want == "AR-8" {
				roles = []bool{true, false}
			}
			for _, requestor := range roles {
				name := fmt.Sprintf("%s/%s/requestor=%v", s, fmt.Sprintf("Evt%d", e), requestor)
				t.Run(name, func(t *testing.T) {
					checkCell(t, s, e, want, has, requestor)
				})
			}
			if has {
				cells++
			} else {
				empty++
			}
		}
	}
	if cells != 123 || empty != 13*19-123 {
		t.Fatalf("fixture has %d cells with an action, %d empty; the standard has 123 and 124", cells, empty)
	}
}

func checkCell(t *testing.T, s State, e Event, want string, has bool, requestor bool) {
	ours, peer := net.Pipe()
	spy := &spyConn{Conn: ours}
	a := newAssociation(spy, requestor, Timeouts{ACSE: time.Hour}, 0, nil)
	defer func() {
		a.mu.Lock()
		a.stopARTIM()
		a.mu.Unlock()
		peer.Close()
		ours.Close()
	}()
	got := make(chan pdu.Type, 4)
	go func() {
		for {
			p, err := pdu.ReadPDU(peer, pdu.Limits{})
			if err != nil {
				close(got)
				return
			}
			got <- p.Type()
		}
	}()
	var action Action
	a.trace = func(_ State, _ Event, act Action, _ State) { action = act }
	a.state = s
	if s == Sta2 || s == Sta13 {
		a.mu.Lock()
		a.startARTIM()
		a.mu.Unlock()
	}
	p, out := eventInput(e)
	err := a.fire(e, p, out)

	if !has {
		if !errors.Is(err, ErrInvalidState) {
			t.Fatalf("empty cell: want ErrInvalidState, got %v", err)
		}
		if a.State() != s || spy.closed.Load() {
			t.Fatalf("empty cell changed the machine: state %s closed %v", a.State(), spy.closed.Load())
		}
		return
	}
	if action.String() != want {
		t.Fatalf("action %s, the standard says %s", action, want)
	}
	eff := actionEffects[want]
	next := eff.next
	if !requestor && eff.nextAcc != 0 {
		next = eff.nextAcc
	}
	if a.State() != next {
		t.Fatalf("%s: next state %s, want %s", want, a.State(), next)
	}
	if err != nil && eff.sends != 0 {
		t.Fatalf("%s: send failed: %v", want, err)
	}
	if eff.sends != 0 {
		select {
		case typ := <-got:
			if typ != eff.sends {
				t.Fatalf("%s: peer received %s, want %s", want, typ, eff.sends)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("%s: peer received nothing, want %s", want, eff.sends)
		}
	}
	if spy.closed.Load() != eff.closes {
		t.Fatalf("%s: transport closed = %v, want %v", want, spy.closed.Load(), eff.closes)
	}
	if eff.sends == 0 && !eff.closes {
		select {
		case typ, ok := <-got:
			if ok {
				t.Fatalf("%s: peer received unexpected %s", want, typ)
			}
		default:
		}
	}
	select {
	case ind := <-a.ind:
		if ind.kind != eff.ind {
			t.Fatalf("%s: indication %d, want %d", want, ind.kind, eff.ind)
		}
	default:
		if eff.ind != 0 {
			t.Fatalf("%s: no indication, want %d", want, eff.ind)
		}
	}
	a.mu.Lock()
	running := a.artim != nil
	a.mu.Unlock()
	switch eff.artim {
	case +1:
		if !running {
			t.Fatalf("%s: ARTIM not running", want)
		}
	case -1:
		if running {
			t.Fatalf("%s: ARTIM still running", want)
		}
	}
	if next == Sta1 {
		select {
		case <-a.Done():
		default:
			t.Fatalf("%s: reached Sta1 but Done is open", want)
		}
	}
}
