package dimse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"lightbox/backend/pdu"
	"lightbox/backend/ul"
)

// Association is what the message layer needs from the upper layer;
// *ul.Association implements it (tests may fake it).
type Association interface {
	SendPDVs(ctx context.Context, pdvs ...pdu.PDV) error
	Receive(ctx context.Context) (*ul.PData, error)
	MaxPDVData() int
	ContextByID(id uint8) (ul.Context, bool)
	Abort()
}

// Message is one received DIMSE message: a command and, when
// Command.HasDataSet, its data set as a stream. With Options.Timeout set,
// each data set fragment must arrive within it.
type Message struct {
	ContextID uint8
	Context   ul.Context // the negotiated context (abstract + transfer syntax)
	Command   *Command
	// Data streams the data set (nil when there is none). It reads P-DATA
	// from the association as the caller consumes it; it must be read to
	// EOF (or left for the next ReadMessage, which discards the rest)
	// before another message can be read. It implements io.WriterTo,
	// handing each fragment straight to the writer. Its Read uses the
	// context given to ReadMessage.
	Data *DataReader
	// Peer identifies the association the message came on (for logs, the
	// store's records and an activity panel).
	Peer Peer
}

// Peer names the two ends of an association.
type Peer struct {
	CallingAE string // the association-requestor
	CalledAE  string
	Addr      string // the remote host:port
}

// peerOf fills a Peer from an association that can tell (a *ul.Association).
func peerOf(a Association) Peer {
	var p Peer
	if x, ok := a.(interface {
		CallingAE() string
		CalledAE() string
	}); ok {
		p.CallingAE, p.CalledAE = x.CallingAE(), x.CalledAE()
	}
	if x, ok := a.(interface{ RemoteAddr() net.Addr }); ok && x.RemoteAddr() != nil {
		p.Addr = x.RemoteAddr().String()
	}
	return p
}

// Options tune a Conn.
type Options struct {
	// Timeout bounds the wait for each response (the DIMSE timeout); 0
	// means none beyond the context. On expiry the association is aborted.
	Timeout time.Duration
	Logger  *slog.Logger
}

// Conn sends and receives DIMSE messages over one association.
//
// Concurrency: WriteMessage is safe for concurrent use; each message's
// PDVs are sent together, never interleaved with another message's.
// ReadMessage (and the request helpers, which read) must be used by one
// goroutine at a time. Conn does not own the association: the caller
// releases or aborts it.
type Conn struct {
	a    Association
	opts Options
	log  *slog.Logger
	peer Peer

	wmu   sync.Mutex
	buf   []byte // the send batch
	frags []pdu.PDV
	msgID atomic.Uint32

	// read side
	ready   context.Context // already cancelled: receive only what is queued
	pending []pdu.PDV
	rx      *ul.PData // the PDU pending points into; freed when used up
	cur     *DataReader
}

// NewConn wraps an association.
func NewConn(a Association, opts Options) *Conn {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ready, cancel := context.WithCancel(context.Background())
	cancel()
	return &Conn{a: a, opts: opts, log: log, peer: peerOf(a), ready: ready}
}

// Association returns the wrapped association.
func (c *Conn) Association() Association { return c.a }

// NextMessageID returns a fresh message ID (1..65535, wrapping, never 0).
func (c *Conn) NextMessageID() uint16 {
	for {
		id := uint16(c.msgID.Add(1))
		if id != 0 {
			return id
		}
	}
}

// WriteMessage sends cmd on presentation context ctxID, then the data set
// read from data (nil: no data set) until io.EOF, in fragments that honour
// the peer's maximum PDU length. cmd.HasDataSet is set from data. The data
// set is streamed through one buffer (256 KB, or one fragment). An error
// from data aborts the association (the message cannot be completed), and
// is returned.
func (c *Conn) WriteMessage(ctx context.Context, ctxID uint8, cmd *Command, data io.Reader) error {
	cmd.HasDataSet = data != nil
	b, err := cmd.Encode()
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	max := c.a.MaxPDVData()
	c.log.Debug("sending "+cmd.String(), "context", ctxID)
	var frags []pdu.PDV
	for len(b) > 0 {
		n := min(len(b), max)
		flags := pdu.FlagCommand
		if n == len(b) {
			flags |= pdu.FlagLast
		}
		frags = append(frags, pdu.PDV{ContextID: ctxID, Flags: flags, Data: b[:n]})
		b = b[n:]
	}
	if err := c.a.SendPDVs(ctx, frags...); err != nil {
		return err
	}
	if data == nil {
		return nil
	}
	return c.writeData(ctx, ctxID, data, max)
}

// batchBytes is how much data set is read before one write of several
// P-DATA-TF PDUs (with 16 KB PDUs: 15 PDUs per system call). Small enough
// that the batch buffer stays in the CPU caches: with two alternating 1 MB
// batches the same transfer cost 20-25% more CPU.
const batchBytes = 256 << 10

// readFull fills b from r; eof reports that r ended.
func readFull(r io.Reader, b []byte) (n int, eof bool, err error) {
	n, err = io.ReadFull(r, b)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return n, true, nil
	}
	return n, false, err
}

// framedSender is implemented by *ul.Association: it sends P-DATA-TF PDUs
// framed in place, in one plain write.
type framedSender interface {
	SendPData(ctx context.Context, b []byte) error
}

// pdataHeaderLen is the PDU header plus the PDV item header of a P-DATA-TF
// carrying one PDV.
const pdataHeaderLen = pdu.HeaderLen + pdu.PDVHeaderLen

// batch is a buffer of P-DATA-TF PDUs framed in place: slot i holds a
// 12-byte header then up to fragMax bytes of data, which are read straight
// from the data set; only the last fragment of a batch may be short.
type batch struct {
	buf     []byte
	fragMax int
	frags   int // fragments read
	lastLen int // data bytes of the last fragment
	eof     bool
}

// fill reads the next fragments of data into the slots; carry (a byte
// read ahead, or nothing) starts the first one.
func (bt *batch) fill(data io.Reader, carry []byte) error {
	bt.frags, bt.lastLen, bt.eof = 0, 0, false
	slot := pdataHeaderLen + bt.fragMax
	for off := 0; off+slot <= len(bt.buf); off += slot {
		d := bt.buf[off+pdataHeaderLen : off+slot]
		k := copy(d, carry)
		carry = nil
		n, eof, err := readFull(data, d[k:])
		if err != nil {
			return err
		}
		if n += k; n > 0 || bt.frags == 0 {
			bt.frags, bt.lastLen = bt.frags+1, n
		}
		if eof {
			bt.eof = true
			return nil
		}
	}
	return nil
}

// frag tells where fragment i's data starts in buf, its length and flags.
func (bt *batch) frag(i int, last bool) (off, n int, flags uint8) {
	off, n = i*(pdataHeaderLen+bt.fragMax)+pdataHeaderLen, bt.fragMax
	if i == bt.frags-1 {
		n = bt.lastLen
		if last {
			flags = pdu.FlagLast
		}
	}
	return off, n, flags
}

// frame writes the headers and returns the framed PDUs.
func (bt *batch) frame(ctxID uint8, last bool) []byte {
	end := 0
	for i := 0; i < bt.frags; i++ {
		off, n, flags := bt.frag(i, last)
		pdu.PDataHeader((*[pdataHeaderLen]byte)(bt.buf[off-pdataHeaderLen:]), ctxID, flags, n)
		end = off + n
	}
	return bt.buf[:end]
}

// pdvs returns the batch as PDVs (for an Association without SendPData).
func (bt *batch) pdvs(ctxID uint8, last bool, dst []pdu.PDV) []pdu.PDV {
	for i := 0; i < bt.frags; i++ {
		off, n, flags := bt.frag(i, last)
		dst = append(dst, pdu.PDV{ContextID: ctxID, Flags: flags, Data: bt.buf[off : off+n]})
	}
	return dst
}

// writeData streams the data set in batches of fragments framed in place
// (no copy between the reader and the socket), through one buffer: after
// a full batch, one byte is read ahead to learn whether the data set goes
// on (else that batch's last fragment carries the last flag), and starts
// the next batch.
func (c *Conn) writeData(ctx context.Context, ctxID uint8, data io.Reader, fragMax int) error {
	slot := pdataHeaderLen + fragMax
	size := slot * max(1, batchBytes/slot)
	if cap(c.buf) < size {
		c.buf = make([]byte, size)
	}
	bt := &batch{buf: c.buf[:size], fragMax: fragMax}
	var ahead [1]byte
	var carry []byte
	for {
		err := bt.fill(data, carry)
		last := bt.eof
		if err == nil && !last {
			var n int
			n, last, err = readFull(data, ahead[:])
			carry = ahead[:n]
		}
		if err != nil {
			c.a.Abort()
			return fmt.Errorf("dimse: reading data set: %w", err)
		}
		if err := c.sendBatch(ctx, ctxID, bt, last); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}

// sendBatch sends the framed fragments of bt in one write.
func (c *Conn) sendBatch(ctx context.Context, ctxID uint8, bt *batch, last bool) error {
	if fs, ok := c.a.(framedSender); ok {
		return fs.SendPData(ctx, bt.frame(ctxID, last))
	}
	c.frags = bt.pdvs(ctxID, last, c.frags[:0])
	return c.a.SendPDVs(ctx, c.frags...)
}

// nextPDV returns the next PDV, reading P-DATA-TF PDUs as needed.
// Every PDV handed out before has been consumed when this is called (data
// is copied out or written on before the next fragment is asked for), so
// the previous PDU's buffer can be given back.
func (c *Conn) nextPDV(ctx context.Context) (pdu.PDV, error) {
	for len(c.pending) == 0 {
		c.rx.Free()
		c.rx = nil
		p, err := c.a.Receive(ctx)
		if err != nil {
			return pdu.PDV{}, err
		}
		c.rx, c.pending = p, p.Values
	}
	v := c.pending[0]
	c.pending = c.pending[1:]
	return v, nil
}

// nextPDVTimed is nextPDV with the DIMSE timeout applied to this one wait:
// a data set may take long as a whole, but each fragment must come in
// time. On expiry the association is aborted (the message is cut).
func (c *Conn) nextPDVTimed(ctx context.Context) (pdu.PDV, error) {
	if c.opts.Timeout <= 0 || len(c.pending) > 0 {
		return c.nextPDV(ctx)
	}
	// a PDU already queued needs no timer (ul.Association.Receive returns
	// what is queued before looking at its ctx): one timer per PDU would
	// cost more than the rest of the per-PDU work
	if v, err := c.nextPDV(c.ready); !errors.Is(err, context.Canceled) {
		return v, err
	}
	tctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	v, err := c.nextPDV(tctx)
	if err != nil && tctx.Err() != nil && ctx.Err() == nil {
		c.a.Abort()
		return v, &ul.TimeoutError{What: "DIMSE data set fragment", After: c.opts.Timeout}
	}
	return v, err
}

// ReadMessage reads the next message. A previous message's unread data
// set is discarded first. Transport errors are the upper layer's
// (ul.ErrPeerReleased when the peer released, *ul.AbortError, ...);
// ErrProtocol / ErrBadCommand mean the peer broke DIMSE rules, and the
// association is aborted.
func (c *Conn) ReadMessage(ctx context.Context) (*Message, error) {
	if c.cur != nil && !c.cur.done {
		c.cur.ctx = ctx
		if _, err := io.Copy(io.Discard, c.cur); err != nil {
			return nil, err
		}
	}
	c.cur = nil
	var cmdBuf []byte
	var ctxID uint8
	first := true
	for {
		v, err := c.nextPDV(ctx)
		if err != nil {
			return nil, err
		}
		if !v.Command() {
			c.a.Abort()
			return nil, fmt.Errorf("%w: data set fragment where a command was expected", ErrProtocol)
		}
		if first {
			ctxID, first = v.ContextID, false
		} else if v.ContextID != ctxID {
			c.a.Abort()
			return nil, fmt.Errorf("%w: command fragments on contexts %d and %d", ErrProtocol, ctxID, v.ContextID)
		}
		if len(cmdBuf)+len(v.Data) > MaxCommandLength {
			c.a.Abort()
			return nil, ErrCommandTooLarge
		}
		cmdBuf = append(cmdBuf, v.Data...)
		if v.Last() {
			break
		}
	}
	cmd, err := DecodeCommand(cmdBuf)
	if err != nil {
		c.a.Abort()
		return nil, err
	}
	pc, ok := c.a.ContextByID(ctxID)
	if !ok || !pc.Accepted() {
		c.a.Abort()
		return nil, fmt.Errorf("%w: message on presentation context %d, which was not accepted", ErrProtocol, ctxID)
	}
	c.log.Debug("received "+cmd.String(), "context", ctxID)
	m := &Message{ContextID: ctxID, Context: pc, Command: cmd, Peer: c.peer}
	if cmd.HasDataSet {
		c.cur = &DataReader{c: c, ctx: ctx, ctxID: ctxID}
		m.Data = c.cur
	}
	return m, nil
}

// DataReader streams one message's data set from the association.
type DataReader struct {
	c     *Conn
	ctx   context.Context
	ctxID uint8
	buf   []byte // rest of the current fragment
	done  bool   // last fragment consumed
	err   error
	n     int64
	onEOF func()
}

func (r *DataReader) fill() error {
	for len(r.buf) == 0 {
		if r.done {
			return io.EOF
		}
		if r.err != nil {
			return r.err
		}
		v, err := r.c.nextPDVTimed(r.ctx)
		if err != nil {
			r.err = err
			return err
		}
		if v.Command() || v.ContextID != r.ctxID {
			r.c.a.Abort()
			r.err = fmt.Errorf("%w: command fragment or context %d inside a data set on context %d", ErrProtocol, v.ContextID, r.ctxID)
			return r.err
		}
		r.buf = v.Data
		if v.Last() {
			r.done = true
		}
	}
	return nil
}

// consumed runs onEOF once the last fragment has been read out entirely:
// only then may the read loop move on (and recycle the buffer).
func (r *DataReader) consumed() {
	if r.done && len(r.buf) == 0 && r.onEOF != nil {
		f := r.onEOF
		r.onEOF = nil
		f()
	}
}

// Read implements io.Reader.
func (r *DataReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := r.fill(); err != nil {
		if err == io.EOF {
			r.consumed()
		}
		return 0, err
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	r.n += int64(n)
	r.consumed()
	return n, nil
}

// WriteTo implements io.WriterTo: each fragment goes to w without an
// intermediate copy.
func (r *DataReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if err := r.fill(); err != nil {
			if err == io.EOF {
				r.consumed()
				return total, nil
			}
			return total, err
		}
		n, err := w.Write(r.buf)
		total += int64(n)
		r.n += int64(n)
		r.buf = r.buf[n:]
		r.consumed()
		if err != nil {
			return total, err
		}
	}
}

// BytesRead is the number of data set bytes consumed so far.
func (r *DataReader) BytesRead() int64 { return r.n }

// Done reports whether the whole data set has been received (all
// fragments read from the wire; buffered bytes may remain).
func (r *DataReader) Done() bool { return r.done }

// discard drains the rest of the data set.
func (r *DataReader) discard() error {
	_, err := io.Copy(io.Discard, r)
	return err
}
