package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gorm.io/gorm"
)

// indexJob is one durable, placed object waiting for its index rows.
type indexJob struct {
	info   *extracted
	source string
	// fresh: when it was placed, neither a row nor a pending job had its
	// SOP Instance UID, so the indexer inserts without looking one up.
	fresh bool
	// replaces: a file (relative path) of the object this one replaced,
	// removed once the row names this one's file.
	replaces string
}

// pendingObject is what place needs to know of an object whose rows are
// not committed yet (duplicates and replacements are decided against it).
type pendingObject struct {
	path        string // relative to the objects directory
	contentFrom int64
	jobs        int // queued jobs with this SOP Instance UID
}

// indexer writes the index rows of placed objects in the background, in
// batches (one SQLite transaction each), in the order they were placed.
//
// Sequence numbers: queued counts jobs ever enqueued, indexed those whose
// transaction has ended (committed, or failed and logged). A reader that
// must see every object acknowledged before its call waits until indexed
// reaches the queued value it read (barrier).
type indexer struct {
	mu      sync.Mutex
	changed *sync.Cond // queue grew, indexed advanced, or closing
	queue   []indexJob
	queued  uint64
	indexed uint64
	pending map[string]*pendingObject // by SOP Instance UID
	closing bool
	waiters int  // Flush calls waiting
	hold    bool // tests: stop indexing (a crash before the rows are written)
	done    chan struct{}
}

// maxQueue bounds the jobs waiting for the indexer: a sender faster than
// SQLite is slowed down (the leader waits) instead of growing memory.
const maxQueue = 4096

// maxIndexBatch bounds the rows of one transaction, so that a reader's
// barrier never waits for long.
const maxIndexBatch = 512

// gatherMillis: how long the indexer lets a small batch grow.
const gatherMillis = 8

func (s *Store) startIndexer() {
	x := &s.idx
	x.changed = sync.NewCond(&x.mu)
	x.pending = map[string]*pendingObject{}
	x.done = make(chan struct{})
	go s.indexLoop()
}

// lookupPending returns the pending object with this SOP Instance UID.
// Caller holds the group-commit leadership (placements are serialised).
func (x *indexer) lookupPending(uid string) (pendingObject, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	p := x.pending[uid]
	if p == nil {
		return pendingObject{}, false
	}
	return *p, true
}

// enqueue hands placed objects to the indexer, waiting while the queue is
// full. Their SOP Instance UIDs are pending from now until their rows are
// committed.
func (x *indexer) enqueue(jobs []indexJob) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for len(x.queue) >= maxQueue && !x.closing {
		x.changed.Wait()
	}
	for _, j := range jobs {
		uid := j.info.inst.SOPInstanceUID
		p := x.pending[uid]
		if p == nil {
			p = &pendingObject{}
			x.pending[uid] = p
		}
		p.path, p.contentFrom = j.info.inst.Path, j.info.inst.ContentFrom
		p.jobs++
	}
	x.queue = append(x.queue, jobs...)
	x.queued += uint64(len(jobs))
	x.changed.Broadcast()
}

// Flush waits until every object whose Commit returned before the call is
// in the index (or its indexing failed and was logged), or ctx ends.
func (s *Store) Flush(ctx context.Context) error {
	x := &s.idx
	x.mu.Lock()
	target := x.queued
	if x.indexed >= target {
		x.mu.Unlock()
		return nil
	}
	x.mu.Unlock()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			x.mu.Lock()
			x.changed.Broadcast()
			x.mu.Unlock()
		})
		defer stop()
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.waiters++
	x.changed.Broadcast() // a gathering indexer writes now
	defer func() { x.waiters-- }()
	for x.indexed < target {
		if err := ctx.Err(); err != nil {
			return err
		}
		x.changed.Wait()
	}
	return nil
}

// barrier makes a read see every acknowledged object (read-your-writes for
// callers that query right after a C-STORE-RSP or an import).
func (s *Store) barrier(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return s.Flush(ctx)
}

// stopIndexer indexes what is queued and ends the indexer.
func (s *Store) stopIndexer() {
	x := &s.idx
	if x.done == nil {
		return
	}
	x.mu.Lock()
	x.closing = true
	x.changed.Broadcast()
	x.mu.Unlock()
	<-x.done
}

func (s *Store) indexLoop() {
	x := &s.idx
	defer close(x.done)
	for {
		x.mu.Lock()
		for (len(x.queue) == 0 || x.hold) && !x.closing {
			x.changed.Wait()
		}
		if len(x.queue) == 0 || (x.hold && x.closing) {
			x.mu.Unlock()
			return
		}
		// Let a batch gather (one transaction for many rows costs little
		// more than for one), unless a reader waits for it.
		deadline := time.Now().Add(gatherMillis * time.Millisecond)
		for len(x.queue) < maxIndexBatch/2 && x.waiters == 0 && !x.closing {
			d := time.Until(deadline)
			if d <= 0 {
				break
			}
			t := time.AfterFunc(d, func() {
				x.mu.Lock()
				x.changed.Broadcast()
				x.mu.Unlock()
			})
			x.changed.Wait() // the deadline, a waiter, more jobs, or closing
			t.Stop()
		}
		n := min(len(x.queue), maxIndexBatch)
		batch := x.queue[:n:n]
		x.queue = x.queue[n:]
		if len(x.queue) == 0 {
			x.queue = nil
		}
		x.changed.Broadcast() // room in the queue
		x.mu.Unlock()

		s.indexBatch(batch)
		s.rowGen.Add(1) // before the UIDs leave the pending set
		s.removeReplaced(batch)

		x.mu.Lock()
		for _, j := range batch {
			uid := j.info.inst.SOPInstanceUID
			if p := x.pending[uid]; p != nil {
				if p.jobs--; p.jobs <= 0 {
					delete(x.pending, uid)
				}
			}
		}
		x.indexed += uint64(len(batch))
		x.changed.Broadcast()
		x.mu.Unlock()
		s.notify(batch)
	}
}

// indexBatch writes the rows of a batch in one transaction; if it fails,
// row by row, so that one bad row does not cost the others. An object
// whose rows cannot be written stays on disk: reconcile indexes it at the
// next Open.
func (s *Store) indexBatch(batch []indexJob) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.writeFresh(batch) == nil {
		return
	}
	err := s.db.Transaction(func(tx *gorm.DB) error {
		b := &rowBatch{}
		for _, j := range batch {
			if err := s.indexJobTx(tx, j, b); err != nil {
				return err
			}
		}
		return b.flush(tx)
	})
	if err == nil {
		return
	}
	s.ids.reset()
	for _, j := range batch {
		err := s.db.Transaction(func(tx *gorm.DB) error { return s.indexJobTx(tx, j, nil) })
		if err != nil {
			s.ids.reset()
			s.log.Error("store: index rows not written; the file is kept and indexed at the next start",
				"sop", j.info.inst.SOPInstanceUID, "path", j.info.inst.Path, "err", fmt.Errorf("store: index: %w", err))
		}
	}
}

func (s *Store) indexJobTx(tx *gorm.DB, j indexJob, b *rowBatch) error {
	var old Instance
	exists := false
	if !j.fresh {
		// An earlier job of the batch may hold this UID's row.
		if err := b.flush(tx); err != nil {
			return err
		}
		exists = tx.Where("sop_instance_uid = ?", j.info.inst.SOPInstanceUID).Limit(1).Find(&old).RowsAffected > 0
	}
	x := new(extracted)
	*x = *j.info // indexTx fills IDs in; a failed batch retries from the original
	return s.indexTx(tx, x, exists, old, b)
}

// removeReplaced removes the files that the batch's objects replaced, if
// the rows now name the new files (if the rows could not be written, the
// old file stays, and Open sorts the two out by age).
func (s *Store) removeReplaced(batch []indexJob) {
	for _, j := range batch {
		if j.replaces == "" {
			continue
		}
		var path string
		if err := s.lookup.QueryRow(j.info.inst.SOPInstanceUID).Scan(new(uint), &path, new(sql.NullString), new(sql.NullInt64)); err != nil || path != j.info.inst.Path {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, "objects", j.replaces)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("store: replaced file not removed", "path", j.replaces, "err", err)
		}
	}
}

// notify reports a batch's changes: one call per (kind, study, series).
func (s *Store) notify(batch []indexJob) {
	if s.opt.OnChange == nil {
		return
	}
	seen := map[Change]bool{}
	var out []Change
	for _, j := range batch {
		c := Change{Kind: "added", StudyInstanceUID: j.info.study.StudyInstanceUID, SeriesInstanceUID: j.info.series.SeriesInstanceUID}
		if !j.fresh {
			c.Kind = "replaced"
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	go func() { // a slow listener must not hold the indexer up
		for _, c := range out {
			s.opt.OnChange(c)
		}
	}()
}
