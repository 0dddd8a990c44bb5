package ul

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"lightbox/backend/pdu"
)

// Sentinel errors. Compare with errors.Is.
var (
	// ErrReleased: the association ended by an orderly A-RELEASE (either side).
	ErrReleased = errors.New("association released")
	// ErrPeerReleased: the peer asked for release while we waited for data;
	// the A-RELEASE-RP has been sent. errors.Is(ErrPeerReleased, ErrReleased).
	ErrPeerReleased = fmt.Errorf("%w by peer", ErrReleased)
	// ErrAborted is matched by every *AbortError.
	ErrAborted = errors.New("association aborted")
	// ErrConnectionClosed: the TCP connection closed without A-RELEASE or
	// A-ABORT (an A-P-ABORT in the standard's words).
	ErrConnectionClosed = errors.New("connection closed by peer")
	// ErrInvalidState: a primitive was requested in a state whose
	// (state, event) cell of table 9-10 is empty.
	ErrInvalidState = errors.New("not allowed in this association state")
	// ErrRejected is matched by every *RejectError.
	ErrRejected = errors.New("association rejected")
	// ErrNoContext is matched by *NoContextError.
	ErrNoContext = errors.New("no acceptable presentation context")
	// ErrTimeout is matched by *TimeoutError.
	ErrTimeout = errors.New("timed out")
)

// RejectError is an A-ASSOCIATE-RJ received (SCU side).
type RejectError struct{ RJ pdu.AssociateRJ }

func (e *RejectError) Error() string {
	return fmt.Sprintf("association rejected: %s, %s: %s", e.RJ.Result, e.RJ.Source, e.RJ.ReasonString())
}

// Is makes errors.Is(err, ErrRejected) true.
func (e *RejectError) Is(target error) bool { return target == ErrRejected }

// Transient reports whether the peer said it might accept later.
func (e *RejectError) Transient() bool { return e.RJ.Result == pdu.RejectTransient }

// AbortError is an association aborted by the peer (A-ABORT PDU received),
// by this side's protocol machine (an invalid or unexpected PDU), or locally
// by Abort.
type AbortError struct {
	ByPeer bool
	Source pdu.AbortSource
	Reason uint8
	// Detail explains a provider abort raised here (e.g. the bad PDU).
	Detail string
}

func (e *AbortError) Error() string {
	var s string
	if e.ByPeer {
		s = "aborted by peer"
		if e.Source == pdu.AbortServiceProvider {
			ab := pdu.Abort{Source: e.Source, Reason: e.Reason}
			s += " (service-provider: " + ab.ReasonString() + ")"
		}
	} else {
		s = "association aborted"
		if e.Detail != "" {
			s += ": " + e.Detail
		}
	}
	return s
}

// Is makes errors.Is(err, ErrAborted) true.
func (e *AbortError) Is(target error) bool { return target == ErrAborted }

// NoContextError: the peer accepted the association but none of the
// proposed presentation contexts (SCU side; the association is released).
type NoContextError struct {
	Results []ContextResultInfo
}

// ContextResultInfo is one rejected context in a NoContextError.
type ContextResultInfo struct {
	AbstractSyntax string
	Result         pdu.ContextResult
}

func (e *NoContextError) Error() string {
	s := "no acceptable presentation context"
	for i, r := range e.Results {
		if i == 3 {
			s += fmt.Sprintf(", ... (%d more)", len(e.Results)-3)
			break
		}
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		s += sep + r.AbstractSyntax + " " + r.Result.String()
	}
	return s
}

// Is makes errors.Is(err, ErrNoContext) true.
func (e *NoContextError) Is(target error) bool { return target == ErrNoContext }

// TimeoutError says which wait timed out and after how long.
type TimeoutError struct {
	What  string // "connect", "association", "release", "idle", ...
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s timed out after %s", e.What, e.After)
}

// Is makes errors.Is(err, ErrTimeout) and errors.Is(err, context.DeadlineExceeded) true.
func (e *TimeoutError) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Timeout implements net.Error-style checks.
func (e *TimeoutError) Timeout() bool { return true }

// DialError is a failure to open the TCP connection.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string {
	var te *TimeoutError
	switch {
	case errors.As(e.Err, &te):
		return fmt.Sprintf("%s: connect %s", e.Addr, te.Error())
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		return fmt.Sprintf("%s: connection refused", e.Addr)
	case errors.Is(e.Err, syscall.EHOSTUNREACH), errors.Is(e.Err, syscall.ENETUNREACH):
		return fmt.Sprintf("%s: host unreachable", e.Addr)
	}
	var dnsErr *net.DNSError
	if errors.As(e.Err, &dnsErr) {
		return fmt.Sprintf("%s: host not found", e.Addr)
	}
	return fmt.Sprintf("%s: %v", e.Addr, e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

func newTimer(d time.Duration) *time.Timer { return time.NewTimer(d) }
