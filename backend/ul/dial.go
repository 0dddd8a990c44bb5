package ul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"lightbox/backend/pdu"
)

// ProposedContext is one abstract syntax to propose, with its transfer
// syntaxes in order of preference. SCU/SCP are the roles we want on it;
// a role selection item is sent only when SCP is true (e.g. storage
// classes proposed for C-GET). The zero value means SCU only.
type ProposedContext struct {
	AbstractSyntax   string
	TransferSyntaxes []string
	SCU, SCP         bool
}

// DialConfig describes an association to request (SCU side).
type DialConfig struct {
	Addr      string // host:port
	CallingAE string // our AE title
	CalledAE  string // the peer's AE title
	// Contexts to propose: each gets its own presentation context ID
	// (1, 3, 5, ...), at most 128.
	Contexts []ProposedContext
	// MaxPDULength we can receive; 0 means DefaultMaxPDULength. Use
	// NoPDULimit to announce 0 (no limit).
	MaxPDULength uint32
	Timeouts     Timeouts
	// Optional user information sub-items, carried as given.
	AsyncOps     *pdu.AsyncOps
	UserIdentity *pdu.UserIdentityRQ
	ExtNeg       []pdu.ExtendedNegotiation
	Logger       *slog.Logger
	// Dial opens the transport; nil means net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NoPDULimit as MaxPDULength announces "no limit" (0 on the wire).
const NoPDULimit = ^uint32(0)

func announced(v uint32) uint32 {
	switch v {
	case 0:
		return DefaultMaxPDULength
	case NoPDULimit:
		return 0
	}
	return v
}

// Dial opens a TCP connection and negotiates an association (Evt1 → AE-1,
// Evt2 → AE-2, then AE-3 or AE-4). It returns when the association is
// established (Sta6) with at least one accepted context, or with an error:
// *DialError (connection refused, connect timeout), *RejectError,
// *AbortError, *NoContextError (the association is released first),
// *TimeoutError, or ctx's error. The caller must Release (or Close) the
// association.
func Dial(ctx context.Context, cfg DialConfig) (*Association, error) {
	if len(cfg.Contexts) == 0 || len(cfg.Contexts) > 128 {
		return nil, fmt.Errorf("ul: %d presentation contexts proposed (1..128)", len(cfg.Contexts))
	}
	rq := &pdu.AssociateRQ{
		ProtocolVersion:    1,
		CalledAE:           cfg.CalledAE,
		CallingAE:          cfg.CallingAE,
		ApplicationContext: pdu.ApplicationContextName,
		UserInfo: pdu.UserInfo{
			MaxLength:                 announced(cfg.MaxPDULength),
			ImplementationClassUID:    ImplementationClassUID,
			ImplementationVersionName: ImplementationVersionName,
			AsyncOps:                  cfg.AsyncOps,
			UserIdentity:              cfg.UserIdentity,
			ExtNeg:                    cfg.ExtNeg,
		},
	}
	seenRole := map[string]bool{}
	for i, c := range cfg.Contexts {
		rq.Contexts = append(rq.Contexts, pdu.PresentationContextRQ{
			ID: uint8(2*i + 1), AbstractSyntax: c.AbstractSyntax, TransferSyntaxes: c.TransferSyntaxes,
		})
		if c.SCP && !seenRole[c.AbstractSyntax] {
			seenRole[c.AbstractSyntax] = true
			rq.UserInfo.Roles = append(rq.UserInfo.Roles, pdu.RoleSelection{SOPClassUID: c.AbstractSyntax, SCU: c.SCU, SCP: true})
		}
	}
	if _, err := rq.AppendTo(nil); err != nil { // validate AE titles etc. before dialing
		return nil, err
	}

	log := cfg.Logger
	if log == nil {
		log = slog.New(discardHandler{})
	}
	log = log.With("peer", cfg.CalledAE, "addr", cfg.Addr)
	a := newAssociation(nil, true, cfg.Timeouts, rq.UserInfo.MaxLength, log)
	a.rq = rq
	if err := a.fire(Evt1, nil, nil); err != nil { // AE-1: issue TRANSPORT CONNECT
		return nil, err
	}
	dial := cfg.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	cctx, cancel := context.WithTimeout(ctx, a.timeouts.Connect)
	conn, err := dial(cctx, "tcp", cfg.Addr)
	cerr := cctx.Err()
	cancel()
	if err != nil {
		a.fire(Evt17, nil, nil) // AA-4 in Sta4
		if ctx.Err() != nil {
			return nil, &DialError{Addr: cfg.Addr, Err: ctx.Err()}
		}
		if cerr != nil {
			err = &TimeoutError{What: "connect", After: a.timeouts.Connect}
		}
		return nil, &DialError{Addr: cfg.Addr, Err: err}
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	a.conn = conn
	if err := a.fire(Evt2, nil, &outgoing{p: rq}); err != nil { // AE-2: send A-ASSOCIATE-RQ
		a.closeTransport()
		return nil, fmt.Errorf("sending A-ASSOCIATE-RQ: %w", err)
	}
	go a.readLoop()

	t := newTimer(a.timeouts.ACSE)
	defer t.Stop()
	select {
	case ind := <-a.ind:
		switch ind.kind {
		case indAssociateRJ:
			rj := ind.pdu.(*pdu.AssociateRJ)
			return nil, &RejectError{RJ: *rj}
		case indAssociateAC:
			ac := ind.pdu.(*pdu.AssociateAC)
			a.ac = ac
			a.peerMax = ac.UserInfo.MaxLength
			a.contexts = requestorContexts(cfg.Contexts, rq, ac)
		default:
			a.Abort()
			return nil, fmt.Errorf("ul: unexpected indication %d while negotiating", ind.kind)
		}
	case <-a.done:
		return nil, a.err
	case <-ctx.Done():
		a.Abort()
		return nil, ctx.Err()
	case <-t.C:
		a.Abort()
		return nil, &TimeoutError{What: "association negotiation", After: a.timeouts.ACSE}
	}
	var ne NoContextError
	for _, c := range a.contexts {
		if c.Accepted() {
			log.Debug("association accepted", "contexts", len(a.contexts), "peer-max-pdu", a.peerMax,
				"peer-impl", a.ac.UserInfo.ImplementationClassUID, "peer-version", a.ac.UserInfo.ImplementationVersionName)
			return a, nil
		}
		ne.Results = append(ne.Results, ContextResultInfo{AbstractSyntax: c.AbstractSyntax, Result: c.Result})
	}
	rctx, cancel2 := context.WithTimeout(ctx, a.timeouts.ACSE)
	defer cancel2()
	if err := a.Release(rctx); err != nil && !errors.Is(err, ErrReleased) {
		log.Debug("release after no accepted context failed", "err", err)
	}
	return nil, &ne
}

// requestorContexts combines the proposal with the answer. Roles are ours:
// by default SCU only; a role selection item in the AC grants what we asked.
func requestorContexts(prop []ProposedContext, rq *pdu.AssociateRQ, ac *pdu.AssociateAC) []Context {
	roles := map[string]pdu.RoleSelection{}
	for _, r := range ac.UserInfo.Roles {
		roles[r.SOPClassUID] = r
	}
	out := make([]Context, 0, len(rq.Contexts))
	for i, pc := range rq.Contexts {
		c := Context{ID: pc.ID, AbstractSyntax: pc.AbstractSyntax, Result: pdu.ContextNoReason, SCU: true}
		if r, ok := roles[pc.AbstractSyntax]; ok && prop[i].SCP {
			c.SCU = r.SCU && prop[i].SCU
			c.SCP = r.SCP && prop[i].SCP
		}
		for _, a := range ac.Contexts {
			if a.ID == pc.ID {
				c.Result = a.Result
				if a.Result == pdu.ContextAccepted {
					c.TransferSyntax = a.TransferSyntax
				}
			}
		}
		out = append(out, c)
	}
	return out
}
