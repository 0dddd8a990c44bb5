// Package store is the local store: every object received or imported is
// kept verbatim on disk and indexed in SQLite (gorm, WAL mode).
//
// Files live under <dir>/objects in one of 256 directories, named from a
// hash of the SOP Instance UID (never from a UID itself; stores written
// with an older two-level layout keep their paths). The new objects of one
// commit batch share the directory of the first one's hash, so that a
// batch syncs one directory; each row holds its object's path. An object is written
// to an unnamed temp file (O_TMPFILE in <dir>/tmp; a named one where the
// file system has no O_TMPFILE), then linked (or renamed) into place;
// except an object received as a data set (NewPart10: the Storage SCP),
// which is written into a slot, a file named in advance, and sealed: see
// slot.go.
//
// Durability. With Options.Fsync on (the default of Lightbox; SetFsync
// switches it at run time), when Incoming.Commit returns nil:
//   - the object's bytes and size are on stable storage (fdatasync of the
//     temp file; its write-out is started at Commit, and every MiB while a
//     large object is written, so the sync mostly waits for what is under
//     way);
//   - its name in the object tree is on stable storage: the link happens
//     only after that fdatasync, and the directory holding the name is
//     fsynced (and so is <dir>/objects when Open created a directory); a
//     slot's name was synced when the slot was made, and its seal is
//     synced with its data;
//   - with Expect.Indexed (the Storage SCP), its index rows are committed
//     too; without it (import) they are NOT necessarily written yet: a
//     background indexer commits them shortly after, in batches (one
//     SQLite transaction per batch; a committer waiting for its rows ends
//     the gathering at once). Until then the object counts as stored for duplicate checks
//     (an in-memory set of pending SOP Instance UIDs), and every read
//     method of Store (Studies, Series, Instances, Instance, InstanceByUID,
//     StudyInstances, DB) and the deletes first wait for the rows of every
//     object committed before the call, so a caller that saw Commit return
//     sees its rows. Flush waits for them explicitly; Close writes them.
//
// Options.OnChange is called once the rows are committed (once per batch
// for each kind of change, study and series), so a study browser that
// reloads on it sees them.
//
// So the Storage SCP may answer Success as soon as Commit returns. With
// Fsync off, nothing is synced (a crash of the machine may lose objects
// that were acknowledged; a crash of the process loses nothing, the page
// cache survives it).
//
// Crash recovery (Open). Temp files left in <dir>/tmp are removed (a
// half-written object has no name in the object tree, so it leaves
// nothing). Rows whose file is gone are deleted and counts recomputed.
// Every file in the object tree without a row, such as an object
// acknowledged just before a crash (kill -9, power loss) whose rows were
// still queued, is parsed and indexed again (source "recovered"); a file
// that does not parse is removed, and one whose rows cannot be written
// (e.g. a full disk) is kept for the next start. An empty file (a slot
// never used) is removed; so is a slot whose seal does not match its data
// set (a half-received object), and a sealed one for whose SOP Instance
// UID a row names a file written later. Open reconciles only when no other
// process has the store open (a lock on <dir>/store.lock): another
// process's temp files and slots are not leftovers.
//
// Space. An object is refused with ErrNoSpace, before it gets a name (a
// slot: before it gets a row; its file is removed),
// when the file system has less free space than the index needs for the
// rows still queued plus a reserve, so that an acknowledged object never
// lacks room for its rows.
//
// Concurrency. A Store is safe for concurrent use: index writes are
// serialised by a mutex; readers run concurrently (WAL). Concurrent
// commits are grouped: one leader places a batch (duplicate checks,
// links) and syncs each distinct directory once (see Incoming.Commit).
// A few unnamed temp files are opened ahead of need by a background
// goroutine (creating an inode can be slow); Close closes them.
//
// Ownership. The caller owns an Incoming until it calls Commit or Abort,
// exactly once (Abort after Commit is a no-op). Close ends the indexer
// after writing the queued rows, then closes the database; it must not
// race with other calls.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"lightbox/backend/dcm"
)

// Sentinel errors.
var (
	// ErrInvalid: the object parsed but lacks what the store needs
	// (UIDs) or describes an impossible image.
	ErrInvalid = errors.New("invalid object")
	// ErrMismatch: the data set's SOP Class/Instance UID differs from what
	// the sender declared (the C-STORE command).
	ErrMismatch = errors.New("data set does not match the declared SOP class or instance")
	// ErrNoSpace: the disk is full or a quota was hit.
	ErrNoSpace = errors.New("out of storage space")
	// ErrNotFound: no such study, series or instance.
	ErrNotFound = errors.New("not found")
)

// TextDecoder decodes a text element of a data set to UTF-8, using the data
// set's Specific Character Set. The store gets one from its caller so that it
// does not depend on how character sets are handled.
type TextDecoder func(ds *dcm.DataSet, t dcm.Tag) string

// Options configure a Store.
type Options struct {
	Fsync  bool        // sync each object (data and name) before Commit returns; Lightbox turns it on by default
	Text   TextDecoder // nil: bytes taken as UTF-8/ASCII
	Logger *slog.Logger
	// OnChange is called (on its own goroutine) once committed objects' rows
	// are written, and after a delete.
	OnChange func(Change)
}

// Change describes a modification of the store.
type Change struct {
	Kind              string // "added", "replaced", "deleted"
	StudyInstanceUID  string
	SeriesInstanceUID string
}

// Store is the local store.
type Store struct {
	dir  string
	db   *gorm.DB
	opt  Options
	log  *slog.Logger
	wmu  sync.Mutex // serialises index writes
	text TextDecoder
	dirs sync.Map // object directories known to exist
	sync atomic.Bool
	// noTmpfile: the file system refused O_TMPFILE; tmpSeq names links.
	noTmpfile atomic.Bool
	tmpSeq    atomic.Uint64
	// group batches concurrent commits; ids caches row IDs (under wmu);
	// idx writes index rows in the background.
	group committer
	ids   idCache
	idx   indexer
	spare ahead[*os.File]
	slots ahead[*slot]
	// slotsOnce starts the slot goroutine at the first NewPart10.
	slotsOnce sync.Once
	// lockFile holds a shared flock on <dir>/store.lock while the store
	// is open (see lock).
	lockFile *os.File
	// lookup finds the stored row of a SOP Instance UID (the duplicate
	// check on the commit path, without gorm's overhead).
	lookup *sql.Stmt
	// rows writes the indexer's common batches (rows.go).
	rows *rowWriter
	room int64 // free bytes during a batch (group-commit leader only)
	// rowGen changes whenever instance rows are written or deleted (see
	// earlyLookup).
	rowGen atomic.Uint64
	heads  sync.Pool // *[]byte: in-memory heads of incoming objects
}

// SetFsync turns syncing files before they are indexed on or off.
func (s *Store) SetFsync(on bool) { s.sync.Store(on) }

// Open opens (creating if needed) the store in dir.
func Open(dir string, opt Options) (*Store, error) {
	if err := makeTree(dir); err != nil {
		return nil, err
	}
	dsn := "file:" + filepath.Join(dir, "index.db") + "?_journal_mode=WAL&_busy_timeout=10000&_synchronous=NORMAL&_foreign_keys=on&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true, PrepareStmt: true})
	if err != nil {
		return nil, fmt.Errorf("store: open index: %w", err)
	}
	var mode string
	if err := db.Raw("PRAGMA journal_mode").Scan(&mode).Error; err != nil || !strings.EqualFold(mode, "wal") {
		return nil, fmt.Errorf("store: index is not in WAL mode (journal_mode=%q, %v)", mode, err)
	}
	if err := db.AutoMigrate(&Patient{}, &Study{}, &Series{}, &Instance{}, &Annotation{}, &Setting{}); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	s := &Store{dir: dir, db: db, opt: opt, log: opt.Logger, text: opt.Text}
	s.sync.Store(opt.Fsync)
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		s.noTmpfile.Store(true) // unnamed files are linked through /proc
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.text == nil {
		s.text = func(ds *dcm.DataSet, t dcm.Tag) string { return ds.Text(t) }
	}
	alone, err := s.lock()
	if err != nil {
		return nil, err
	}
	if alone {
		// Only when no other process has the store open: its temp files
		// and slots being written would look like leftovers of a crash.
		if err := s.reconcile(); err != nil {
			s.lockFile.Close()
			return nil, err
		}
		// let other processes open it too (converting never leaves
		// the file unlocked)
		unix.Flock(int(s.lockFile.Fd()), unix.LOCK_SH)
	}
	if err := s.createObjectDirs(); err != nil {
		return nil, err
	}
	if sqlDB, err := db.DB(); err == nil {
		s.lookup, err = sqlDB.Prepare("SELECT id, path, sha256, content_from FROM instances WHERE sop_instance_uid = ? LIMIT 1")
		if err != nil {
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
		if s.rows, err = newRowWriter(sqlDB); err != nil {
			return nil, err
		}
	}
	s.startIndexer()
	s.startSpares()
	return s, nil
}

// createObjectDirs creates the 256 directories new objects go to (and
// syncs their parent once), so that no commit creates a directory.
func (s *Store) createObjectDirs() error {
	objects := filepath.Join(s.dir, "objects")
	created := false
	for i := 0; i < 256; i++ {
		d := filepath.Join(objects, fmt.Sprintf("%02x", i))
		if err := os.Mkdir(d, 0o755); err == nil {
			created = true
		} else if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("store: %w", wrapSpace(err))
		}
		s.dirs.Store(d, true)
	}
	if created && s.sync.Load() {
		if err := syncDir(objects); err != nil {
			return fmt.Errorf("store: sync %s: %w", objects, err)
		}
	}
	return nil
}

// Close writes the rows of every committed object, then closes the index.
func (s *Store) Close() error {
	s.stopSpares()
	s.stopSlots()
	s.stopIndexer()
	if s.lookup != nil {
		s.lookup.Close()
	}
	if s.rows != nil {
		s.rows.close()
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	err = sqlDB.Close()
	if s.lockFile != nil {
		s.lockFile.Close()
	}
	return err
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// DB exposes the index for read-only queries by sibling packages' tests.
// It first waits for the rows of every object committed before the call.
func (s *Store) DB() *gorm.DB {
	s.barrier(context.Background())
	return s.db
}

// Incoming is an object being written into the store.
type Incoming struct {
	s    *Store
	f    *os.File
	path string // "" for an unnamed (O_TMPFILE) file
	n    int64
	from int64 // where the content compared for duplicates starts
	done bool
	// head holds the first headSize bytes written (pooled): the header is
	// parsed from memory at Commit, not read back from the file.
	head *[]byte
	// wb: bytes handed to write-back so far (progressive write-out while
	// the object arrives, so that the final sync waits only for the tail).
	wb int64
	// early: the header parsed as soon as the head was full, or nil.
	early *earlyHeader
	// slot: the pre-named file of an object started by NewPart10 (nil
	// otherwise); sealAt is where its seal goes, crc the CRC-32C of the
	// data set written so far.
	slot   *slot
	sealAt int64
	crc    uint32
}

// headSize is how much of an object is kept in memory for parsing: the
// parser reads in 64 KiB windows from the start of the data set, so a
// header that fits in the first 64 KiB is parsed without reading the file.
const headSize = 64<<10 + 1024

// writebackChunk: once this many bytes are written and not yet handed to
// write-back, their write-out is started (sync_file_range, no waiting), so
// that the sync of a large object waits only for its tail. Objects smaller
// than this (a CT image) are written out in one piece when committed:
// measured here, starting the write-out of a 512 KiB image in 128 KiB
// pieces while it arrived made the receive slower, not faster.
const writebackChunk = 1 << 20

// NewIncoming creates a temp file for a new object: an unnamed file
// (O_TMPFILE) in <dir>/tmp where the file system supports it, so that a
// crash leaves nothing behind, else a named one that Open removes.
func (s *Store) NewIncoming() (*Incoming, error) {
	tmp := filepath.Join(s.dir, "tmp")
	if !s.noTmpfile.Load() {
		if f := s.takeSpare(); f != nil {
			return s.incoming(f, ""), nil
		}
		f, err := s.openUnnamed()
		if err == nil {
			return s.incoming(f, ""), nil
		}
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return nil, wrapSpace(err)
		}
		s.noTmpfile.Store(true) // not supported here: named temp files
	}
	f, err := os.CreateTemp(tmp, "in-*.part")
	if err != nil {
		return nil, wrapSpace(err)
	}
	return s.incoming(f, f.Name()), nil
}

func (s *Store) incoming(f *os.File, path string) *Incoming {
	h, _ := s.heads.Get().(*[]byte)
	if h == nil {
		b := make([]byte, 0, headSize)
		h = &b
	}
	*h = (*h)[:0]
	return &Incoming{s: s, f: f, path: path, head: h}
}

// HashFromHere marks where the content starts: bytes written before this
// call (e.g. a File Meta header written by the receiver) do not count when
// deciding whether an object is a duplicate. (Nothing is hashed while the
// object is written; content is compared only when its SOP Instance UID
// is already stored.)
func (in *Incoming) HashFromHere() { in.from = in.n }

// Write appends bytes to the object.
func (in *Incoming) Write(p []byte) (int, error) {
	if in.head != nil && int64(len(*in.head)) == in.n && len(*in.head) < headSize {
		*in.head = append(*in.head, p[:min(len(p), headSize-len(*in.head))]...)
		if len(*in.head) == headSize {
			in.parseEarly() // while the rest arrives
		}
	}
	n, err := in.f.Write(p)
	in.n += int64(n)
	if in.sealAt > 0 {
		in.crc = crc32.Update(in.crc, castagnoli, p[:n])
	}
	if err != nil {
		return n, wrapSpace(err)
	}
	in.writeback()
	return n, nil
}

// writeback starts the write-out of what was written since the last call,
// once there is a chunk of it and fsync is on. Best effort: errors surface
// at the sync.
func (in *Incoming) writeback() {
	if in.n-in.wb < writebackChunk || !in.s.sync.Load() {
		return
	}
	unix.SyncFileRange(int(in.f.Fd()), in.wb, in.n-in.wb, unix.SYNC_FILE_RANGE_WRITE)
	in.wb = in.n
}

// ReadFrom appends everything r yields; from a file the copy is done by
// the kernel (copy_file_range), without passing through user space.
func (in *Incoming) ReadFrom(r io.Reader) (int64, error) {
	if in.slot != nil {
		// the seal needs the bytes: copy through Write
		return io.Copy(struct{ io.Writer }{in}, r)
	}
	n, err := in.f.ReadFrom(r)
	in.n += n
	if err != nil {
		return n, wrapSpace(err)
	}
	return n, nil
}

// Size is the number of bytes written so far.
func (in *Incoming) Size() int64 { return in.n }

// Abort discards the object. Safe to call after Commit (no-op).
func (in *Incoming) Abort() {
	in.release()
	if in.done {
		return
	}
	in.done = true
	if in.slot != nil {
		in.abortSlot()
		return
	}
	in.f.Close()
	if in.path != "" {
		os.Remove(in.path)
	}
}

func (in *Incoming) release() {
	if in.head != nil {
		in.s.heads.Put(in.head)
		in.head = nil
	}
}

// ReadAt reads the object written so far: from the in-memory head when the
// range lies in it, else from the file.
func (in *Incoming) ReadAt(p []byte, off int64) (int, error) {
	if in.head != nil && int64(len(*in.head)) == min(in.n, headSize) && off >= 0 && off+int64(len(p)) <= int64(len(*in.head)) {
		return copy(p, (*in.head)[off:]), nil
	}
	return in.f.ReadAt(p, off)
}

// Expect is what the sender declared for the object, and how to treat an
// object whose SOP Instance UID is already stored (optional).
type Expect struct {
	SOPClassUID    string
	SOPInstanceUID string
	// ReplaceDifferent: a different object with a stored SOP Instance UID
	// replaces the stored one (the Storage SCP keeps the newest). Without
	// it (import), the stored object is kept and the new one is reported
	// as a duplicate.
	ReplaceDifferent bool
	// Indexed: Commit returns only once the object's index rows are
	// committed (the Storage SCP: sync, rename, index, and only then the
	// C-STORE-RSP). Without it the rows follow within milliseconds, and
	// every read of this Store waits for them.
	Indexed bool
}

// Outcome of a commit.
type Outcome int

const (
	Stored    Outcome = iota // a new object
	Duplicate                // the same bytes were already stored: nothing changed
	Replaced                 // a different object with the same SOP Instance UID: the new one replaced the old
)

func (o Outcome) String() string {
	return [...]string{"stored", "duplicate", "replaced"}[o]
}

// Result of a commit.
type Result struct {
	Outcome           Outcome
	SOPInstanceUID    string
	SOPClassUID       string
	StudyInstanceUID  string
	SeriesInstanceUID string
	Size              int64
}

// Commit makes the object durable and queues its index rows. Whatever
// happens, the Incoming is finished afterwards (its temp file is gone or
// linked into place).
//
// With fsync on, Commit returns nil only after the file's data is synced
// (fdatasync), it has its name in the object tree, and that name is
// durable (the directory synced). Its index rows are written in the
// background shortly after (see the package doc: a crash before they are
// committed is repaired by the reconcile at Open). Reads of the index
// through the Store's methods wait for them (read-your-writes).
// Concurrent commits are grouped: one leader places a batch (duplicate
// checks, links) and syncs each distinct directory once, then releases
// every waiter of the batch.
func (in *Incoming) Commit(ctx context.Context, source string, expect *Expect) (Result, error) {
	if in.done {
		return Result{}, errors.New("store: incoming already finished")
	}
	defer in.Abort()
	req, err := in.prepare(ctx, source, expect)
	if err != nil {
		return Result{}, err
	}
	if in.slot != nil {
		if err := in.writeSeal(); err != nil {
			return Result{}, err
		}
	}
	if req.durable {
		if err := syncData(in.f); err != nil {
			return Result{}, wrapSpace(err)
		}
		if in.slot != nil {
			if err := in.syncSlotDir(); err != nil {
				return Result{}, err
			}
		}
	}
	in.s.group.submit(in.s, req)
	if req.err != nil {
		return Result{}, req.err
	}
	if expect != nil && expect.Indexed && req.res.Outcome != Duplicate {
		// The object is durable; its rows are queued (or written).
		if err := in.s.Flush(ctx); err != nil {
			return Result{}, fmt.Errorf("store: object stored, index not yet written: %w", err)
		}
	}
	return req.res, nil
}

// prepare starts the write-out of what is not on its way to the disk yet,
// parses the header, checks it against expect, and builds the request.
func (in *Incoming) prepare(ctx context.Context, source string, expect *Expect) (*commitReq, error) {
	s := in.s
	durable := s.sync.Load()
	if durable && in.n > in.wb {
		// Start the write-out of the tail now so that the disk works
		// while the header is parsed; the sync then mostly waits for what
		// is under way.
		unix.SyncFileRange(int(in.f.Fd()), in.wb, in.n-in.wb, unix.SYNC_FILE_RANGE_WRITE)
		in.wb = in.n
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var info *extracted
	var early *earlyLookup
	if e := in.early; e != nil && e.pxEnd == in.n {
		info, early = e.info, e.row // the object ends with its pixels: nothing was missed
	} else {
		f, err := dcm.Parse(in, in.n, dcm.Options{MaxInline: 64 << 10})
		if err != nil {
			return nil, err
		}
		if info, err = extract(f, s.text); err != nil {
			return nil, err
		}
	}
	in.release() // the parsed values do not alias the head
	if expect != nil {
		if expect.SOPInstanceUID != "" && expect.SOPInstanceUID != info.inst.SOPInstanceUID {
			return nil, fmt.Errorf("%w: command says instance %s, data set says %s", ErrMismatch, expect.SOPInstanceUID, info.inst.SOPInstanceUID)
		}
		if expect.SOPClassUID != "" && expect.SOPClassUID != info.inst.SOPClassUID {
			return nil, fmt.Errorf("%w: command says class %s, data set says %s", ErrMismatch, expect.SOPClassUID, info.inst.SOPClassUID)
		}
	}
	info.inst.Size = in.n
	info.inst.ContentFrom = in.from
	info.inst.Source = source
	info.inst.ReceivedAt = time.Now().UTC()
	if early == nil {
		// The duplicate check's query runs here, while the disk writes.
		early = s.lookupEarly(info.inst.SOPInstanceUID)
	}
	return &commitReq{in: in, info: info, expect: expect, source: source, durable: durable, early: early, wake: make(chan bool, 1),
		res: Result{SOPInstanceUID: info.inst.SOPInstanceUID, SOPClassUID: info.inst.SOPClassUID,
			StudyInstanceUID: info.study.StudyInstanceUID, SeriesInstanceUID: info.series.SeriesInstanceUID, Size: in.n}}, nil
}

// syncParallel bounds the files CommitAll syncs at once.
const syncParallel = 8

// Pending is one object of CommitAll.
type Pending struct {
	In     *Incoming
	Source string
	Expect *Expect
}

// Committed is the outcome of one object of CommitAll.
type Committed struct {
	Result Result
	Err    error
}

// CommitAll commits many objects with one durability pass: the write-out
// of every file is started first, then each is synced (most of the data
// is on its way by then), and they are placed as one group (each distinct
// directory synced once). The guarantees per object are Commit's; a
// failure of one object does not fail the others. Every Incoming is
// finished afterwards. The importer uses it: files copied in the kernel
// (ReadFrom) need no per-file wait while the next ones are copied.
func (s *Store) CommitAll(ctx context.Context, items []Pending) []Committed {
	out := make([]Committed, len(items))
	reqs := make([]*commitReq, len(items))
	for i, it := range items {
		defer it.In.Abort()
		if it.In.done {
			out[i].Err = errors.New("store: incoming already finished")
			continue
		}
		reqs[i], out[i].Err = it.In.prepare(ctx, it.Source, it.Expect)
	}
	// Sync the files in parallel: concurrent syncs share the disk's cache
	// flushes, where one after the other each waits for its own.
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, syncParallel)
	for i, r := range reqs {
		if r == nil || !r.durable {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = syncData(r.in.f)
		}()
	}
	wg.Wait()
	var todo []*commitReq
	for i, r := range reqs {
		if r == nil {
			continue
		}
		if errs[i] != nil {
			out[i].Err = wrapSpace(errs[i])
			continue
		}
		todo = append(todo, r)
	}
	if len(todo) > 0 {
		s.group.submit(s, todo...)
	}
	for i, r := range reqs {
		if r != nil && out[i].Err == nil {
			out[i].Result, out[i].Err = r.res, r.err
		}
	}
	return out
}

// objectPath is where a new object goes: one of 256 directories (by a
// hash of the UID), so that a new store does not create a directory per
// object. Stores written with the older two-level layout keep their paths
// (rows hold them; a replacement reuses the stored path).
func objectPath(sopUID string) string {
	sum := sha256.Sum256([]byte(sopUID))
	h := hex.EncodeToString(sum[:16])
	return filepath.Join(h[:2], h+".dcm")
}

func wrapSpace(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w: %v", ErrNoSpace, err)
	}
	return err
}

// ObjectPath returns the absolute path of a stored instance's file.
func (s *Store) ObjectPath(inst *Instance) string {
	return filepath.Join(s.dir, "objects", inst.Path)
}

// lock locks <dir>/store.lock for as long as the store is open (the
// kernel drops the lock when the process ends, however it ends). When no
// other process holds it, it takes it exclusively and reports alone (Open
// then reconciles and shares it); otherwise it waits for a shared lock.
func (s *Store) lock() (alone bool, err error) {
	f, err := os.OpenFile(filepath.Join(s.dir, "store.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return false, fmt.Errorf("store: lock: %w", err)
	}
	s.lockFile = f
	fd := int(f.Fd())
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err == nil {
		return true, nil
	}
	// Another process has the store open (or is reconciling it): share.
	for {
		err = unix.Flock(fd, unix.LOCK_SH)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return false, fmt.Errorf("store: lock: %w", err)
	}
	return false, nil
}

// reconcile removes stray temp files, rows without files, and indexes files
// without rows.
func (s *Store) reconcile() error {
	tmp := filepath.Join(s.dir, "tmp")
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		os.Remove(filepath.Join(tmp, e.Name()))
	}
	if len(entries) > 0 {
		s.log.Info("store: removed stray temp files", "count", len(entries))
	}
	var rows []Instance
	if err := s.db.Select("id", "path", "series_ref").Find(&rows).Error; err != nil {
		return err
	}
	known := make(map[string]bool, len(rows))
	var gone []uint
	for _, r := range rows {
		known[r.Path] = true
		if _, err := os.Stat(filepath.Join(s.dir, "objects", r.Path)); errors.Is(err, fs.ErrNotExist) {
			gone = append(gone, r.ID)
		}
	}
	if len(gone) > 0 {
		s.log.Warn("store: index rows without files removed", "count", len(gone))
		s.db.Delete(&Instance{}, gone)
		s.recountAll()
	}
	objects := filepath.Join(s.dir, "objects")
	var orphans []string
	filepath.WalkDir(objects, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(objects, p)
		if !known[rel] {
			orphans = append(orphans, p)
		}
		return nil
	})
	unused := 0
	for _, p := range orphans {
		if fi, err := os.Stat(p); err == nil && fi.Size() == 0 {
			os.Remove(p) // a slot never used (see slot.go)
			unused++
			continue
		}
		err := s.reindexFile(p)
		switch {
		case err == nil:
		case errors.Is(err, errIncomplete), errors.Is(err, errSuperseded):
			s.log.Info("store: file without index row removed", "path", p, "why", err)
			os.Remove(p)
		case errors.Is(err, dcm.ErrMalformed), errors.Is(err, dcm.ErrNotDICOM), errors.Is(err, ErrInvalid):
			s.log.Warn("store: unreadable file in the object tree removed", "path", p, "err", err)
			os.Remove(p)
		default:
			// The file may be a good object whose row cannot be
			// written now (e.g. a full disk): keep it for the next start.
			s.log.Error("store: file without index row kept; indexing failed", "path", p, "err", err)
		}
	}
	if n := len(orphans) - unused; n > 0 {
		s.log.Info("store: files without index rows examined", "count", n)
	}
	return nil
}

func (s *Store) reindexFile(p string) error {
	raw, err := os.Open(p)
	if err != nil {
		return err
	}
	defer raw.Close()
	fi, err := raw.Stat()
	if err != nil {
		return err
	}
	f, err := dcm.Parse(raw, fi.Size(), dcm.Options{MaxInline: 64 << 10})
	if err != nil {
		return err
	}
	info, err := extract(f, s.text)
	if err != nil {
		return err
	}
	sealed := checkSeal(f.Meta, raw, fi.Size()) // the file as stored, not inflated
	if sealed == sealBroken {
		return errIncomplete
	}
	var old Instance
	exists := s.db.Where("sop_instance_uid = ?", info.inst.SOPInstanceUID).Limit(1).Find(&old).RowsAffected > 0
	rel, _ := filepath.Rel(filepath.Join(s.dir, "objects"), p)
	var replaced string
	if sealed == sealOK {
		// A received object, complete, in its own slot: it stays where it
		// is. If a row names another file of the same SOP Instance UID,
		// the object received last wins (the Storage SCP keeps the
		// newest): the older of the two files goes.
		info.inst.ContentFrom = fi.Size() - int64(binary.LittleEndian.Uint64(f.Meta.Get(dcm.TagPrivateInformation).Value[8:]))
		if exists && old.Path != rel && filepath.IsLocal(old.Path) {
			oldAbs := filepath.Join(s.dir, "objects", old.Path)
			if ofi, err := os.Stat(oldAbs); err == nil {
				if !fi.ModTime().After(ofi.ModTime()) {
					return errSuperseded
				}
				replaced = oldAbs
			}
		}
	} else {
		rel = objectPath(info.inst.SOPInstanceUID)
		want := filepath.Join(s.dir, "objects", rel)
		if want != p {
			if _, err := s.mkdirs(filepath.Dir(want)); err != nil {
				return err
			}
			if err := os.Rename(p, want); err != nil {
				return err
			}
		}
	}
	info.inst.Path, info.inst.Size = rel, fi.Size()
	info.inst.Source, info.inst.ReceivedAt = "recovered", time.Now().UTC()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.index(info, exists, old); err != nil {
		return err
	}
	if replaced != "" {
		os.Remove(replaced)
	}
	return nil
}

// reconcile verdicts on files without rows.
var (
	errIncomplete = errors.New("store: received object incomplete (its seal does not match its data set)")
	errSuperseded = errors.New("store: an object with the same SOP Instance UID, received later, is stored")
)
