package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// JobError is one failed item of a job.
type JobError struct {
	Item   string `json:"item"`
	Reason string `json:"reason"`
}

// Job is the state of a long-running piece of work, as the UI shows it.
type Job struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"` // import, retrieve, send
	Title      string     `json:"title"`
	State      string     `json:"state"` // running, done, failed, cancelled, stopped
	Done       int        `json:"done"`
	Total      int        `json:"total"`
	Failed     int        `json:"failed"`
	Bytes      int64      `json:"bytes"`
	Rate       float64    `json:"rate"` // items/s
	MBps       float64    `json:"mbps"`
	ETASeconds float64    `json:"etaSeconds"`
	StartedAt  time.Time  `json:"startedAt"`
	EndedAt    *time.Time `json:"endedAt,omitempty"`
	Message    string     `json:"message"`
	Errors     []JobError `json:"errors"`
	// StudyUID is the study a retrieve job brings (so that its card can
	// offer "Open" after a reload of the UI); "" for other jobs.
	StudyUID string `json:"studyInstanceUID,omitempty"`
}

type job struct {
	m      *jobManager
	mu     sync.Mutex
	v      Job
	cancel context.CancelFunc
	last   time.Time
}

type jobManager struct {
	mu   sync.Mutex
	jobs map[string]*job
	seq  atomic.Int64
	emit func(string, any)
	wg   sync.WaitGroup
}

const maxJobsKept = 100

func newJobManager(emit func(string, any)) *jobManager {
	return &jobManager{jobs: map[string]*job{}, emit: emit}
}

// start runs fn in a goroutine as a new job and returns its ID. study is
// the study the job is about ("" if none).
func (m *jobManager) start(kind, title, study string, fn func(ctx context.Context, j *job) error) string {
	ctx, cancel := context.WithCancel(context.Background())
	id := fmt.Sprintf("%s-%d", kind, m.seq.Add(1))
	j := &job{m: m, cancel: cancel, v: Job{ID: id, Kind: kind, Title: title, State: "running", StartedAt: time.Now().UTC(), Errors: []JobError{}, StudyUID: study}}
	m.mu.Lock()
	m.jobs[id] = j
	m.prune()
	m.mu.Unlock()
	m.emit("job", j.snapshot())
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer cancel()
		err := fn(ctx, j)
		j.mu.Lock()
		now := time.Now().UTC()
		j.v.EndedAt = &now
		switch {
		case errors.Is(err, context.Canceled):
			j.v.State = "cancelled"
		case errors.Is(err, errStopped):
			j.v.State = "stopped"
			if j.v.Message == "" {
				j.v.Message = err.Error()
			}
		case err != nil:
			j.v.State = "failed"
			j.v.Message = err.Error()
		default:
			j.v.State = "done"
		}
		j.v.ETASeconds = 0
		j.mu.Unlock()
		m.emit("job", j.snapshot())
	}()
	return id
}

// errStopped marks a job stopped by a transport failure (it can be retried).
var errStopped = errors.New("stopped")

// prune drops the oldest finished jobs beyond maxJobsKept. Caller holds mu.
func (m *jobManager) prune() {
	if len(m.jobs) <= maxJobsKept {
		return
	}
	var done []*job
	for _, j := range m.jobs {
		if s := j.snapshot(); s.State != "running" {
			done = append(done, j)
		}
	}
	sort.Slice(done, func(a, b int) bool { return done[a].v.StartedAt.Before(done[b].v.StartedAt) })
	for i := 0; i < len(done) && len(m.jobs) > maxJobsKept; i++ {
		delete(m.jobs, done[i].v.ID)
	}
}

// update changes the job's state and emits it, at most 5 times a second.
func (j *job) update(fn func(v *Job)) {
	j.mu.Lock()
	fn(&j.v)
	el := time.Since(j.v.StartedAt).Seconds()
	if el > 0 {
		j.v.Rate = float64(j.v.Done) / el
		j.v.MBps = float64(j.v.Bytes) / el / 1e6
		if j.v.Rate > 0 && j.v.Total > j.v.Done {
			j.v.ETASeconds = float64(j.v.Total-j.v.Done) / j.v.Rate
		} else {
			j.v.ETASeconds = 0
		}
	}
	send := time.Since(j.last) > 200*time.Millisecond
	if send {
		j.last = time.Now()
	}
	j.mu.Unlock()
	if send {
		j.m.emit("job", j.snapshot())
	}
}

func (j *job) snapshot() Job {
	j.mu.Lock()
	defer j.mu.Unlock()
	v := j.v
	v.Errors = append([]JobError{}, j.v.Errors...)
	return v
}

func (m *jobManager) list() []Job {
	m.mu.Lock()
	out := make([]Job, 0, len(m.jobs))
	for _, j := range m.jobs {
		out = append(out, j.snapshot())
	}
	m.mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].StartedAt.After(out[b].StartedAt) })
	return out
}

func (m *jobManager) get(id string) (*job, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	return j, ok
}

func (m *jobManager) cancel(id string) error {
	j, ok := m.get(id)
	if !ok {
		return fmt.Errorf("no job %q", id)
	}
	j.cancel()
	return nil
}

// waitJob blocks until the job ends and returns its final state.
func (m *jobManager) waitJob(ctx context.Context, id string) (Job, error) {
	for {
		j, ok := m.get(id)
		if !ok {
			return Job{}, fmt.Errorf("no job %q", id)
		}
		if v := j.snapshot(); v.State != "running" {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return Job{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (m *jobManager) wait() {
	m.mu.Lock()
	for _, j := range m.jobs {
		j.cancel()
	}
	m.mu.Unlock()
	m.wg.Wait()
}
