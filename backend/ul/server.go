package ul

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lightbox/backend/pdu"
)

// SyntaxPolicy is what the SCP accepts for one abstract syntax.
type SyntaxPolicy struct {
	// TransferSyntaxes accepted, in our order of preference: the first one
	// the requestor proposed in the context is chosen (unless
	// RequestorOrder).
	TransferSyntaxes []string
	// RequestorOrder chooses instead the first transfer syntax in the
	// requestor's proposal (its order of preference, PS3.8 9.3.2.2) that
	// is among TransferSyntaxes. The zero value keeps our order, which
	// callers with a preference of their own (e.g. "prefer uncompressed")
	// rely on.
	RequestorOrder bool
	// AllowRequestorSCP lets the requestor take the SCP role through role
	// selection (we then act as SCU on that context, e.g. a C-GET SCP
	// sending C-STORE sub-operations). The requestor's SCU role is always
	// granted when it asks for it.
	AllowRequestorSCP bool
}

// Policy is the SCP's negotiation policy. A Server holds one Policy value;
// replace it with SetPolicy (takes effect for the next association).
// Do not modify a Policy (or its maps) after handing it to the server.
type Policy struct {
	// AETitle is our AE title. An A-ASSOCIATE-RQ calling another title is
	// rejected (permanent, service-user, called AE title not recognised)
	// unless AcceptAnyCalledAE is set.
	AETitle           string
	AcceptAnyCalledAE bool
	// CallingAEs, when non-empty, is the allow-list of calling AE titles
	// (else: rejected with calling AE title not recognised).
	CallingAEs []string
	// Syntaxes maps abstract syntax UIDs to what we accept.
	Syntaxes map[string]SyntaxPolicy
	// MaxAssociations bounds simultaneous established associations; beyond
	// it, A-ASSOCIATE-RJ transient, service-provider (presentation), local
	// limit exceeded. 0 means DefaultMaxAssociations.
	MaxAssociations int
	// MaxPDULength we announce; 0 means DefaultMaxPDULength, NoPDULimit
	// announces 0.
	MaxPDULength uint32
	Timeouts     Timeouts
	// CheckUserIdentity, when set, validates User Identity Negotiation
	// (PS3.7 D.3.3.7); nil ignores any user identity item, as before. It is
	// called once per A-ASSOCIATE-RQ that passed the AE title checks, with
	// the request's user identity item (nil when it has none: the function
	// decides whether an identity is required). See UserIdentityFunc.
	CheckUserIdentity UserIdentityFunc
}

// UserIdentityFunc validates the user identity of an A-ASSOCIATE-RQ (id
// may be nil; rq is the whole request, for its AE titles). ok false
// rejects the association: A-ASSOCIATE-RJ permanent, source service
// provider (ACSE related function), no reason given, as PS3.7 D.3.3.7
// asks for an authorisation failure. When ok and the requestor asked for
// a positive response, the A-ASSOCIATE-AC carries the User Identity
// server response item (0x59) with response as its server response; for
// identity types 1 and 2 (username, username and passcode) the server
// response is always empty, as the standard says; a response longer than
// 65535 bytes (which cannot be encoded) rejects. The function runs on
// the connection's goroutine during negotiation: keep it fast, and never
// log id.Primary or id.Secondary (credentials).
type UserIdentityFunc func(id *pdu.UserIdentityRQ, rq *pdu.AssociateRQ) (response []byte, ok bool)

// DefaultMaxAssociations applies when Policy.MaxAssociations is 0.
const DefaultMaxAssociations = 100

func (p *Policy) maxAssoc() int {
	if p.MaxAssociations <= 0 {
		return DefaultMaxAssociations
	}
	return p.MaxAssociations
}

// Handler serves one established association. It runs in its own goroutine;
// when it returns, the server releases (if still established) or aborts the
// association. ctx is cancelled when the server shuts down.
type Handler interface {
	ServeAssociation(ctx context.Context, a *Association)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, a *Association)

// ServeAssociation implements Handler.
func (f HandlerFunc) ServeAssociation(ctx context.Context, a *Association) { f(ctx, a) }

// EventKind tells what happened to an incoming association.
type EventKind uint8

// Association event kinds, for an "incoming" activity panel.
const (
	EventAccepted EventKind = iota + 1 // A-ASSOCIATE-AC sent
	EventRejected                      // A-ASSOCIATE-RJ sent (Reason says why)
	EventEnded                         // an accepted association ended (Err nil after release)
	EventFailed                        // the connection ended before negotiation (garbage, timeout)
)

func (k EventKind) String() string {
	switch k {
	case EventAccepted:
		return "accepted"
	case EventRejected:
		return "rejected"
	case EventEnded:
		return "ended"
	case EventFailed:
		return "failed"
	}
	return "?"
}

// AssociationEvent reports an incoming association; it carries AE titles
// and addresses only (no patient data).
type AssociationEvent struct {
	Kind      EventKind
	ID        uint64 // per-server sequence number, same for Accepted and Ended
	CallingAE string
	CalledAE  string
	Remote    string // host:port
	Start     time.Time
	End       time.Time // for EventEnded, EventRejected, EventFailed
	Reason    string    // for EventRejected (in words)
	Err       error     // for EventEnded / EventFailed: nil after an orderly release
}

// Server accepts associations on listeners under a Policy. It is safe for
// concurrent use; SetPolicy may be called while serving.
type Server struct {
	policy  atomic.Pointer[Policy]
	handler Handler
	log     *slog.Logger
	onEvent func(AssociationEvent)

	seq    atomic.Uint64
	active atomic.Int64 // established associations
	conns  atomic.Int64 // open connections (any state)

	// associations run under base, not under a Serve context, so that a
	// listener can be replaced (port change) without cutting them
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ServerOption configures a Server.
type ServerOption func(*Server)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) ServerOption { return func(s *Server) { s.log = l } }

// WithEventHook sets a function called (synchronously, keep it fast) for
// each association event.
func WithEventHook(f func(AssociationEvent)) ServerOption {
	return func(s *Server) { s.onEvent = f }
}

// NewServer returns a server with policy p dispatching established
// associations to h.
func NewServer(p Policy, h Handler, opts ...ServerOption) *Server {
	s := &Server{handler: h, log: slog.New(discardHandler{})}
	s.base, s.cancel = context.WithCancel(context.Background())
	for _, o := range opts {
		o(s)
	}
	s.SetPolicy(p)
	return s
}

// SetPolicy replaces the policy; associations already running keep theirs.
func (s *Server) SetPolicy(p Policy) { s.policy.Store(&p) }

// Policy returns the current policy.
func (s *Server) Policy() Policy { return *s.policy.Load() }

// Active returns the number of established associations.
func (s *Server) Active() int { return int(s.active.Load()) }

func (s *Server) emit(e AssociationEvent) {
	if s.onEvent != nil {
		s.onEvent(e)
	}
}

// Serve accepts connections on ln until ctx is cancelled or ln fails; it
// closes ln and returns nil after a cancel. Associations already accepted
// keep running: to change the port, cancel Serve's ctx and call Serve with
// the new listener. Close ends everything. To change the AE title or
// limits, call SetPolicy. Serve may run on several listeners at once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	closed := context.AfterFunc(s.base, cancel) // Close stops Serve too
	defer closed()
	var tempDelay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				ln.Close()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			ln.Close()
			return err
		}
		tempDelay = 0
		pol := s.policy.Load()
		// hard bound on open connections: the association limit plus room to
		// read and reject the excess politely
		if s.conns.Load() >= int64(2*pol.maxAssoc()+8) {
			s.log.Warn("too many connections, closing", "remote", conn.RemoteAddr().String())
			conn.Close()
			continue
		}
		s.conns.Add(1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.conns.Add(-1)
			s.serveConn(s.base, conn, pol)
		}()
	}
}

// Close aborts every association of the server, stops its Serve calls,
// and returns when all handlers have returned. The server cannot be used
// afterwards.
func (s *Server) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// ListenAndServe listens on addr (e.g. ":11112") and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

func (s *Server) serveConn(ctx context.Context, conn net.Conn, pol *Policy) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	id := s.seq.Add(1)
	start := time.Now()
	remote := conn.RemoteAddr().String()
	log := s.log.With("assoc", id, "remote", remote)
	a := newAssociation(conn, false, pol.Timeouts, announced(pol.MaxPDULength), log)
	a.fire(Evt5, nil, nil) // AE-5: start ARTIM, Sta2
	go a.readLoop()
	stopAbort := context.AfterFunc(ctx, a.Abort)
	defer stopAbort()

	var rq *pdu.AssociateRQ
	select {
	case ind := <-a.ind:
		if ind.kind != indAssociateRQ {
			a.Abort()
			return
		}
		rq = ind.pdu.(*pdu.AssociateRQ)
	case <-a.done:
		log.Info("connection ended before association", "err", a.err)
		s.emit(AssociationEvent{Kind: EventFailed, ID: id, Remote: remote, Start: start, End: time.Now(), Err: a.err})
		return
	}
	a.rq = rq
	ev := AssociationEvent{ID: id, CallingAE: rq.CallingAE, CalledAE: rq.CalledAE, Remote: remote, Start: start}

	ac, rj := Negotiate(pol, rq)
	if rj == nil {
		if n := s.active.Add(1); n > int64(pol.maxAssoc()) {
			s.active.Add(-1)
			ac, rj = nil, &pdu.AssociateRJ{Result: pdu.RejectTransient, Source: pdu.SourceServiceProviderPresentation, Reason: pdu.ReasonLocalLimitExceeded}
		}
	}
	if rj != nil {
		a.fire(Evt8, nil, &outgoing{p: rj}) // AE-8: send A-ASSOCIATE-RJ, ARTIM, Sta13
		ev.Kind, ev.End, ev.Reason = EventRejected, time.Now(), fmt.Sprintf("%s, %s: %s", rj.Result, rj.Source, rj.ReasonString())
		log.Info("association rejected", "calling", rq.CallingAE, "called", rq.CalledAE, "reason", ev.Reason)
		s.emit(ev)
		<-a.done // ARTIM or the peer's close ends Sta13
		return
	}
	defer s.active.Add(-1)
	a.ac = ac
	a.peerMax = rq.UserInfo.MaxLength
	a.contexts = acceptorContexts(rq, ac)
	if err := a.fire(Evt7, nil, &outgoing{p: ac}); err != nil { // AE-7: send A-ASSOCIATE-AC, Sta6
		a.Abort()
		if e := a.Err(); e != nil {
			err = e // e.g. the peer aborted while we negotiated
		}
		log.Info("association failed during negotiation", "err", err)
		ev.Kind, ev.End, ev.Err = EventFailed, time.Now(), err
		s.emit(ev)
		return
	}
	accepted := 0
	for _, c := range a.contexts {
		if c.Accepted() {
			accepted++
		}
	}
	log.Info("association accepted", "calling", rq.CallingAE, "called", rq.CalledAE, "contexts", len(a.contexts), "accepted", accepted)
	ev.Kind = EventAccepted
	s.emit(ev)

	s.handler.ServeAssociation(ctx, a)

	switch a.State() {
	case Sta6:
		if ctx.Err() != nil {
			a.Abort() // shutting down
		} else {
			a.Close()
		}
	case Sta1:
	default:
		if a.Err() == nil {
			a.Abort()
		}
	}
	<-a.done
	err := a.err
	if errors.Is(err, ErrReleased) {
		err = nil
	}
	ev.Kind, ev.End, ev.Err = EventEnded, time.Now(), err
	log.Info("association ended", "err", err, "duration", ev.End.Sub(start).Round(time.Millisecond))
	s.emit(ev)
}

// Negotiate applies policy p to an A-ASSOCIATE-RQ: it returns either the
// A-ASSOCIATE-AC to send or the A-ASSOCIATE-RJ. The association limit is
// not checked here (the Server does it). Exported for tests and tools.
func Negotiate(p *Policy, rq *pdu.AssociateRQ) (*pdu.AssociateAC, *pdu.AssociateRJ) {
	if rq.ApplicationContext != pdu.ApplicationContextName {
		return nil, &pdu.AssociateRJ{Result: pdu.RejectPermanent, Source: pdu.SourceServiceUser, Reason: pdu.ReasonAppContextNotSupported}
	}
	if !p.AcceptAnyCalledAE && rq.CalledAE != strings.TrimSpace(p.AETitle) {
		return nil, &pdu.AssociateRJ{Result: pdu.RejectPermanent, Source: pdu.SourceServiceUser, Reason: pdu.ReasonCalledAENotRecognized}
	}
	if len(p.CallingAEs) > 0 && !slices.Contains(p.CallingAEs, rq.CallingAE) {
		return nil, &pdu.AssociateRJ{Result: pdu.RejectPermanent, Source: pdu.SourceServiceUser, Reason: pdu.ReasonCallingAENotRecognized}
	}
	var idResponse []byte // the 0x59 sub-item's server response, nil for none
	if p.CheckUserIdentity != nil {
		id := rq.UserInfo.UserIdentity
		rsp, ok := p.CheckUserIdentity(id, rq)
		if !ok || len(rsp) > 0xFFFF { // a longer response cannot be encoded
			return nil, &pdu.AssociateRJ{Result: pdu.RejectPermanent, Source: pdu.SourceServiceProviderACSE, Reason: pdu.ReasonACSENoReasonGiven}
		}
		if id != nil && id.PositiveResponseRequested {
			idResponse = []byte{}
			if id.Type > 2 {
				idResponse = append(idResponse, rsp...)
			}
		}
	}
	ac := &pdu.AssociateAC{
		ProtocolVersion:    1,
		CalledAE:           rq.CalledAE,
		CallingAE:          rq.CallingAE,
		ApplicationContext: pdu.ApplicationContextName,
		UserInfo: pdu.UserInfo{
			MaxLength:                 announced(p.MaxPDULength),
			ImplementationClassUID:    ImplementationClassUID,
			ImplementationVersionName: ImplementationVersionName,
			UserIdentityResponse:      idResponse,
		},
	}
	if rq.UserInfo.AsyncOps != nil {
		ac.UserInfo.AsyncOps = &pdu.AsyncOps{Invoked: 1, Performed: 1} // we perform one at a time
	}
	for _, pc := range rq.Contexts {
		r := pdu.PresentationContextAC{ID: pc.ID}
		sp, ok := p.Syntaxes[pc.AbstractSyntax]
		switch {
		case !ok:
			r.Result = pdu.ContextAbstractSyntaxNotSupported
		default:
			r.Result = pdu.ContextTransferSyntaxesNotSupported
			if ts, ok := chooseTS(sp, pc.TransferSyntaxes); ok {
				r.Result, r.TransferSyntax = pdu.ContextAccepted, ts
			}
		}
		if r.Result != pdu.ContextAccepted && len(pc.TransferSyntaxes) > 0 {
			r.TransferSyntax = pc.TransferSyntaxes[0] // value not significant, sent for old peers
		}
		ac.Contexts = append(ac.Contexts, r)
	}
	seen := map[string]bool{}
	for _, role := range rq.UserInfo.Roles {
		sp, ok := p.Syntaxes[role.SOPClassUID]
		if !ok || seen[role.SOPClassUID] {
			continue
		}
		seen[role.SOPClassUID] = true
		ac.UserInfo.Roles = append(ac.UserInfo.Roles, pdu.RoleSelection{
			SOPClassUID: role.SOPClassUID,
			SCU:         role.SCU,
			SCP:         role.SCP && sp.AllowRequestorSCP,
		})
	}
	return ac, nil
}

// chooseTS picks the transfer syntax of a proposed context: the first of
// ours the requestor proposed, or with RequestorOrder the first proposed
// that we accept.
func chooseTS(sp SyntaxPolicy, proposed []string) (string, bool) {
	prefer, accept := sp.TransferSyntaxes, proposed
	if sp.RequestorOrder {
		prefer, accept = proposed, sp.TransferSyntaxes
	}
	for _, ts := range prefer {
		if slices.Contains(accept, ts) {
			return ts, true
		}
	}
	return "", false
}

// acceptorContexts: our roles as acceptor. Without role selection we are
// SCP; with it, we are SCP if the requestor keeps the SCU role and SCU if
// the requestor was granted the SCP role.
func acceptorContexts(rq *pdu.AssociateRQ, ac *pdu.AssociateAC) []Context {
	roles := map[string]pdu.RoleSelection{}
	for _, r := range ac.UserInfo.Roles {
		roles[r.SOPClassUID] = r
	}
	out := make([]Context, 0, len(rq.Contexts))
	for i, pc := range rq.Contexts {
		c := Context{ID: pc.ID, AbstractSyntax: pc.AbstractSyntax, Result: ac.Contexts[i].Result, SCP: true}
		if c.Accepted() {
			c.TransferSyntax = ac.Contexts[i].TransferSyntax
		}
		if r, ok := roles[pc.AbstractSyntax]; ok {
			c.SCP, c.SCU = r.SCU, r.SCP
		}
		out = append(out, c)
	}
	return out
}
