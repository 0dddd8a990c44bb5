// Package verify is the Verification service (C-ECHO): an SCU function for
// the CLI and the UI, and the SCP handler registered on a dimse.Mux.
//
// Echo opens its own association, sends one C-ECHO-RQ, releases, and
// returns; it keeps nothing. The SCP handler holds no state and is safe for
// concurrent use by any number of associations.
package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"lightbox/backend/dimse"
	"lightbox/backend/ul"
)

// Transfer syntaxes used for Verification.
const (
	ImplicitVRLittleEndian = "1.2.840.10008.1.2"
	ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
)

// Target is the peer to verify.
type Target struct {
	CallingAE string // our AE title
	CalledAE  string // the peer's AE title
	Addr      string // host:port
}

// Options tune Echo. Zero values take defaults.
type Options struct {
	// Timeout bounds the whole echo (connect, negotiation, C-ECHO,
	// release); default 10 s.
	Timeout time.Duration
	// MaxPDULength we announce (0: ul default).
	MaxPDULength uint32
	Logger       *slog.Logger
}

// DefaultTimeout applies when Options.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// Echo requests an association with the Verification SOP class, sends
// C-ECHO-RQ, and releases. rtt is the C-ECHO request-response time.
// err != nil when the exchange did not happen; its text reads well on its
// own ("127.0.0.1:104: connection refused", "association rejected:
// permanent, service-user: called AE title not recognised", "aborted by
// peer", "timed out after 5s"). status is the C-ECHO-RSP status when err
// is nil (normally dimse.StatusSuccess).
func Echo(ctx context.Context, t Target, opts Options) (rtt time.Duration, status dimse.Status, err error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if err != nil && parent.Err() == nil && ctx.Err() != nil {
			err = &EchoTimeout{Addr: t.Addr, After: timeout, Err: err}
		}
	}()
	a, err := ul.Dial(ctx, ul.DialConfig{
		Addr:      t.Addr,
		CallingAE: t.CallingAE,
		CalledAE:  t.CalledAE,
		Contexts: []ul.ProposedContext{{
			AbstractSyntax:   dimse.VerificationSOPClass,
			TransferSyntaxes: []string{ImplicitVRLittleEndian, ExplicitVRLittleEndian},
		}},
		MaxPDULength: opts.MaxPDULength,
		Timeouts:     ul.Timeouts{Connect: timeout, ACSE: timeout},
		Logger:       opts.Logger,
	})
	if err != nil {
		return 0, 0, err
	}
	pc, _ := a.FindContext(dimse.VerificationSOPClass)
	c := dimse.NewConn(a, dimse.Options{Timeout: timeout, Logger: opts.Logger})
	start := time.Now()
	status, err = c.Echo(ctx, pc.ID)
	rtt = time.Since(start)
	if err != nil {
		a.Abort()
		return rtt, 0, err
	}
	if rerr := a.Release(ctx); rerr != nil && !errors.Is(rerr, ul.ErrReleased) {
		// the echo itself succeeded; a failed release is worth a log only
		if opts.Logger != nil {
			opts.Logger.Debug("release after C-ECHO failed", "err", rerr)
		}
	}
	return rtt, status, nil
}

// EchoTimeout is returned when Echo's overall timeout expired.
type EchoTimeout struct {
	Addr  string
	After time.Duration
	Err   error // what was interrupted
}

func (e *EchoTimeout) Error() string {
	return fmt.Sprintf("%s: timed out after %s", e.Addr, e.After)
}

// Unwrap returns the interrupted operation's error.
func (e *EchoTimeout) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ul.ErrTimeout) true.
func (e *EchoTimeout) Is(target error) bool { return target == ul.ErrTimeout }

// Handler answers every C-ECHO-RQ with Success.
var Handler dimse.Handler = dimse.HandlerFunc(func(ctx context.Context, rw dimse.ResponseWriter, req *dimse.Message) dimse.Response {
	if req.Command.Field != dimse.CEchoRQ {
		return dimse.Response{Status: dimse.StatusUnrecognizedOperation}
	}
	return dimse.Response{Status: dimse.StatusSuccess}
})

// Register adds the Verification SCP to mux and returns the syntax policy
// to put in ul.Policy.Syntaxes[dimse.VerificationSOPClass].
func Register(mux *dimse.Mux) ul.SyntaxPolicy {
	mux.Handle(dimse.VerificationSOPClass, Handler)
	return ul.SyntaxPolicy{TransferSyntaxes: []string{ExplicitVRLittleEndian, ImplicitVRLittleEndian}}
}
