package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/dimse"
	"lightbox/backend/pixel"
	"lightbox/backend/ul"
)

// MaxContexts is the most presentation contexts one association may carry.
const MaxContexts = 128

// Target is the node instances are sent to.
type Target struct {
	CallingAE, CalledAE string
	Addr                string // host:port
	// MaxAssociations bounds the parallel associations of a Send (the
	// node's limit); 0 means 1.
	MaxAssociations int
	MaxPDULength    uint32
	Timeouts        ul.Timeouts
}

// Item is one stored instance to send.
type Item struct {
	ID             string // the caller's key (e.g. the index row)
	Path           string // the Part 10 file
	SOPClassUID    string
	SOPInstanceUID string
	// TransferSyntaxUID as indexed; the file's own meta header is read
	// when it is empty, and always before sending.
	TransferSyntaxUID string
}

// ItemState is the outcome of one instance.
type ItemState string

// Item states. Sent and Warning count as sent.
const (
	Sent    ItemState = "sent"
	Warning ItemState = "warning"
	Failed  ItemState = "failed"
	Left    ItemState = "left" // not attempted, or cut off by a transport failure
)

// ItemResult is the outcome of one instance.
type ItemResult struct {
	Item      Item
	State     ItemState
	Status    dimse.Status // the peer's status, when HasStatus
	HasStatus bool
	Reason    string // in words, for Warning, Failed and Left
	// TransferSyntaxUID is what the data set was sent in; Converted tells
	// it was re-encoded from the file's.
	TransferSyntaxUID string
	Converted         bool
	Bytes             int64 // data set bytes sent
}

// Options tune Send.
type Options struct {
	Codecs pixel.Codecs // nil: pixel.DefaultCodecs()
	// Limiter and LimitKey bound associations to the node across
	// concurrent Sends (LimitKey identifies the node).
	Limiter  *Limiter
	LimitKey string
	// Progress is called once per finished instance, never concurrently.
	Progress func(ItemResult)
	Logger   *slog.Logger
	// DIMSETimeout bounds the wait for each C-STORE-RSP (default 60 s).
	DIMSETimeout time.Duration
}

// Report is the outcome of a Send.
type Report struct {
	Results                      []ItemResult // in the order of the items
	Sent, Warnings, Failed, Left int
	Bytes                        int64
	Associations                 int
	// Err is the transport failure (or cancellation) that stopped the job;
	// nil when every instance got an answer. The instances it cut off are
	// Left.
	Err error
}

// Remaining returns the items not sent (Failed and Left), for a retry.
func (r *Report) Remaining() []Item {
	var out []Item
	for _, x := range r.Results {
		if x.State == Failed || x.State == Left {
			out = append(out, x.Item)
		}
	}
	return out
}

// ProposedContexts returns the presentation contexts for a set of items,
// "based on the target image": per SOP class, the file's own transfer
// syntax first, then Explicit VR LE and Implicit VR LE, each alone in its
// context so that the peer can accept some and not others.
func ProposedContexts(items []Item) []ul.ProposedContext {
	var out []ul.ProposedContext
	seen := map[[2]string]bool{}
	add := func(class, ts string) {
		k := [2]string{class, ts}
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, ul.ProposedContext{AbstractSyntax: class, TransferSyntaxes: []string{ts}, SCU: true})
	}
	for _, it := range items {
		add(it.SOPClassUID, it.TransferSyntaxUID)
		add(it.SOPClassUID, dcm.ExplicitVRLittleEndian)
		add(it.SOPClassUID, dcm.ImplicitVRLittleEndian)
	}
	return out
}

// batches splits items (order kept) so that no batch needs more than max
// presentation contexts.
func batches(items []Item, max int) [][]Item {
	var out [][]Item
	var cur []Item
	seen := map[[2]string]bool{}
	for _, it := range items {
		need := 0
		for _, ts := range []string{it.TransferSyntaxUID, dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian} {
			if !seen[[2]string{it.SOPClassUID, ts}] {
				need++
			}
		}
		if len(cur) > 0 && len(seen)+need > max {
			out = append(out, cur)
			cur, seen = nil, map[[2]string]bool{}
		}
		cur = append(cur, it)
		for _, ts := range []string{it.TransferSyntaxUID, dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian} {
			seen[[2]string{it.SOPClassUID, ts}] = true
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// Send sends items to t and reports each instance's outcome. It never
// returns early: when it returns, every association it opened has ended.
func Send(ctx context.Context, t Target, items []Item, opt Options) Report {
	if opt.Codecs == nil {
		opt.Codecs = pixel.DefaultCodecs()
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.DIMSETimeout == 0 {
		opt.DIMSETimeout = 60 * time.Second
	}
	s := &sender{t: t, opt: opt, results: make([]ItemResult, len(items))}
	work := make([]Item, len(items))
	for i, it := range items {
		s.results[i] = ItemResult{Item: it, State: Left}
		if it.TransferSyntaxUID == "" {
			if f, h, err := readHeaderFile(it.Path); err == nil {
				it.TransferSyntaxUID = h.TransferSyntaxUID
				f.Close()
			}
		}
		work[i] = it
	}
	par := max(t.MaxAssociations, 1)
	par = min(par, len(work))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.cancel = cancel
	var wg sync.WaitGroup
	for w := 0; w < par; w++ {
		lo, hi := w*len(work)/par, (w+1)*len(work)/par
		shard := make([]int, 0, hi-lo)
		for i := lo; i < hi; i++ {
			shard = append(shard, i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.worker(ctx, work, shard)
		}()
	}
	wg.Wait()
	r := Report{Results: s.results, Associations: s.assocs}
	for _, x := range r.Results {
		switch x.State {
		case Sent:
			r.Sent++
			r.Bytes += x.Bytes
		case Warning:
			r.Warnings++
			r.Bytes += x.Bytes
		case Failed:
			r.Failed++
		case Left:
			r.Left++
		}
	}
	if r.Left > 0 {
		r.Err = s.err
		if r.Err == nil {
			r.Err = context.Cause(ctx)
		}
		if r.Err == nil {
			r.Err = errors.New("instances left unsent")
		}
	}
	return r
}

type sender struct {
	t       Target
	opt     Options
	cancel  context.CancelCauseFunc
	mu      sync.Mutex
	results []ItemResult
	err     error
	assocs  int
}

// stop records the transport failure that ends the job.
func (s *sender) stop(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.cancel(err)
}

func (s *sender) finish(i int, r ItemResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Item = s.results[i].Item
	s.results[i] = r
	if s.opt.Progress != nil {
		s.opt.Progress(r)
	}
}

func (s *sender) worker(ctx context.Context, all []Item, shard []int) {
	items := make([]Item, len(shard))
	for k, i := range shard {
		items[k] = all[i]
	}
	start := 0
	for _, b := range batches(items, MaxContexts) {
		ids := shard[start : start+len(b)]
		start += len(b)
		if ctx.Err() != nil {
			return
		}
		if err := s.batch(ctx, b, ids); err != nil {
			s.stop(err)
			return
		}
	}
}

// batch sends one batch over one association. It returns a transport
// error (which stops the job); per-instance failures are recorded.
func (s *sender) batch(ctx context.Context, b []Item, ids []int) error {
	if s.opt.Limiter != nil {
		release, err := s.opt.Limiter.Acquire(ctx, s.opt.LimitKey, max(s.t.MaxAssociations, 1))
		if err != nil {
			return err
		}
		defer release()
	}
	a, err := ul.Dial(ctx, ul.DialConfig{Addr: s.t.Addr, CallingAE: s.t.CallingAE, CalledAE: s.t.CalledAE,
		Contexts: ProposedContexts(b), MaxPDULength: s.t.MaxPDULength, Timeouts: s.t.Timeouts, Logger: s.opt.Logger})
	if err != nil {
		var nc *ul.NoContextError
		if errors.As(err, &nc) {
			for k := range b {
				s.finish(ids[k], ItemResult{State: Failed, Reason: "the peer accepted no presentation context: " + err.Error()})
			}
			return nil
		}
		return err
	}
	s.mu.Lock()
	s.assocs++
	s.mu.Unlock()
	defer a.Abort() // no-op after a release
	c := dimse.NewConn(a, dimse.Options{Timeout: s.opt.DIMSETimeout, Logger: s.opt.Logger})
	var buf bytes.Buffer
	for k, it := range b {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		r, terr := s.one(ctx, a, c, it, &buf)
		if terr != nil {
			return terr
		}
		s.finish(ids[k], r)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.Release(rctx); err != nil {
		s.opt.Logger.Info("storage: release failed", "addr", s.t.Addr, "err", err)
	}
	return nil
}

// one sends one instance; a non-nil error is a transport failure.
func (s *sender) one(ctx context.Context, a *ul.Association, c *dimse.Conn, it Item, buf *bytes.Buffer) (ItemResult, error) {
	r := ItemResult{State: Failed}
	f, h, err := readHeaderFile(it.Path)
	if err != nil {
		r.Reason = "cannot read the stored file: " + err.Error()
		return r, nil
	}
	defer f.Close()
	pc, ok := a.FindContext(it.SOPClassUID, h.TransferSyntaxUID)
	if !ok {
		pc, ok = a.FindContext(it.SOPClassUID, dcm.ExplicitVRLittleEndian, dcm.ImplicitVRLittleEndian)
	}
	if !ok {
		r.Reason = s.refusal(a, it.SOPClassUID)
		return r, nil
	}
	var data io.Reader
	var n int64
	if pc.TransferSyntax == h.TransferSyntaxUID {
		n = h.Size - h.DataSetOffset
		data = io.NewSectionReader(f, h.DataSetOffset, n)
		if n%2 == 1 {
			// PS3.5 A.5: a deflated stream is padded to even length
			data, n = io.MultiReader(data, bytes.NewReader([]byte{0})), n+1
		}
	} else {
		buf.Reset()
		if err := Transcode(ctx, buf, it.Path, pc.TransferSyntax, s.opt.Codecs); err != nil {
			r.Reason = fmt.Sprintf("cannot convert from %s to %s: %v", tsName(h.TransferSyntaxUID), tsName(pc.TransferSyntax), err)
			return r, nil
		}
		n = int64(buf.Len())
		data = bytes.NewReader(buf.Bytes())
		r.Converted = true
	}
	r.TransferSyntaxUID = pc.TransferSyntax
	rsp, err := c.Store(ctx, pc.ID, dimse.StoreRequest{SOPClassUID: it.SOPClassUID, SOPInstanceUID: it.SOPInstanceUID}, data)
	if err != nil {
		return r, err
	}
	r.Status, r.HasStatus = rsp.Status, true
	switch rsp.Status.Class() {
	case dimse.ClassSuccess:
		r.State, r.Bytes = Sent, n
	case dimse.ClassWarning:
		r.State, r.Bytes = Warning, n
		r.Reason = statusText(rsp)
	default:
		r.State = Failed
		r.Reason = statusText(rsp)
	}
	return r, nil
}

func statusText(rsp *dimse.Command) string {
	s := fmt.Sprintf("%s (0x%04X): %s", rsp.Status.Class(), uint16(rsp.Status), rsp.Status.MeaningFor(dimse.CStoreRQ))
	if rsp.ErrorComment != "" {
		s += " — " + rsp.ErrorComment
	}
	return s
}

// refusal explains why no context can carry a SOP class.
func (s *sender) refusal(a *ul.Association, class string) string {
	name := class
	if c, ok := LookupSOPClass(class); ok {
		name = c.Name + " (" + class + ")"
	}
	for _, c := range a.Contexts() {
		if c.AbstractSyntax == class && !c.Accepted() {
			return fmt.Sprintf("the peer refused %s: %s", name, c.Result)
		}
	}
	return "no presentation context for " + name
}

func tsName(uid string) string {
	if ts, ok := dcm.LookupTS(uid); ok {
		return ts.Name
	}
	return uid
}

// Limiter bounds concurrent associations per node across Sends. The zero
// value is ready to use.
type Limiter struct {
	mu  sync.Mutex
	sem map[string]chan struct{}
}

// Acquire waits for one of n slots of key (n fixed by the first call for
// that key) and returns its release function.
func (l *Limiter) Acquire(ctx context.Context, key string, n int) (func(), error) {
	l.mu.Lock()
	if l.sem == nil {
		l.sem = map[string]chan struct{}{}
	}
	ch, ok := l.sem[key]
	if !ok || cap(ch) != max(n, 1) && len(ch) == 0 {
		ch = make(chan struct{}, max(n, 1))
		l.sem[key] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}
