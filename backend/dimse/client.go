package dimse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"lightbox/backend/ul"
)

// Exchange customises Request for operations with several responses.
type Exchange struct {
	// OnPending is called for each pending response, in order. Its data
	// set (a C-FIND match) can be read from rsp.Data during the call. An
	// error stops the exchange: C-CANCEL is sent and the error returned once
	// the final response arrives.
	OnPending func(ctx context.Context, rsp *Message) error
	// SubOps serves requests the peer sends on this association during the
	// operation: the C-STORE sub-operations of a C-GET. nil answers them
	// with StatusSOPClassNotSupported.
	SubOps Handler
	// Cancel, when closed, makes Request send one C-CANCEL-RQ; it then
	// keeps reading until the final response (usually status Cancel).
	Cancel <-chan struct{}
}

// Request sends a request (cmd with an optional data set) on presentation
// context ctxID and reads responses until a final (non-pending) one, which
// it returns. If cmd.MessageID is 0 a fresh one is assigned.
//
// err != nil means the exchange failed at the transport or protocol
// level (no usable final response): *ul.AbortError, ul.ErrConnectionClosed,
// a *ul.TimeoutError for the DIMSE timeout (the association is then
// aborted), ctx's error. A final response with a Failure status is NOT an
// error: look at rsp.Command.Status.
func (c *Conn) Request(ctx context.Context, ctxID uint8, cmd *Command, data io.Reader, ex *Exchange) (*Message, error) {
	if cmd.MessageID == 0 {
		cmd.MessageID = c.NextMessageID()
	}
	if ex == nil {
		ex = &Exchange{}
	}
	if err := c.WriteMessage(ctx, ctxID, cmd, data); err != nil {
		return nil, err
	}
	var cancelOnce sync.Once
	sendCancel := func() {
		cancelOnce.Do(func() {
			cc := &Command{Field: CCancelRQ, MessageIDBeingRespondedTo: cmd.MessageID}
			if err := c.WriteMessage(ctx, ctxID, cc, nil); err != nil {
				c.log.Debug("sending C-CANCEL-RQ failed", "err", err)
			}
		})
	}
	var stopped error
	if ex.Cancel != nil {
		// watch for cancellation while we block in ReadMessage
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-ex.Cancel:
				sendCancel()
			case <-done:
			}
		}()
	}
	for {
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if c.opts.Timeout > 0 {
			rctx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
		}
		m, err := c.ReadMessage(rctx)
		timedOut := rctx.Err() != nil && ctx.Err() == nil
		cancel() // the timeout covers the wait for the command; its data set has its own per fragment
		if err != nil {
			if timedOut {
				c.a.Abort()
				return nil, &ul.TimeoutError{What: "DIMSE response", After: c.opts.Timeout}
			}
			return nil, err
		}
		if m.Data != nil {
			m.Data.ctx = ctx
		}
		f := m.Command.Field
		if !f.IsResponse() {
			// a request from the peer during our operation (C-GET's C-STORE)
			h := ex.SubOps
			if h == nil || f == CCancelRQ {
				h = refuse
			}
			h = roleHandler(c.log, h, m)
			if f != CCancelRQ {
				resp := call(ctx, c.log, h, &responder{c: c, req: m, wctx: ctx}, m)
				if m.Data != nil {
					if err := m.Data.discard(); err != nil {
						return nil, err
					}
				}
				if err := c.respond(ctx, m, resp); err != nil {
					return nil, err
				}
			}
			continue
		}
		if f != cmd.Field.Response() || m.Command.MessageIDBeingRespondedTo != cmd.MessageID {
			c.a.Abort()
			return nil, fmt.Errorf("%w: %s for message %d while waiting for %s of message %d",
				ErrProtocol, f, m.Command.MessageIDBeingRespondedTo, cmd.Field.Response(), cmd.MessageID)
		}
		if m.Command.Status.IsPending() {
			if ex.OnPending != nil && stopped == nil {
				if err := ex.OnPending(ctx, m); err != nil {
					stopped = err
					sendCancel()
				}
			}
			continue
		}
		if stopped != nil {
			return m, stopped
		}
		return m, nil
	}
}

// Echo sends C-ECHO-RQ on ctxID and returns the response status.
func (c *Conn) Echo(ctx context.Context, ctxID uint8) (Status, error) {
	cmd := &Command{Field: CEchoRQ, AffectedSOPClassUID: VerificationSOPClass}
	m, err := c.Request(ctx, ctxID, cmd, nil, nil)
	if err != nil {
		return 0, err
	}
	return m.Command.Status, nil
}

// VerificationSOPClass is the Verification SOP Class UID.
const VerificationSOPClass = "1.2.840.10008.1.1"

// StoreRequest describes one C-STORE-RQ.
type StoreRequest struct {
	SOPClassUID    string
	SOPInstanceUID string
	Priority       Priority
	// Set when the store is a C-MOVE sub-operation.
	MoveOriginatorAE        string
	MoveOriginatorMessageID Opt16
}

// Store sends one C-STORE-RQ with the data set streamed from data (the
// bytes must already be in the context's transfer syntax) and returns
// the C-STORE-RSP. Many Stores may follow each other on one association.
func (c *Conn) Store(ctx context.Context, ctxID uint8, req StoreRequest, data io.Reader) (*Command, error) {
	if data == nil {
		return nil, errors.New("dimse: C-STORE needs a data set")
	}
	cmd := &Command{
		Field:                   CStoreRQ,
		AffectedSOPClassUID:     req.SOPClassUID,
		AffectedSOPInstanceUID:  req.SOPInstanceUID,
		Priority:                req.Priority,
		MoveOriginatorAE:        req.MoveOriginatorAE,
		MoveOriginatorMessageID: req.MoveOriginatorMessageID,
	}
	m, err := c.Request(ctx, ctxID, cmd, data, nil)
	if err != nil {
		return nil, err
	}
	return m.Command, nil
}

// Find sends a C-FIND-RQ with the identifier data set and calls onMatch
// for each pending response (its identifier readable from rsp.Data during
// the call). Closing cancel sends C-CANCEL. Returns the final response.
func (c *Conn) Find(ctx context.Context, ctxID uint8, sopClass string, identifier io.Reader,
	onMatch func(ctx context.Context, rsp *Message) error, cancel <-chan struct{}) (*Command, error) {
	cmd := &Command{Field: CFindRQ, AffectedSOPClassUID: sopClass}
	m, err := c.Request(ctx, ctxID, cmd, identifier, &Exchange{OnPending: onMatch, Cancel: cancel})
	if m == nil {
		return nil, err
	}
	return m.Command, err
}

// Move sends a C-MOVE-RQ to have the peer send the matches to
// destination (an AE title the peer knows). onPending sees each pending
// response (sub-operation counts). Returns the final response, whose
// Completed/Failed/Warning counts tell the outcome.
func (c *Conn) Move(ctx context.Context, ctxID uint8, sopClass, destination string, identifier io.Reader,
	onPending func(*Command), cancel <-chan struct{}) (*Command, error) {
	cmd := &Command{Field: CMoveRQ, AffectedSOPClassUID: sopClass, MoveDestination: destination}
	ex := &Exchange{Cancel: cancel}
	if onPending != nil {
		ex.OnPending = func(_ context.Context, m *Message) error { onPending(m.Command); return nil }
	}
	m, err := c.Request(ctx, ctxID, cmd, identifier, ex)
	if m == nil {
		return nil, err
	}
	return m.Command, err
}

// Get sends a C-GET-RQ; the C-STORE sub-operations arrive on this
// association (on contexts where we negotiated the SCP role) and are
// served by store, one at a time, between the pending responses.
func (c *Conn) Get(ctx context.Context, ctxID uint8, sopClass string, identifier io.Reader,
	onPending func(*Command), store Handler, cancel <-chan struct{}) (*Command, error) {
	cmd := &Command{Field: CGetRQ, AffectedSOPClassUID: sopClass}
	ex := &Exchange{Cancel: cancel, SubOps: store}
	if onPending != nil {
		ex.OnPending = func(_ context.Context, m *Message) error { onPending(m.Command); return nil }
	}
	m, err := c.Request(ctx, ctxID, cmd, identifier, ex)
	if m == nil {
		return nil, err
	}
	return m.Command, err
}
