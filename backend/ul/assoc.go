package ul

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"lightbox/backend/pdu"
)

// Our implementation identification, sent in every A-ASSOCIATE-RQ/AC.
const (
	// ImplementationClassUID is derived once from UUID
	// 82b96538-bed5-42f0-ab46-1da686903040 (2.25.<128-bit value in decimal>).
	ImplementationClassUID = "2.25.173762267390075045387670294156903723072"
	// ImplementationVersionName is LIGHTBOX_<version>, at most 16 characters.
	ImplementationVersionName = "LIGHTBOX_0.1"
)

// Defaults used when a Timeouts or size field is zero.
const (
	DefaultMaxPDULength   = 128 << 10 // what we announce we can receive
	DefaultMaxSendPDU     = 1 << 20   // fragment cap when the peer announces 0 (no limit)
	DefaultConnectTimeout = 10 * time.Second
	DefaultACSETimeout    = 30 * time.Second // association negotiation, release, ARTIM
	indicationBytes       = 512 << 10        // P-DATA bytes buffered between the reader and the user...
	indicationMin         = 1                // ... but at least this many PDUs
	indicationMax         = 64               // ... and at most this many
)

// Timeouts of an association. Zero fields take the defaults above; Idle
// zero means no idle limit.
type Timeouts struct {
	Connect time.Duration // TCP connect (SCU)
	ACSE    time.Duration // waiting for A-ASSOCIATE-AC/RJ, A-RELEASE-RP; the ARTIM timer
	Idle    time.Duration // Receive with nothing arriving: the association is aborted
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Connect <= 0 {
		t.Connect = DefaultConnectTimeout
	}
	if t.ACSE <= 0 {
		t.ACSE = DefaultACSETimeout
	}
	return t
}

// Context is a negotiated presentation context.
type Context struct {
	ID             uint8
	AbstractSyntax string
	TransferSyntax string // the accepted one; empty if rejected
	Result         pdu.ContextResult
	// SCU and SCP tell the roles THIS side may play on the context, after
	// role selection (default: the requestor is SCU, the acceptor SCP).
	SCU, SCP bool
}

// Accepted reports whether the context was accepted.
func (c Context) Accepted() bool { return c.Result == pdu.ContextAccepted }

type indKind uint8

const (
	indAssociateRQ      indKind = iota + 1 // AE-6
	indAssociateAC                         // AE-3
	indAssociateRJ                         // AE-4
	indPData                               // DT-2, AR-6
	indRelease                             // AR-2
	indReleaseCollision                    // AR-8
	indReleaseConfirm                      // AR-3, AR-10
)

type indication struct {
	kind indKind
	pdu  pdu.PDU
}

// PData is a received P-DATA-TF PDU (a P-DATA indication).
type PData struct {
	Values []pdu.PDV
	buf    []byte
	free   chan []byte
	chunk  *rxChunk
}

// Free hands the PDU's buffer back to the association for reuse. Call it
// once nothing references the data of p.Values any more; p must not be
// used afterwards. Optional: an unfreed buffer is garbage collected.
func (p *PData) Free() {
	if p == nil {
		return
	}
	if p.chunk != nil {
		p.chunk.release()
	}
	if p.buf != nil {
		select {
		case p.free <- p.buf:
		default:
		}
	}
	p.buf, p.chunk, p.Values = nil, nil, nil
}

// rxPData is a received P-DATA-TF, decoded with the PData handed to the
// user in one allocation (PDVs alias the receive buffer PData frees).
type rxPData struct {
	pdu.PDataTF
	data PData
	one  [1]pdu.PDV // storage of Values for the usual single PDV
}

// outgoing is what an action sends: a control PDU, or P-DATA PDVs.
type outgoing struct {
	p     pdu.PDU
	ctx   context.Context
	pdvs  []pdu.PDV // one P-DATA-TF PDU each
	raw   []byte    // or P-DATA-TF PDUs already framed (SendPData)
	isPDV bool
	why   string // for an A-ABORT we raise: what the peer did wrong
}

// Association is one DICOM association (either side) over one transport
// connection. It is created by Dial (SCU) or by a Server (SCP).
//
// Concurrency: SendPDV may be called from one goroutine while another calls
// Receive; Abort may be called from any goroutine at any time. Receive,
// Release and Close must not run concurrently with each other. Each
// SendPDV writes one whole PDU: callers that need messages not to
// interleave (package dimse) serialise their own messages.
//
// Lifetime: the association owns the net.Conn and closes it. Done is closed
// when the association has ended for the user (released, aborted or the
// connection lost); Err then tells why.
type Association struct {
	conn      net.Conn
	log       *slog.Logger
	requestor bool
	timeouts  Timeouts
	maxRecv   uint32 // our announced max P-DATA length (0 = no limit)
	sendCap   uint32
	poolSize  int         // size of pooled receive buffers (0: no pooling)
	free      chan []byte // receive buffers given back by PData.Free

	mu       sync.Mutex
	state    State
	artim    *time.Timer
	artimGen uint64
	trace    func(State, Event, Action, State) // tests only

	wmu sync.Mutex

	ind        chan indication
	done       chan struct{}
	finishOnce sync.Once
	err        error
	closeOnce  sync.Once

	// negotiation results, set before the association reaches Sta6
	rq       *pdu.AssociateRQ
	ac       *pdu.AssociateAC
	contexts []Context
	peerMax  uint32
}

func newAssociation(conn net.Conn, requestor bool, t Timeouts, maxRecv uint32, log *slog.Logger) *Association {
	if log == nil {
		log = slog.New(discardHandler{})
	}
	pool := 0
	if maxRecv > 0 && maxRecv <= maxPooledPDU {
		pool = int(maxRecv) + readSlack
	}
	return &Association{
		poolSize:  pool,
		conn:      conn,
		log:       log,
		requestor: requestor,
		timeouts:  t.withDefaults(),
		maxRecv:   maxRecv,
		sendCap:   DefaultMaxSendPDU,
		state:     Sta1,
		free:      make(chan []byte, queueLen(maxRecv)+2),
		ind:       make(chan indication, queueLen(maxRecv)),
		done:      make(chan struct{}),
	}
}

// queueLen is how many received PDUs may wait for the user: about
// indicationBytes of them, so that the reader seldom waits for small PDUs
// and few large buffers are in use (the ones in use stay in the caches).
func queueLen(maxRecv uint32) int {
	if maxRecv == 0 {
		return indicationMin
	}
	return int(min(max(indicationBytes/int64(maxRecv), indicationMin), indicationMax))
}

// State returns the current state of the protocol machine.
func (a *Association) State() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// Done is closed when the association has ended.
func (a *Association) Done() <-chan struct{} { return a.done }

// Err returns why the association ended: nil while it runs, ErrReleased
// after an orderly release, or the abort / connection error.
func (a *Association) Err() error {
	select {
	case <-a.done:
		return a.err
	default:
		return nil
	}
}

// Contexts returns all presentation contexts with their results.
func (a *Association) Contexts() []Context { return append([]Context(nil), a.contexts...) }

// ContextByID returns the negotiated context with that ID.
func (a *Association) ContextByID(id uint8) (Context, bool) {
	for _, c := range a.contexts {
		if c.ID == id {
			return c, true
		}
	}
	return Context{}, false
}

// FindContext returns an accepted context for the abstract syntax. With
// transfer syntaxes given, it returns the first context whose accepted TS is
// the earliest in that list; without, the first accepted context.
func (a *Association) FindContext(abstract string, ts ...string) (Context, bool) {
	if len(ts) == 0 {
		for _, c := range a.contexts {
			if c.Accepted() && c.AbstractSyntax == abstract {
				return c, true
			}
		}
		return Context{}, false
	}
	for _, want := range ts {
		for _, c := range a.contexts {
			if c.Accepted() && c.AbstractSyntax == abstract && c.TransferSyntax == want {
				return c, true
			}
		}
	}
	return Context{}, false
}

// Request is the A-ASSOCIATE-RQ (as sent or as received).
func (a *Association) Request() *pdu.AssociateRQ { return a.rq }

// Accept is the A-ASSOCIATE-AC (as received or as sent).
func (a *Association) Accept() *pdu.AssociateAC { return a.ac }

// CallingAE is the requestor's AE title.
func (a *Association) CallingAE() string { return a.rq.CallingAE }

// CalledAE is the AE title the requestor called.
func (a *Association) CalledAE() string { return a.rq.CalledAE }

// RemoteAddr is the peer's address.
func (a *Association) RemoteAddr() net.Addr { return a.conn.RemoteAddr() }

// IsRequestor reports whether this side requested the association.
func (a *Association) IsRequestor() bool { return a.requestor }

// PeerMaxPDU is the maximum P-DATA-TF length the peer announced (0 = no limit).
func (a *Association) PeerMaxPDU() uint32 { return a.peerMax }

// MaxPDVData is the largest data fragment SendPDV may carry: the peer's
// maximum PDU length minus the PDV item header, capped by our send cap
// when the peer announced no limit.
func (a *Association) MaxPDVData() int {
	m := a.peerMax
	if m == 0 || m > a.sendCap {
		m = a.sendCap
	}
	if m <= pdu.PDVHeaderLen {
		return 1
	}
	return int(m) - pdu.PDVHeaderLen
}

// fire runs one event through table 9-10. Non-blocking bookkeeping happens
// under the state lock; the I/O of the action (sending, closing,
// indicating) happens after it is released.
func (a *Association) fire(ev Event, p pdu.PDU, out *outgoing) error {
	a.mu.Lock()
	from := a.state
	act, ok := Transition(from, ev)
	if !ok {
		a.mu.Unlock()
		return fmt.Errorf("%w: %s in %s", ErrInvalidState, ev, from)
	}
	next := actionNext[act]
	var (
		send      *outgoing
		ind       *indication
		closeConn bool
		term      error
	)
	switch act {
	case AE1:
		// TRANSPORT CONNECT is issued by Dial once the transition is taken.
	case AE2, AE7, AE8, AR7, DT1:
		send = out
		if act == AE8 {
			a.startARTIM()
		}
	case AE3:
		ind = &indication{kind: indAssociateAC, pdu: p}
	case AE4:
		ind = &indication{kind: indAssociateRJ, pdu: p}
		closeConn = true
		rj := p.(*pdu.AssociateRJ)
		term = &RejectError{RJ: *rj}
	case AE5:
		a.startARTIM()
	case AE6:
		a.stopARTIM()
		ind = &indication{kind: indAssociateRQ, pdu: p}
	case DT2, AR6:
		ind = &indication{kind: indPData, pdu: p}
	case AR1:
		send = &outgoing{p: &pdu.ReleaseRQ{}}
	case AR2:
		ind = &indication{kind: indRelease}
	case AR3:
		ind = &indication{kind: indReleaseConfirm}
		closeConn = true
		term = ErrReleased
	case AR4:
		send = &outgoing{p: &pdu.ReleaseRP{}}
		a.startARTIM()
		term = ErrReleased
	case AR5:
		a.stopARTIM()
		closeConn = true
		term = ErrReleased
	case AR8:
		ind = &indication{kind: indReleaseCollision}
		if !a.requestor {
			next = Sta10
		}
	case AR9:
		send = &outgoing{p: &pdu.ReleaseRP{}}
	case AR10:
		ind = &indication{kind: indReleaseConfirm}
	case AA1:
		send = &outgoing{p: &pdu.Abort{Source: pdu.AbortServiceUser}}
		detail := "aborted locally"
		if out != nil && out.p != nil {
			send = out // AA-1 on an invalid PDU in Sta2 carries a reason
			detail = out.detail()
		}
		a.startARTIM()
		term = &AbortError{Source: pdu.AbortServiceUser, Detail: detail}
	case AA2:
		a.stopARTIM()
		closeConn = true
		term = &AbortError{Detail: "ARTIM timer expired or A-ABORT received"}
		if ab, ok := p.(*pdu.Abort); ok {
			term = &AbortError{ByPeer: true, Source: ab.Source, Reason: ab.Reason}
		}
	case AA3:
		closeConn = true
		ab := p.(*pdu.Abort)
		term = &AbortError{ByPeer: true, Source: ab.Source, Reason: ab.Reason}
	case AA4:
		closeConn = true
		term = ErrConnectionClosed
	case AA5:
		a.stopARTIM()
		closeConn = true
		term = ErrConnectionClosed
	case AA6:
		// ignore the PDU
	case AA7, AA8:
		reason := pdu.AbortUnexpectedPDU
		detail := fmt.Sprintf("unexpected %s in %s", ev, from)
		if out != nil && out.p != nil {
			send = out
			reason = out.p.(*pdu.Abort).Reason
			detail = out.detail()
		} else {
			send = &outgoing{p: &pdu.Abort{Source: pdu.AbortServiceProvider, Reason: reason}}
		}
		if act == AA8 {
			a.startARTIM()
			term = &AbortError{Source: pdu.AbortServiceProvider, Reason: reason, Detail: detail}
		}
	}
	a.state = next
	tr := a.trace
	a.mu.Unlock()

	if tr != nil {
		tr(from, ev, act, next)
	}
	if a.log.Enabled(context.Background(), slog.LevelDebug) && !(act == DT1 || act == DT2) {
		a.log.Debug("upper layer", "state", from.String(), "event", ev.String(), "action", act.String(), "next", next.String())
	}
	var err error
	if send != nil {
		err = a.write(send)
	}
	if ind != nil {
		if term != nil {
			// the association ends: never block on a full queue
			select {
			case a.ind <- *ind:
			default:
			}
		} else {
			a.deliver(*ind)
		}
	}
	if term != nil {
		a.finish(term)
	}
	if closeConn || next == Sta1 {
		a.closeTransport()
	}
	return err
}

// detail describes an outgoing provider abort for logs.
func (o *outgoing) detail() string {
	if o.why != "" {
		return o.why
	}
	if ab, ok := o.p.(*pdu.Abort); ok {
		return ab.ReasonString()
	}
	return ""
}

func (a *Association) deliver(ind indication) {
	select {
	case a.ind <- ind:
	case <-a.done:
	}
}

func (a *Association) finish(err error) {
	a.finishOnce.Do(func() {
		a.err = err
		close(a.done)
	})
}

func (a *Association) closeTransport() {
	a.closeOnce.Do(func() {
		if a.conn != nil {
			a.conn.Close()
		}
	})
}

// startARTIM starts or restarts the ARTIM timer; a.mu is held.
func (a *Association) startARTIM() {
	a.artimGen++
	gen := a.artimGen
	if a.artim != nil {
		a.artim.Stop()
	}
	a.artim = time.AfterFunc(a.timeouts.ACSE, func() {
		a.mu.Lock()
		stale := gen != a.artimGen
		a.mu.Unlock()
		if !stale {
			a.fire(Evt18, nil, nil) // no entry in a state other than Sta2/Sta13: ignored
		}
	})
}

// stopARTIM stops the ARTIM timer if it runs; a.mu is held.
func (a *Association) stopARTIM() {
	a.artimGen++
	if a.artim != nil {
		a.artim.Stop()
		a.artim = nil
	}
}

var pastDeadline = time.Unix(1, 0)

// write sends one PDU. Control PDUs get the ACSE timeout as deadline; a PDV
// follows its context and a cancelled context breaks the association (the
// stream would be cut inside a PDU).
func (a *Association) write(o *outgoing) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.conn == nil {
		return ErrConnectionClosed
	}
	if !o.isPDV {
		b, err := o.p.AppendTo(nil)
		if err != nil {
			return err
		}
		a.conn.SetWriteDeadline(time.Now().Add(a.timeouts.ACSE))
		_, err = a.conn.Write(b)
		a.conn.SetWriteDeadline(time.Time{})
		if a.log.Enabled(context.Background(), slog.LevelDebug) {
			a.log.Debug("sent "+o.p.String(), "bytes", len(b))
		}
		if err != nil {
			a.closeTransport()
		}
		return err
	}
	stop := func() bool { return true }
	if o.ctx != nil && o.ctx.Done() != nil {
		stop = context.AfterFunc(o.ctx, func() { a.conn.SetWriteDeadline(pastDeadline) })
	}
	var err error
	if o.raw != nil {
		_, err = a.conn.Write(o.raw)
	} else {
		hdrs := make([][12]byte, len(o.pdvs))
		bufs := make(net.Buffers, 0, 2*len(o.pdvs))
		for i, v := range o.pdvs {
			pdu.PDataHeader(&hdrs[i], v.ContextID, v.Flags, len(v.Data))
			bufs = append(bufs, hdrs[i][:], v.Data)
		}
		_, err = bufs.WriteTo(a.conn)
	}
	if !stop() {
		// the context fired during the write: the PDU may be cut short.
		a.closeTransport()
		return fmt.Errorf("%w (association closed)", context.Cause(o.ctx))
	}
	if err != nil {
		a.closeTransport()
	}
	return err
}

// SendPDV sends one P-DATA-TF PDU carrying one PDV (P-DATA request, Evt9).
// len(data) must not exceed MaxPDVData. flags is the message control
// header (pdu.FlagCommand, pdu.FlagLast). data is not retained.
func (a *Association) SendPDV(ctx context.Context, contextID, flags uint8, data []byte) error {
	return a.SendPDVs(ctx, pdu.PDV{ContextID: contextID, Flags: flags, Data: data})
}

// SendPDVs sends one P-DATA-TF PDU per PDV, in order, with a single
// vectored write (no copy of the data). Each PDV's data must not exceed
// MaxPDVData. The data is not retained. A ctx cancelled during the write
// closes the transport (the stream would be cut inside a PDU).
func (a *Association) SendPDVs(ctx context.Context, pdvs ...pdu.PDV) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	max := a.MaxPDVData()
	for _, v := range pdvs {
		if len(v.Data) > max {
			return fmt.Errorf("ul: PDV of %d bytes exceeds the peer's maximum (%d)", len(v.Data), max)
		}
	}
	return a.sendData(&outgoing{isPDV: true, ctx: ctx, pdvs: pdvs})
}

// SendPData sends P-DATA-TF PDUs already framed in b (P-DATA request,
// Evt9): each one its 6-byte PDU header then its PDV items, as
// pdu.PDataHeader writes them. They go out in one write, without a copy.
// Every PDU is checked first (type, lengths, PDV items, the peer's maximum
// length); a bad one is refused with pdu.ErrMalformed or pdu.ErrTooLarge
// and nothing is sent. b is not retained. A ctx cancelled during the
// write closes the transport, as with SendPDVs.
func (a *Association) SendPData(ctx context.Context, b []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkPData(b, a.MaxPDVData()+pdu.PDVHeaderLen); err != nil {
		return err
	}
	return a.sendData(&outgoing{isPDV: true, ctx: ctx, raw: b})
}

// sendData runs a P-DATA request through the machine; once the
// association has ended, its error tells why the send failed.
func (a *Association) sendData(o *outgoing) error {
	err := a.fire(Evt9, nil, o)
	if err != nil {
		if e := a.Err(); e != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return e
		}
	}
	return err
}

// checkPData walks the P-DATA-TF PDUs framed in b: each must be whole,
// of type 0x04, no longer than max, and made of whole PDV items of at
// least 2 bytes.
func checkPData(b []byte, max int) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: no P-DATA-TF to send", pdu.ErrMalformed)
	}
	for len(b) > 0 {
		if len(b) < pdu.HeaderLen || pdu.Type(b[0]) != pdu.TypePDataTF {
			return fmt.Errorf("%w: not a P-DATA-TF header", pdu.ErrMalformed)
		}
		n := int64(binary.BigEndian.Uint32(b[2:]))
		if n > int64(max) {
			return fmt.Errorf("%w: P-DATA-TF of %d bytes, the peer accepts %d", pdu.ErrTooLarge, n, max)
		}
		if n > int64(len(b)-pdu.HeaderLen) || n < pdu.PDVHeaderLen {
			return fmt.Errorf("%w: P-DATA-TF length %d with %d bytes left", pdu.ErrMalformed, n, len(b)-pdu.HeaderLen)
		}
		items := b[pdu.HeaderLen : pdu.HeaderLen+int(n)]
		for len(items) > 0 {
			if len(items) < pdu.PDVHeaderLen {
				return fmt.Errorf("%w: truncated PDV item", pdu.ErrMalformed)
			}
			m := int64(binary.BigEndian.Uint32(items))
			if m < 2 || m > int64(len(items)-4) {
				return fmt.Errorf("%w: PDV item length %d with %d bytes left", pdu.ErrMalformed, m, len(items)-4)
			}
			items = items[4+m:]
		}
		b = b[pdu.HeaderLen+int(n):]
	}
	return nil
}

// Receive returns the next P-DATA-TF PDU (P-DATA indication). Its PDVs
// belong to the caller until it calls PData.Free. When the peer requests release, Receive answers
// with A-RELEASE-RP and returns ErrPeerReleased. After an abort or a lost
// connection it returns that error (*AbortError, ErrConnectionClosed).
// With an idle timeout set and nothing arriving for that long, the
// association is aborted and a *TimeoutError returned. A PDU already
// queued is returned even when ctx is done (a cancelled ctx polls).
func (a *Association) Receive(ctx context.Context) (*PData, error) {
	var idle <-chan time.Time
	for {
		var ind indication
		select {
		case ind = <-a.ind:
		default:
			if idle == nil && a.timeouts.Idle > 0 && ctx.Err() == nil { // only when about to wait
				t := time.NewTimer(a.timeouts.Idle)
				defer t.Stop()
				idle = t.C
			}
			select {
			case ind = <-a.ind:
			case <-a.done:
				select {
				case ind = <-a.ind: // drain what arrived before the end
				default:
					return nil, a.err
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-idle:
				a.Abort()
				return nil, &TimeoutError{What: "idle association", After: a.timeouts.Idle}
			}
		}
		switch ind.kind {
		case indPData:
			return a.pdata(ind.pdu), nil
		case indRelease:
			if err := a.fire(Evt14, nil, nil); err != nil {
				if e := a.Err(); e != nil && !errors.Is(e, ErrReleased) {
					return nil, e // e.g. an A-ABORT followed the A-RELEASE-RQ
				}
				return nil, err
			}
			return nil, ErrPeerReleased
		default:
			a.log.Debug("ignoring indication while receiving", "kind", ind.kind)
		}
	}
}

func (a *Association) pdata(p pdu.PDU) *PData {
	switch x := p.(type) {
	case *rxPData:
		return &x.data
	case *pdu.PDataTF:
		return &PData{Values: x.Values}
	}
	return &PData{}
}

// Release asks for an orderly release (A-RELEASE request) and waits for
// the confirmation, handling a release collision as PS3.8 9.2.2 describes.
// P-DATA arriving meanwhile is discarded. On timeout or ctx cancel the
// association is aborted.
func (a *Association) Release(ctx context.Context) error {
	if err := a.fire(Evt11, nil, nil); err != nil {
		if e := a.Err(); e != nil {
			return e
		}
		return err
	}
	t := time.NewTimer(a.timeouts.ACSE)
	defer t.Stop()
	for {
		select {
		case ind := <-a.ind:
			switch ind.kind {
			case indReleaseConfirm:
				if a.State() == Sta12 { // collision, acceptor side: answer now
					if err := a.fire(Evt14, nil, nil); err != nil {
						return err
					}
				}
				return nil
			case indReleaseCollision:
				if a.State() == Sta9 { // collision, requestor side: answer first
					if err := a.fire(Evt14, nil, nil); err != nil {
						return err
					}
				}
			case indPData:
				a.log.Debug("discarding P-DATA received while releasing")
				a.pdata(ind.pdu).Free()
			}
		case <-a.done:
			if errors.Is(a.err, ErrReleased) {
				return nil
			}
			return a.err
		case <-ctx.Done():
			a.Abort()
			return ctx.Err()
		case <-t.C:
			a.Abort()
			return &TimeoutError{What: "release", After: a.timeouts.ACSE}
		}
	}
}

// Abort sends A-ABORT (A-ABORT request, Evt15) and ends the association at
// once; the transport closes when the peer closes it or ARTIM expires.
// Safe to call from any goroutine, any number of times.
func (a *Association) Abort() {
	if err := a.fire(Evt15, nil, nil); err != nil {
		a.finish(&AbortError{Detail: "aborted locally"})
		a.closeTransport()
	}
}

// Close releases the association if it is established, else aborts it.
// It waits at most the ACSE timeout.
func (a *Association) Close() error {
	if a.State() == Sta6 {
		ctx, cancel := context.WithTimeout(context.Background(), a.timeouts.ACSE)
		defer cancel()
		return a.Release(ctx)
	}
	if a.Err() == nil {
		a.Abort()
	}
	return nil
}

// readLoop reads PDUs and turns them into events until the transport
// closes. It is the only goroutine that delivers indications, so they
// arrive in wire order.
func (a *Association) readLoop() {
	lim := pdu.Limits{MaxPData: a.maxRecv}
	if lim.MaxPData == 0 {
		// we announced "no limit"; still, at most a few PDUs of this size
		// wait per association
		lim.MaxPData = unlimitedPData
	} else {
		lim.MaxPData += readSlack // tolerate peers that count the PDV header twice
	}
	pr := newPDUReader(a.conn, lim, a.free, a.poolSize)
	for {
		raw, err := pr.next()
		if err != nil {
			var fe errFraming
			if errors.As(err, &fe) {
				a.invalidPDU(fe.err, true)
				return
			}
			a.fire(Evt17, nil, nil)
			return
		}
		t := raw.t
		var p pdu.PDU
		if t == pdu.TypePDataTF {
			x := &rxPData{}
			x.Values, err = pdu.AppendPDVs(x.one[:0], raw.body)
			x.data = PData{Values: x.Values, buf: raw.own, free: a.free, chunk: raw.chunk}
			p = x
		} else {
			p, err = pdu.DecodeBody(t, raw.body)
		}
		if err != nil {
			raw.recycle(a.free)
			a.invalidPDU(err, false)
			continue
		}
		if t != pdu.TypePDataTF || a.log.Enabled(context.Background(), slog.LevelDebug-4) {
			a.log.Debug("received " + p.String())
		}
		var ev Event
		switch t {
		case pdu.TypeAssociateAC:
			ev = Evt3
		case pdu.TypeAssociateRJ:
			ev = Evt4
		case pdu.TypeAssociateRQ:
			ev = Evt6
		case pdu.TypePDataTF:
			ev = Evt10
		case pdu.TypeReleaseRQ:
			ev = Evt12
		case pdu.TypeReleaseRP:
			ev = Evt13
		case pdu.TypeAbort:
			ev = Evt16
		}
		a.fire(ev, p, nil)
		if a.State() == Sta1 {
			return
		}
	}
}

// recycle gives back the buffer of a PDU that will not be delivered.
func (r rawPDU) recycle(own chan []byte) {
	if r.chunk != nil {
		r.chunk.release()
	}
	if r.own != nil {
		select {
		case own <- r.own:
		default:
		}
	}
}

// Receive limits: P-DATA bodies up to maxPooledPDU get buffers recycled by
// PData.Free (see rxbuf.go for the in-place decoding of smaller PDUs).
const (
	unlimitedPData = 16 << 20
	readSlack      = 64
	maxPooledPDU   = 4 << 20
)

func isDecodeErr(err error) bool {
	return errors.Is(err, pdu.ErrTooLarge) || errors.Is(err, pdu.ErrMalformed) ||
		errors.Is(err, pdu.ErrUnknownType) || errors.Is(err, pdu.ErrBadValue)
}

// invalidPDU raises Evt19. When framing is lost (a bad header) nothing more
// can be read: after the A-ABORT is sent the transport is closed, which the
// machine sees as Evt17.
func (a *Association) invalidPDU(err error, framingLost bool) {
	reason := pdu.AbortInvalidPDUParameterValue
	if errors.Is(err, pdu.ErrUnknownType) {
		reason = pdu.AbortUnrecognizedPDU
	}
	remote := "?"
	if a.conn != nil && a.conn.RemoteAddr() != nil {
		remote = a.conn.RemoteAddr().String()
	}
	a.log.Warn("invalid PDU, aborting", "remote", remote, "state", a.State().String(), "err", err)
	src := pdu.AbortServiceProvider
	if a.State() == Sta2 {
		src = pdu.AbortServiceUser // AA-1
	}
	a.fire(Evt19, nil, &outgoing{p: &pdu.Abort{Source: src, Reason: reason}, why: "invalid PDU from " + remote + ": " + err.Error()})
	if framingLost {
		a.finish(&AbortError{Source: pdu.AbortServiceProvider, Reason: reason, Detail: err.Error()})
		a.closeTransport()
		a.fire(Evt17, nil, nil)
	}
}

type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (d discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discardHandler) WithGroup(string) slog.Handler           { return d }
