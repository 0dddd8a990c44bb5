package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"lightbox/backend/dcm"
	"lightbox/backend/dimse"
	"lightbox/backend/store"
	"lightbox/backend/ul"
)

// Incoming is the part of a store.Incoming the SCP uses (an interface on
// the consumer side, so tests can inject failures such as ENOSPC).
type Incoming interface {
	io.Writer
	Commit(ctx context.Context, source string, expect *store.Expect) (store.Result, error)
	Abort()
}

// Sink creates the Incoming of each received object: a Part 10 file
// whose File Meta header the sink writes from the MetaInfo, and whose data
// set the caller writes.
type Sink interface {
	NewPart10(dcm.MetaInfo) (Incoming, error)
}

// StoreSink adapts a *store.Store to Sink.
type StoreSink struct{ Store *store.Store }

// NewPart10 implements Sink.
func (s StoreSink) NewPart10(m dcm.MetaInfo) (Incoming, error) { return s.Store.NewPart10(m) }

// SCP is the C-STORE SCP handler. Register it with Register.
type SCP struct {
	Sink     Sink
	Activity *Activity    // optional
	Logger   *slog.Logger // optional
	// PeerIsCalled: the SCP serves C-STORE sub-operations on an association
	// WE requested (C-GET), so the sender of the objects is the called AE
	// of dimse.Message.Peer, not the calling one (which is us).
	PeerIsCalled bool
	// OnStored (optional) is called after each successful commit.
	OnStored func(ctx context.Context, r store.Result)

	bufs sync.Pool // *bufio.Writer: PDVs are small, disk writes should not be
}

// writeBuffer is the size of the buffer between the wire and the file:
// small PDVs are gathered into writes of this size; a PDV at least this
// large goes to the file without a copy.
const writeBuffer = 64 << 10

func (s *SCP) buffer(w io.Writer) *bufio.Writer {
	if bw, ok := s.bufs.Get().(*bufio.Writer); ok {
		bw.Reset(w)
		return bw
	}
	return bufio.NewWriterSize(w, writeBuffer)
}

// NewSCP returns an SCP that stores into st.
func NewSCP(st *store.Store, act *Activity, log *slog.Logger) *SCP {
	return &SCP{Sink: StoreSink{st}, Activity: act, Logger: log}
}

func (s *SCP) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// errWriter remembers the first error of the destination so that a failed
// WriteTo tells a disk failure from a transport failure.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// ServeDIMSE implements dimse.Handler for C-STORE-RQ.
func (s *SCP) ServeDIMSE(ctx context.Context, _ dimse.ResponseWriter, req *dimse.Message) dimse.Response {
	cmd := req.Command
	if cmd.Field != dimse.CStoreRQ {
		return dimse.Response{Status: dimse.StatusUnrecognizedOperation}
	}
	fail := func(st dimse.Status, comment string, err error) dimse.Response {
		reason := fmt.Sprintf("%s: %s (%s)", cmd.AffectedSOPInstanceUID, comment, st)
		if err != nil {
			reason = fmt.Sprintf("%s: %s: %v (%s)", cmd.AffectedSOPInstanceUID, comment, err, st)
		}
		s.log().Warn("storage: C-STORE refused", "sop", cmd.AffectedSOPInstanceUID, "status", st.String(), "reason", comment, "err", err)
		s.Activity.record(ctx, req.Peer, 0, reason)
		return dimse.Response{Status: st, ErrorComment: comment}
	}
	if req.Data == nil {
		return fail(dimse.StatusCannotUnderstand, "no data set", nil)
	}
	if cmd.AffectedSOPClassUID == "" || cmd.AffectedSOPInstanceUID == "" {
		return fail(dimse.StatusCannotUnderstand, "no affected SOP class or instance UID", nil)
	}
	peer, ok := PeerFrom(ctx)
	if !ok {
		peer.CallingAE, peer.Host = req.Peer.CallingAE, req.Peer.Addr
		if s.PeerIsCalled {
			peer.CallingAE = req.Peer.CalledAE
		}
		if h, _, err := net.SplitHostPort(peer.Host); err == nil {
			peer.Host = h
		}
	}
	in, err := s.Sink.NewPart10(dcm.MetaInfo{
		SOPClassUID:            cmd.AffectedSOPClassUID,
		SOPInstanceUID:         cmd.AffectedSOPInstanceUID,
		TransferSyntaxUID:      req.Context.TransferSyntax,
		ImplementationClassUID: ul.ImplementationClassUID,
		ImplementationVersion:  ul.ImplementationVersionName,
		SourceAE:               peer.CallingAE,
	})
	if err != nil {
		return fail(statusFor(err), "cannot create the object", err)
	}
	ew := &errWriter{w: in}
	bw := s.buffer(ew)
	defer s.bufs.Put(bw)
	n, err := req.Data.WriteTo(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		in.Abort()
		if ew.err != nil {
			// the disk failed; the mux drains the rest of the data set
			return fail(statusFor(ew.err), "cannot write the object", ew.err)
		}
		// the data set was cut short: no response can reach the peer
		s.log().Info("storage: data set not received whole; discarded", "sop", cmd.AffectedSOPInstanceUID, "bytes", n, "err", err)
		s.Activity.record(ctx, req.Peer, 0, fmt.Sprintf("%s: aborted after %d bytes: %v", cmd.AffectedSOPInstanceUID, n, err))
		return dimse.Response{Status: dimse.StatusProcessingFailure, ErrorComment: "data set incomplete"}
	}
	source := "AE:" + peer.CallingAE
	if peer.Host != "" {
		source += "@" + peer.Host
	}
	res, err := in.Commit(ctx, source, &store.Expect{SOPClassUID: cmd.AffectedSOPClassUID,
		SOPInstanceUID: cmd.AffectedSOPInstanceUID, ReplaceDifferent: true, Indexed: true})
	if err != nil {
		return fail(statusFor(err), commentFor(err), err)
	}
	s.Activity.record(ctx, req.Peer, n, "")
	if s.OnStored != nil {
		s.OnStored(ctx, res)
	}
	return dimse.Response{Status: dimse.StatusSuccess}
}

// statusFor maps a store or parse error to a C-STORE failure status
// (PS3.4 B.2.3). Never Success.
func statusFor(err error) dimse.Status {
	switch {
	case errors.Is(err, store.ErrNoSpace):
		return dimse.StatusOutOfResources
	case errors.Is(err, store.ErrMismatch):
		return dimse.StatusDataSetMismatch
	case errors.Is(err, dcm.ErrMalformed), errors.Is(err, dcm.ErrNotDICOM), errors.Is(err, store.ErrInvalid):
		return dimse.StatusCannotUnderstand
	}
	return dimse.StatusProcessingFailure
}

func commentFor(err error) string {
	switch statusFor(err) {
	case dimse.StatusOutOfResources:
		return "out of storage space"
	case dimse.StatusDataSetMismatch:
		return "data set does not match the command's SOP class/instance"
	case dimse.StatusCannotUnderstand:
		return "cannot parse the data set"
	}
	return "cannot store the object"
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
