package dimse

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"

	"lightbox/backend/ul"
)

// Response is what a handler answers: the status and the optional fields
// of a response, and an optional data set streamed from Data.
type Response struct {
	Status           Status
	ErrorComment     string // at most 64 characters; longer is cut
	OffendingElement []uint32
	// Sub-operation counts (C-MOVE / C-GET responses).
	Remaining, Completed, Failed, Warning Opt16
	// Data is the response's data set (a C-FIND match, a C-GET/C-MOVE list
	// of failed instances); nil for none.
	Data io.Reader
}

// ResponseWriter lets a handler send pending responses before its final
// one (which it returns).
type ResponseWriter interface {
	// Pending sends a response with a pending status (or any status the
	// handler chooses) before the final one.
	Pending(ctx context.Context, r Response) error
}

// Handler serves one DIMSE request (SCP side, or a sub-operation arriving
// during our own request, e.g. C-STORE within C-GET). req.Data, when not
// nil, streams the request's data set from the wire: the handler reads it
// (e.g. into a temp file it chooses, then fsyncs) and returns the final
// status only when it has done with the data. Unread data is discarded.
// A panic in a handler answers StatusProcessingFailure; the association
// lives on. ctx is cancelled on C-CANCEL for this request or when the
// association ends.
type Handler interface {
	ServeDIMSE(ctx context.Context, rw ResponseWriter, req *Message) Response
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, rw ResponseWriter, req *Message) Response

// ServeDIMSE implements Handler.
func (f HandlerFunc) ServeDIMSE(ctx context.Context, rw ResponseWriter, req *Message) Response {
	return f(ctx, rw, req)
}

type responder struct {
	c   *Conn
	req *Message
	// wctx is the association-level context used for writing: a handler's
	// own ctx is cancelled by C-CANCEL, and cancelling a write half-way
	// would break the association.
	wctx context.Context
}

// Pending implements ResponseWriter. ctx is checked before sending.
func (r *responder) Pending(ctx context.Context, resp Response) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.c.respond(r.wctx, r.req, resp)
}

// respond sends a response to req.
func (c *Conn) respond(ctx context.Context, req *Message, r Response) error {
	ec := r.ErrorComment
	if len(ec) > 64 {
		ec = ec[:64]
	}
	rsp := &Command{
		Field:                     req.Command.Field.Response(),
		MessageIDBeingRespondedTo: req.Command.MessageID,
		AffectedSOPClassUID:       req.Command.AffectedSOPClassUID,
		AffectedSOPInstanceUID:    req.Command.AffectedSOPInstanceUID,
		Status:                    r.Status,
		ErrorComment:              ec,
		OffendingElement:          r.OffendingElement,
		Remaining:                 r.Remaining,
		Completed:                 r.Completed,
		Failed:                    r.Failed,
		Warning:                   r.Warning,
	}
	if rsp.AffectedSOPClassUID == "" {
		rsp.AffectedSOPClassUID = req.Context.AbstractSyntax
	}
	return c.WriteMessage(ctx, req.ContextID, rsp, r.Data)
}

// call runs h, turning a panic into a processing failure.
func call(ctx context.Context, log *slog.Logger, h Handler, rw ResponseWriter, req *Message) (resp Response) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("DIMSE handler panicked", "command", req.Command.Field.String(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = Response{Status: StatusProcessingFailure, ErrorComment: "internal error in handler"}
		}
	}()
	return h.ServeDIMSE(ctx, rw, req)
}

// Mux dispatches requests to handlers by abstract syntax (SOP class). It
// implements ul.Handler: give it to ul.NewServer.
type Mux struct {
	mu       sync.RWMutex
	handlers map[string]Handler
	opts     Options
}

// NewMux returns an empty mux.
func NewMux(opts Options) *Mux { return &Mux{handlers: map[string]Handler{}, opts: opts} }

// Handle registers h for an abstract syntax, replacing any previous one.
func (m *Mux) Handle(abstractSyntax string, h Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.handlers[abstractSyntax] = h
}

// HandleFunc registers a function.
func (m *Mux) HandleFunc(abstractSyntax string, f func(ctx context.Context, rw ResponseWriter, req *Message) Response) {
	m.Handle(abstractSyntax, HandlerFunc(f))
}

// AbstractSyntaxes lists the registered abstract syntaxes (to build the
// ul.Policy).
func (m *Mux) AbstractSyntaxes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.handlers))
	for k := range m.handlers {
		out = append(out, k)
	}
	return out
}

func (m *Mux) handler(as string) Handler {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.handlers[as]
}

// refuse answers requests nobody handles.
var refuse = HandlerFunc(func(ctx context.Context, rw ResponseWriter, req *Message) Response {
	if req.Command.Field == CEchoRQ {
		return Response{Status: StatusSuccess} // Verification is always answered
	}
	return Response{Status: StatusSOPClassNotSupported}
})

// refuseRole answers a request the negotiated roles do not let the peer
// send: on its presentation context this side may not act as SCP (PS3.7
// D.3.3.4: without role selection the requestor is SCU and the acceptor
// SCP; with it, only the roles the A-ASSOCIATE-AC granted). The request
// is well formed, so it gets a failure response, 0x0122 "SOP class not
// supported" (for this role), and the association lives on, as DCMTK's
// SCPs refuse an operation they do not serve; its data set is discarded.
var refuseRole = HandlerFunc(func(ctx context.Context, rw ResponseWriter, req *Message) Response {
	return Response{Status: StatusSOPClassNotSupported,
		ErrorComment: fmt.Sprintf("role selection: no SCP role here on context %d", req.ContextID)}
})

// roleHandler returns h, or refuseRole when the negotiated roles do not
// let the peer send req to us.
func roleHandler(log *slog.Logger, h Handler, req *Message) Handler {
	if req.Context.SCP {
		return h
	}
	log.Warn("DIMSE request refused: the peer may not invoke it under the negotiated roles",
		"command", req.Command.Field.String(), "context", req.ContextID, "sop_class", req.Context.AbstractSyntax)
	return refuseRole
}

// ServeAssociation implements ul.Handler: it reads requests until the
// association ends, runs each handler (one at a time: no asynchronous
// operations), answers C-CANCEL by cancelling the running handler's ctx,
// and returns when the peer releases or the association fails.
func (m *Mux) ServeAssociation(ctx context.Context, a *ul.Association) {
	// handlers' contexts end with the association, even while the read
	// loop waits for a handler
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-a.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	c := NewConn(a, m.opts)
	m.Serve(ctx, c)
}

type running struct {
	id     uint16
	cancel context.CancelFunc
	done   chan struct{}
}

// Serve runs the mux on an existing Conn; it returns the error that ended
// the association (ul.ErrPeerReleased after an orderly release).
func (m *Mux) Serve(ctx context.Context, c *Conn) error {
	var cur *running
	wait := func() {
		if cur != nil {
			<-cur.done
			cur = nil
		}
	}
	defer func() {
		if cur != nil {
			cur.cancel()
			<-cur.done
		}
	}()
	for {
		msg, err := c.ReadMessage(ctx)
		if err != nil {
			c.log.Debug("DIMSE service loop ends", "err", err)
			return err
		}
		f := msg.Command.Field
		if f == CCancelRQ {
			// only the SCU of the running operation may cancel it
			if cur != nil && cur.id == msg.Command.MessageIDBeingRespondedTo && msg.Context.SCP {
				cur.cancel()
			}
			continue
		}
		if f.IsResponse() {
			c.log.Info("unexpected DIMSE response ignored", "command", f.String())
			continue
		}
		wait() // one operation at a time
		h := m.handler(msg.Context.AbstractSyntax)
		if h == nil {
			h = refuse
		}
		switch f {
		case CEchoRQ, CStoreRQ, CFindRQ, CMoveRQ, CGetRQ:
		default:
			h = HandlerFunc(func(context.Context, ResponseWriter, *Message) Response {
				return Response{Status: StatusUnrecognizedOperation}
			})
		}
		h = roleHandler(c.log, h, msg)
		hctx, cancel := context.WithCancel(ctx)
		r := &running{id: msg.Command.MessageID, cancel: cancel, done: make(chan struct{})}
		cur = r
		dataRead := make(chan struct{})
		if msg.Data != nil {
			msg.Data.onEOF = func() { close(dataRead) }
		} else {
			close(dataRead)
		}
		go func() {
			defer close(r.done)
			defer cancel()
			resp := call(hctx, c.log, h, &responder{c: c, req: msg, wctx: ctx}, msg)
			if msg.Data != nil && !msg.Data.done {
				// the handler left data unread; the read loop is waiting on
				// dataRead or r.done, so draining here is safe
				if err := msg.Data.discard(); err != nil {
					return
				}
			}
			if err := c.respond(ctx, msg, resp); err != nil {
				c.log.Info("sending DIMSE response failed", "command", f.Response().String(), "err", err)
			}
		}()
		// Read no further until the handler has consumed its data set: the
		// stream belongs to it until then.
		select {
		case <-dataRead:
		case <-r.done:
		}
	}
}
