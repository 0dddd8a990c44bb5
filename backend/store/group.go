package store

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// commitReq is one Commit waiting for its batch.
type commitReq struct {
	in      *Incoming
	info    *extracted
	expect  *Expect
	source  string
	durable bool
	early   *earlyLookup // the row as read before the sync, or nil
	wake    chan bool    // true: done (res/err set); false: lead the next batch

	finished bool // set by the leader that committed it

	res    Result
	err    error
	exists bool     // a row or a pending object had its SOP Instance UID
	old    Instance // what it was compared with
	placed bool     // linked or renamed into the object tree
	dirs   []string // directories whose entries changed (to sync)
	// replaces: the stored file this object replaces, when it has a path
	// of its own (a slot); removed once the rows name the new one.
	replaces string
}

// committer groups concurrent commits (group commit). The first caller
// to arrive leads: it takes the whole queue as a batch and commits it;
// callers that arrive meanwhile queue for the next batch. When its own
// batch is done the leader hands leadership to the first waiter, so no
// caller commits for others longer than for its own batch.
type committer struct {
	mu      sync.Mutex
	queue   []*commitReq
	leading bool
}

// submit commits rs (placed in this order) and returns when all of them
// are finished.
func (c *committer) submit(s *Store, rs ...*commitReq) {
	c.mu.Lock()
	c.queue = append(c.queue, rs...)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	if !lead {
		// Each request is woken when done, or told to lead the next
		// batch (then this caller leads until all of rs are done).
		for _, r := range rs {
			if done := <-r.wake; !done {
				lead = true
				break
			}
		}
		if !lead {
			return
		}
	}
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()
		later := s.commitBatch(batch)
		c.mu.Lock()
		// Requests deferred by the batch (a second object with the same
		// SOP Instance UID) go first in the next one.
		c.queue = append(later, c.queue...)
		if !allFinished(rs) {
			c.mu.Unlock()
			continue
		}
		var next *commitReq
		if len(c.queue) > 0 {
			next = c.queue[0]
		} else {
			c.leading = false
		}
		c.mu.Unlock()
		if next != nil {
			next.wake <- false
		}
		return
	}
}

// allFinished reports whether every request is done. Only the leader
// calls it (finished is set by leaders, and leadership passes through a
// channel, so reads are ordered after the writes).
func allFinished(rs []*commitReq) bool {
	for _, r := range rs {
		if !r.finished {
			return false
		}
	}
	return true
}

// commitBatch places a batch (duplicate checks, links into the object
// tree), syncs the directories, hands the placed objects to the indexer,
// and releases the waiters. It returns requests that must wait for the
// next batch (a second object with a SOP Instance UID already in this one).
func (s *Store) commitBatch(batch []*commitReq) (later []*commitReq) {
	s.room = -1 // measured when the batch places its first object
	seen := make(map[string]bool, len(batch))
	var now, placed []*commitReq
	shared := "" // the directory of the batch's new objects
	for _, r := range batch {
		uid := r.info.inst.SOPInstanceUID
		if seen[uid] {
			later = append(later, r)
			continue
		}
		seen[uid] = true
		now = append(now, r)
		if r.err = s.place(r, &shared); r.err == nil && r.placed {
			placed = append(placed, r)
		}
	}
	s.syncDirs(placed)
	var jobs []indexJob
	for _, r := range placed {
		if r.err == nil {
			jobs = append(jobs, indexJob{info: r.info, source: r.source, fresh: !r.exists, replaces: r.replaces})
		}
	}
	if len(jobs) > 0 {
		// After the directory syncs: a row never names a file that is
		// not durable.
		s.idx.enqueue(jobs)
	}
	for _, r := range now {
		if r.err == nil && r.exists && r.placed {
			r.res.Outcome = Replaced
			s.log.Info("store: replaced an object with the same SOP Instance UID by a different one", "sop", r.info.inst.SOPInstanceUID, "source", r.source)
		}
		r.finished = true
		r.wake <- true
	}
	return later
}

// syncDirs syncs each distinct directory of the placed objects once (in
// parallel when there are several: a sync after the first mostly waits
// for the same journal commit) and fails the objects whose sync failed.
func (s *Store) syncDirs(placed []*commitReq) {
	synced := map[string]*dirSync{}
	var order []string
	for _, r := range placed {
		if r.err != nil || !r.durable {
			continue
		}
		for _, d := range r.dirs {
			if synced[d] == nil {
				synced[d] = &dirSync{}
				order = append(order, d)
			}
		}
	}
	switch len(order) {
	case 0:
		return
	case 1:
		synced[order[0]].err = syncDir(order[0])
	default:
		var wg sync.WaitGroup
		for _, d := range order {
			ds := synced[d]
			wg.Add(1)
			go func() { defer wg.Done(); ds.err = syncDir(d) }()
		}
		wg.Wait()
	}
	for _, r := range placed {
		if r.err != nil || !r.durable {
			continue
		}
		for _, d := range r.dirs {
			if err := synced[d].err; err != nil && r.err == nil {
				r.err = fmt.Errorf("store: sync directory: %w", wrapSpace(err))
			}
		}
	}
}

type dirSync struct{ err error }

// earlyLookup is the row of a SOP Instance UID as read before the object
// was synced (off the leader's path), valid while no instance row changed.
type earlyLookup struct {
	gen    uint64 // s.rowGen before the read
	old    Instance
	exists bool
}

// lookupEarly reads the row of uid for r before the sync, so that the
// leader usually needs no query. Nothing is read for a pending UID.
func (s *Store) lookupEarly(uid string) *earlyLookup {
	if _, ok := s.idx.lookupPending(uid); ok {
		return nil
	}
	e := &earlyLookup{gen: s.rowGen.Load()}
	e.old, e.exists = s.lookupRow(uid)
	return e
}

// stored is what place compares a new object with: the pending object
// whose row is not written yet, or the row of its SOP Instance UID (the
// early read when no row changed since).
func (s *Store) stored(uid string, early *earlyLookup) (old Instance, exists bool) {
	if p, ok := s.idx.lookupPending(uid); ok {
		return Instance{SOPInstanceUID: uid, Path: p.path, ContentFrom: p.contentFrom}, true
	}
	// The indexer bumps rowGen before it drops a UID from the pending
	// set, so an unchanged generation read after the pending check means
	// the early read still holds.
	if early != nil && s.rowGen.Load() == early.gen {
		return early.old, early.exists
	}
	return s.lookupRow(uid)
}

// lookupRow reads the row of a SOP Instance UID.
func (s *Store) lookupRow(uid string) (old Instance, exists bool) {
	if s.lookup != nil {
		var sum sql.NullString
		err := s.lookup.QueryRow(uid).Scan(&old.ID, &old.Path, &sum, &old.ContentFrom)
		if err == nil {
			old.SOPInstanceUID, old.SHA256 = uid, sum.String
			return old, true
		}
		if errors.Is(err, sql.ErrNoRows) {
			return Instance{}, false
		}
		s.log.Warn("store: duplicate lookup failed; trying through gorm", "err", err)
	}
	exists = s.db.Where("sop_instance_uid = ?", uid).Limit(1).Find(&old).RowsAffected > 0
	return old, exists
}

// place decides whether the object is a duplicate and, if not, links it
// into the object tree. Only the group-commit leader calls it, so
// placements are serialised.
// The new objects of one batch go into one directory (that of the first
// one's hash, *shared), so that the batch syncs one directory instead of one
// per object; rows hold each object's path, and a file name is still the
// hash of its SOP Instance UID, never a UID.
func (s *Store) place(r *commitReq, shared *string) error {
	info := r.info
	old, exists := s.stored(info.inst.SOPInstanceUID, r.early)
	if exists {
		same, err := sameContent(r.in, filepath.Join(s.dir, "objects", old.Path), &old)
		if err == nil && (same || r.expect == nil || !r.expect.ReplaceDifferent) {
			if !same {
				s.log.Info("store: kept the stored object; a different one with the same SOP Instance UID was not imported",
					"sop", info.inst.SOPInstanceUID, "source", r.source)
			}
			r.res.Outcome = Duplicate
			return nil
		}
	}
	if err := s.checkRoom(); err != nil {
		return err
	}
	if sl := r.in.slot; sl != nil {
		// Named and synced already: nothing to link. A replaced file is
		// removed once the row names the new one (see indexJob.replaces).
		r.in.done = true
		r.in.f.Close()
		r.placed, r.exists, r.old = true, exists, old
		info.inst.Path = sl.rel
		if exists && old.Path != "" && old.Path != sl.rel && filepath.IsLocal(old.Path) {
			r.replaces = old.Path
		}
		return nil
	}
	rel := objectPath(info.inst.SOPInstanceUID)
	switch {
	case exists && old.Path != "" && filepath.IsLocal(old.Path):
		rel = old.Path // replace in place, whatever layout wrote it
	case *shared == "":
		*shared = filepath.Dir(rel)
	default:
		rel = filepath.Join(*shared, filepath.Base(rel))
	}
	dst := filepath.Join(s.dir, "objects", rel)
	created, err := s.mkdirs(filepath.Dir(dst))
	if err != nil {
		return wrapSpace(err)
	}
	if err := s.link(r.in, dst); err != nil {
		return wrapSpace(err)
	}
	r.in.done = true
	r.in.f.Close() // synced already (or fsync is off)
	r.placed, r.exists, r.old = true, exists, old
	info.inst.Path = rel
	r.dirs = append(created, filepath.Dir(dst))
	return nil
}

// indexReserve is the free space the index must keep for the rows of the
// objects acknowledged and not yet indexed: an object is refused
// (ErrNoSpace) rather than acknowledged without room for its rows.
const (
	indexReserve   = 256 << 10
	indexRowBudget = 2 << 10 // per queued row
)

// checkRoom refuses a placement when the file system holding the store is
// nearly full. Caller is the group-commit leader; s.room caches the free
// bytes for the batch (-1: not measured yet).
func (s *Store) checkRoom() error {
	if s.room < 0 {
		var st unix.Statfs_t
		if err := unix.Statfs(s.dir, &st); err != nil {
			s.room = 1 << 62 // cannot tell: let the writes report it
			return nil
		}
		s.room = int64(st.Bavail) * int64(st.Bsize)
	}
	s.idx.mu.Lock()
	waiting := int64(s.idx.queued - s.idx.indexed)
	s.idx.mu.Unlock()
	need := indexReserve + (waiting+1)*indexRowBudget
	if s.room < need {
		return fmt.Errorf("%w: %d bytes free, the index needs %d", ErrNoSpace, s.room, need)
	}
	s.room -= indexRowBudget
	return nil
}

// link gives the object its name dst, replacing a file already there.
// An unnamed file is linked (directly, or through a temp name and a
// rename when dst exists); a named temp file is renamed.
func (s *Store) link(in *Incoming, dst string) error {
	if in.path != "" {
		return os.Rename(in.path, dst)
	}
	proc := "/proc/self/fd/" + strconv.Itoa(int(in.f.Fd()))
	err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, dst, unix.AT_SYMLINK_FOLLOW)
	if !errors.Is(err, unix.EEXIST) {
		return err
	}
	for {
		tmp := filepath.Join(s.dir, "tmp", fmt.Sprintf("ln-%d-%d.part", os.Getpid(), s.tmpSeq.Add(1)))
		err = unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, tmp, unix.AT_SYMLINK_FOLLOW)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.Rename(tmp, dst); err != nil {
			os.Remove(tmp)
			return err
		}
		return nil
	}
}

// sameContent reports whether the new object's content equals the stored
// one's (from their ContentFrom offsets). A stored row with a SHA-256 (from
// an older store) is compared by hash; otherwise the bytes are compared.
// An error means the stored file cannot be read (it is gone).
func sameContent(in *Incoming, oldPath string, old *Instance) (bool, error) {
	of, err := os.Open(oldPath)
	if err != nil {
		return false, err
	}
	defer of.Close()
	nf := in.f
	newLen := in.n - in.from
	if old.SHA256 != "" {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(nf, in.from, newLen)); err != nil {
			return false, err
		}
		return hex.EncodeToString(h.Sum(nil)) == old.SHA256, nil
	}
	fi, err := of.Stat()
	if err != nil {
		return false, err
	}
	if fi.Size()-old.ContentFrom != newLen || old.ContentFrom < 0 {
		return false, nil
	}
	return equalReaders(io.NewSectionReader(of, old.ContentFrom, newLen), io.NewSectionReader(nf, in.from, newLen))
}

// equalReaders compares two readers of the same length.
func equalReaders(a, b io.Reader) (bool, error) {
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, errA := io.ReadFull(a, ba)
		nb, errB := io.ReadFull(b, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if errA == io.EOF || errA == io.ErrUnexpectedEOF {
			return errB == io.EOF || errB == io.ErrUnexpectedEOF, nil
		}
		if errA != nil {
			return false, errA
		}
		if errB != nil {
			return false, errB
		}
	}
}

// mkdirs creates an object directory once per process. It returns the
// parents whose entries changed (to sync for a durable new directory).
func (s *Store) mkdirs(dir string) ([]string, error) {
	if _, ok := s.dirs.Load(dir); ok {
		return nil, nil
	}
	var created []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		created = append(created, filepath.Dir(d))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s.dirs.Store(dir, true)
	return created, nil
}

// startWriteback asks the kernel to start writing the file's dirty pages
// (no waiting). Best effort: errors surface at the sync.
func startWriteback(f *os.File) {
	unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}

// syncData makes the file's content and size durable (fdatasync).
func syncData(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
