package storage

import (
	"context"
	"net"
	"sort"
	"sync"
	"time"

	"lightbox/backend/dimse"
	"lightbox/backend/ul"
)

// AssociationActivity is what the Incoming panel shows of one association.
type AssociationActivity struct {
	ID        uint64     `json:"id"`
	CallingAE string     `json:"callingAE"`
	CalledAE  string     `json:"calledAE"`
	Host      string     `json:"host"`
	State     string     `json:"state"` // active, ended, aborted, rejected, failed (see Refused); "receiving" when seen without Track
	StartedAt time.Time  `json:"startedAt"`
	EndedAt   *time.Time `json:"endedAt,omitempty"`
	Instances int        `json:"instances"` // stored (incl. duplicates)
	Failed    int        `json:"failed"`
	Bytes     int64      `json:"bytes"`
	Rate      float64    `json:"rate"` // instances/s
	MBps      float64    `json:"mbps"`
	LastError string     `json:"lastError,omitempty"`
	Errors    []string   `json:"errors"` // the last maxErrors failures
}

const (
	maxErrors       = 20
	maxAssocsKept   = 50
	unattributedKey = 0 // never an entry's ID
)

// Activity tracks the associations of a listener. The zero value is not
// usable; call NewActivity.
type Activity struct {
	mu       sync.Mutex
	seq      uint64
	m        map[uint64]*AssociationActivity
	onChange func(AssociationActivity)
	last     map[uint64]time.Time
	// untracked maps calling AE|address to the entry of associations
	// seen without Track
	untracked map[string]uint64
}

// NewActivity returns a tracker; onChange (optional) is called with a copy
// of an association's state when it starts, ends, and at most 4 times a
// second while instances arrive. It must not block.
func NewActivity(onChange func(AssociationActivity)) *Activity {
	return &Activity{m: map[uint64]*AssociationActivity{}, onChange: onChange, last: map[uint64]time.Time{}}
}

type assocKey struct{}

// Peer is what a handler knows of the association it serves.
type Peer struct {
	ID        uint64
	CallingAE string
	CalledAE  string
	Host      string
}

// PeerFrom returns the association set up by Track (ok false without it).
func PeerFrom(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(assocKey{}).(Peer)
	return p, ok
}

// WithPeer returns a context carrying p (for tests and other wrappers).
func WithPeer(ctx context.Context, p Peer) context.Context {
	return context.WithValue(ctx, assocKey{}, p)
}

// Track wraps the handler of a ul.Server (normally a *dimse.Mux): every
// association is recorded, and its handlers can find who called through
// PeerFrom.
func (t *Activity) Track(next ul.Handler) ul.Handler {
	return ul.HandlerFunc(func(ctx context.Context, a *ul.Association) {
		host := ""
		if ra := a.RemoteAddr(); ra != nil {
			host = ra.String()
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
		}
		p := Peer{CallingAE: a.CallingAE(), CalledAE: a.CalledAE(), Host: host}
		p.ID = t.begin(p)
		next.ServeAssociation(WithPeer(ctx, p), a)
		err := a.Err()
		t.end(p.ID, err)
	})
}

func (t *Activity) begin(p Peer) uint64 {
	t.mu.Lock()
	t.seq++
	id := t.seq
	v := &AssociationActivity{ID: id, CallingAE: p.CallingAE, CalledAE: p.CalledAE, Host: p.Host, State: "active",
		StartedAt: time.Now().UTC(), Errors: []string{}}
	t.m[id] = v
	t.prune()
	c := t.copyOf(v)
	t.mu.Unlock()
	t.notify(c)
	return id
}

func (t *Activity) end(id uint64, err error) {
	t.mu.Lock()
	v, ok := t.m[id]
	if !ok {
		t.mu.Unlock()
		return
	}
	now := time.Now().UTC()
	v.EndedAt = &now
	v.State = "ended"
	if err != nil && !isOrderlyEnd(err) {
		v.State = "aborted"
		v.LastError = err.Error()
	}
	t.rates(v)
	c := t.copyOf(v)
	delete(t.last, id)
	t.mu.Unlock()
	t.notify(c)
}

// Refused records an association that never reached the handler: state
// "rejected" (the listener sent A-ASSOCIATE-RJ) or "failed" (the
// connection ended before the association was accepted), with reason in
// words. It joins the same list, with an ID of the same sequence, as the
// associations Track sees, so the Incoming panel lists both alike.
func (t *Activity) Refused(state, callingAE, calledAE, host, reason string, start, end time.Time) {
	t.mu.Lock()
	t.seq++
	start, end = start.UTC(), end.UTC()
	v := &AssociationActivity{ID: t.seq, CallingAE: callingAE, CalledAE: calledAE, Host: host, State: state,
		StartedAt: start, EndedAt: &end, LastError: reason, Errors: []string{}}
	t.m[v.ID] = v
	t.prune()
	c := t.copyOf(v)
	t.mu.Unlock()
	t.notify(c)
}

func isOrderlyEnd(err error) bool {
	return errorsIs(err, ul.ErrReleased) || errorsIs(err, ul.ErrPeerReleased)
}

// record adds one instance outcome to the association of ctx (set up by
// Track), or, without Track, to an entry keyed by the message's peer
// (calling AE and remote address; its State stays "receiving": the end of
// an association is seen only through Track).
func (t *Activity) record(ctx context.Context, msgPeer dimse.Peer, bytes int64, failure string) {
	if t == nil {
		return
	}
	p, ok := PeerFrom(ctx)
	id := p.ID
	t.mu.Lock()
	v := t.m[id]
	if !ok || v == nil {
		key := msgPeer.CallingAE + "|" + msgPeer.Addr
		if t.untracked == nil {
			t.untracked = map[string]uint64{}
		}
		id = t.untracked[key]
		v = t.m[id]
		if id == unattributedKey || v == nil {
			t.seq++
			id = t.seq
			t.untracked[key] = id
			host := msgPeer.Addr
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			v = &AssociationActivity{ID: id, CallingAE: msgPeer.CallingAE, CalledAE: msgPeer.CalledAE, Host: host,
				State: "receiving", StartedAt: time.Now().UTC(), Errors: []string{}}
			t.m[id] = v
			t.prune()
		}
	}
	if failure == "" {
		v.Instances++
		v.Bytes += bytes
	} else {
		v.Failed++
		v.LastError = failure
		v.Errors = append(v.Errors, failure)
		if len(v.Errors) > maxErrors {
			v.Errors = v.Errors[len(v.Errors)-maxErrors:]
		}
	}
	t.rates(v)
	send := failure != "" || time.Since(t.last[id]) > 250*time.Millisecond
	if send {
		t.last[id] = time.Now()
	}
	c := t.copyOf(v)
	t.mu.Unlock()
	if send {
		t.notify(c)
	}
}

func (t *Activity) rates(v *AssociationActivity) {
	end := time.Now()
	if v.EndedAt != nil {
		end = *v.EndedAt
	}
	if el := end.Sub(v.StartedAt).Seconds(); el > 0 {
		v.Rate = float64(v.Instances) / el
		v.MBps = float64(v.Bytes) / el / 1e6
	}
}

func (t *Activity) copyOf(v *AssociationActivity) AssociationActivity {
	c := *v
	c.Errors = append([]string{}, v.Errors...)
	return c
}

func (t *Activity) notify(c AssociationActivity) {
	if t.onChange != nil {
		t.onChange(c)
	}
}

// prune drops the oldest ended associations beyond maxAssocsKept. Caller
// holds mu.
func (t *Activity) prune() {
	if len(t.m) <= maxAssocsKept {
		return
	}
	var ended []*AssociationActivity
	for _, v := range t.m {
		if v.EndedAt != nil {
			ended = append(ended, v)
		}
	}
	sort.Slice(ended, func(i, j int) bool { return ended[i].StartedAt.Before(ended[j].StartedAt) })
	for _, v := range ended {
		if len(t.m) <= maxAssocsKept {
			break
		}
		delete(t.m, v.ID)
	}
	var untracked []*AssociationActivity
	for _, v := range t.m {
		if v.State == "receiving" {
			untracked = append(untracked, v)
		}
	}
	sort.Slice(untracked, func(i, j int) bool { return untracked[i].StartedAt.Before(untracked[j].StartedAt) })
	for _, v := range untracked {
		if len(t.m) <= maxAssocsKept {
			break
		}
		delete(t.m, v.ID)
	}
}

// List returns the tracked associations, newest first.
func (t *Activity) List() []AssociationActivity {
	t.mu.Lock()
	out := make([]AssociationActivity, 0, len(t.m))
	for _, v := range t.m {
		if v.EndedAt == nil {
			t.rates(v)
		}
		out = append(out, t.copyOf(v))
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].StartedAt.Equal(out[j].StartedAt) {
			return out[i].StartedAt.After(out[j].StartedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out
}
