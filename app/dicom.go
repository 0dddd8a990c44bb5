package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"lightbox/backend/dimse"
	"lightbox/backend/storage"
	"lightbox/backend/ul"
	"lightbox/backend/verify"
)

// listener runs the DICOM SCP (Verification, and the services registered by
// the storage code) on the user's AE title and port. A change of AE title
// or limits applies to the next association; a change of port restarts the
// listener (running associations finish on the old one).
type listener struct {
	mu     sync.Mutex
	srv    *ul.Server
	mux    *dimse.Mux
	port   int
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// AssociationEvent is the data of an "association" event.
type AssociationEvent struct {
	ID        uint64    `json:"id"`
	Kind      string    `json:"kind"` // accepted, rejected, ended, failed
	CallingAE string    `json:"callingAE"`
	CalledAE  string    `json:"calledAE"`
	Remote    string    `json:"host"`
	Reason    string    `json:"reason,omitempty"`
	Start     time.Time `json:"startedAt"`
	End       time.Time `json:"endedAt,omitempty"`
}

// policy builds the SCP policy from the settings and the registered services.
func (a *App) policy(s Settings, syntaxes map[string]ul.SyntaxPolicy) ul.Policy {
	return ul.Policy{AETitle: s.AETitle, MaxAssociations: s.MaxAssociations, Syntaxes: syntaxes,
		CallingAEs: a.allowedCallingAEs(s), CheckUserIdentity: identityCheck(s, a.store.Setting(passwordHashKey))}
}

// allowedCallingAEs is the allow-list when "only known AEs" is on.
func (a *App) allowedCallingAEs(s Settings) []string {
	if !s.AllowOnlyKnownAEs || a.knownAEs == nil {
		return nil
	}
	return a.knownAEs()
}

// StartDICOM starts the DICOM listener with the current settings. It returns
// once the port is bound (or binding failed).
func StartDICOM(a *App) error {
	s := a.GetSettings()
	mux := dimse.NewMux(dimse.Options{Logger: a.log})
	syntaxes := map[string]ul.SyntaxPolicy{dimse.VerificationSOPClass: verify.Register(mux)}
	for uid, sp := range a.registerServices(mux) {
		syntaxes[uid] = sp
	}
	a.syntaxes = syntaxes
	srv := ul.NewServer(a.policy(s, syntaxes), a.trackAssociations(mux), ul.WithLogger(a.log), ul.WithEventHook(a.associationEvent))
	l := &listener{srv: srv, mux: mux}
	a.dicom = l
	a.onSettings = func(ns Settings) {
		a.store.SetFsync(ns.Fsync)
		syn := map[string]ul.SyntaxPolicy{dimse.VerificationSOPClass: syntaxes[dimse.VerificationSOPClass]}
		for uid, sp := range storage.Policies(ns.PreferUncompressed) {
			syn[uid] = sp
		}
		a.syntaxes = syn
		srv.SetPolicy(a.policy(ns, syn))
		l.mu.Lock()
		port := l.port
		l.mu.Unlock()
		if ns.Port != port {
			if err := l.listen(a, ns.Port); err != nil {
				a.log.Error("dicom: cannot listen on the new port", "port", ns.Port, "err", err)
			}
		}
	}
	return l.listen(a, s.Port)
}

func (l *listener) listen(a *App, port int) error {
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
	if err != nil {
		err = fmt.Errorf("DICOM listener on port %d: %w", port, err)
		l.mu.Lock()
		l.err = err // the old port (if any) keeps listening
		l.mu.Unlock()
		return err
	}
	l.mu.Lock()
	l.err = nil
	old := l.cancel
	ctx, cancel := context.WithCancel(a.ctx)
	l.cancel, l.port, l.done = cancel, port, make(chan struct{})
	done := l.done
	l.mu.Unlock()
	if old != nil {
		// Stop accepting on the old port; its running associations finish
		// on their own (Serve returns, and closes oldDone, after them).
		old()
	}
	a.log.Info("dicom: listening", "aet", a.GetSettings().AETitle, "port", port)
	go func() {
		defer close(done)
		if err := l.srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, net.ErrClosed) {
			a.log.Error("dicom: listener stopped", "err", err)
		}
	}()
	return nil
}

func (a *App) stopDICOM() {
	l := a.dicom
	if l == nil {
		return
	}
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel != nil {
		cancel()
		l.srv.Close() // ends running associations too
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	}
}

func (a *App) associationEvent(e ul.AssociationEvent) {
	ev := AssociationEvent{ID: e.ID, CallingAE: e.CallingAE, CalledAE: e.CalledAE, Remote: e.Remote, Reason: e.Reason,
		Start: e.Start, End: e.End}
	switch e.Kind {
	case ul.EventAccepted:
		ev.Kind = "accepted"
	case ul.EventRejected:
		ev.Kind = "rejected"
		if strings.Contains(ev.Reason, "service-provider (ACSE)") && a.GetSettings().RequireUserIdentity {
			// the listener rejects so only for the user identity check
			ev.Reason += ": no user identity, or not the one this listener requires (Settings, Sender identity)"
		}
	case ul.EventEnded:
		ev.Kind = "ended"
	default:
		ev.Kind = "failed"
		if e.Err != nil && ev.Reason == "" {
			ev.Reason = e.Err.Error()
		}
	}
	a.log.Debug("dicom: association", "kind", ev.Kind, "calling", ev.CallingAE, "remote", ev.Remote)
	a.emit("association", ev)
	// Associations refused before the services ran are listed in the
	// Incoming panel too (who tried, and why it failed); a connection
	// closed before it sent anything (a port check) is not.
	switch {
	case e.Kind == ul.EventRejected, e.Kind == ul.EventFailed && (e.CallingAE != "" || !errors.Is(e.Err, ul.ErrConnectionClosed)):
		host := e.Remote
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		a.activity().Refused(ev.Kind, e.CallingAE, e.CalledAE, host, ev.Reason, e.Start, e.End)
	}
}

// EchoResult answers Echo.
type EchoResult struct {
	OK       bool    `json:"ok"`
	Millis   float64 `json:"millis"`
	Status   string  `json:"status,omitempty"` // the DIMSE status, when a response came
	Error    string  `json:"error,omitempty"`  // the transport error, in words
	HostPort string  `json:"hostPort"`
}

// EchoAddress sends a C-ECHO to a node given by address. A transport
// failure is reported in Error; a DIMSE status other than Success in Status.
func (a *App) EchoAddress(calledAE, host string, port int, timeoutSeconds float64) EchoResult {
	return a.echo(calledAE, net.JoinHostPort(host, strconv.Itoa(port)), timeoutSeconds)
}

func (a *App) echo(calledAE, addr string, timeoutSeconds float64) EchoResult {
	if timeoutSeconds <= 0 {
		timeoutSeconds = 10
	}
	r := EchoResult{HostPort: addr}
	rtt, st, err := verify.Echo(a.ctx, verify.Target{CallingAE: a.GetSettings().AETitle, CalledAE: calledAE, Addr: addr},
		verify.Options{Timeout: time.Duration(timeoutSeconds * float64(time.Second)), Logger: a.log})
	r.Millis = float64(rtt.Microseconds()) / 1000
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Status = st.String()
	r.OK = st.OK()
	return r
}
