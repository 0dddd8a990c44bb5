// Package store is the local store: every object received or imported is
// kept verbatim on disk and indexed in SQLite (gorm, WAL mode).
//
// Contract:
//   - Files live under <dir>/objects in paths derived from a hash of the SOP
//     Instance UID (never from a UID itself). They are written to a temp
//     file in <dir>/tmp first (unnamed, O_TMPFILE, where the file system
//     allows), synced (Options.Fsync: fdatasync), then linked or renamed
//     into place; a row is inserted only after that, and Commit returns
//     only once the directories are synced too. Open cleans stray temp
//     files and reconciles rows and files, so a crash at any point leaves
//     a consistent store.
//   - A Store is safe for concurrent use: index writes are serialised by a
//     mutex and kept short; readers run concurrently (WAL). Concurrent
//     commits are grouped: one transaction and one sync per directory per
//     batch (see Incoming.Commit).
//   - The caller owns an Incoming until it calls Commit or Abort, exactly
//     once. Close closes the database; it must not race with other calls.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
	Fsync  bool        // fsync files before they are indexed (default on in Open's callers)
	Text   TextDecoder // nil: bytes taken as UTF-8/ASCII
	Logger *slog.Logger
	// OnChange is called after a commit or delete, outside the lock.
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
	// group batches concurrent commits; ids caches row IDs (under wmu).
	group committer
	ids   idCache
}

// SetFsync turns syncing files before they are indexed on or off.
func (s *Store) SetFsync(on bool) { s.sync.Store(on) }

// Open opens (creating if needed) the store in dir.
func Open(dir string, opt Options) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "objects"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
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
	if err := s.reconcile(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the index.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// DB exposes the index for read-only queries by sibling packages' tests.
func (s *Store) DB() *gorm.DB { return s.db }

// Incoming is an object being written into the store.
type Incoming struct {
	s    *Store
	f    *os.File
	path string // "" for an unnamed (O_TMPFILE) file
	n    int64
	from int64 // where the content compared for duplicates starts
	done bool
}

// NewIncoming creates a temp file for a new object: an unnamed file
// (O_TMPFILE) in <dir>/tmp where the file system supports it, so that a
// crash leaves nothing behind, else a named one that Open removes.
func (s *Store) NewIncoming() (*Incoming, error) {
	tmp := filepath.Join(s.dir, "tmp")
	if !s.noTmpfile.Load() {
		fd, err := unix.Open(tmp, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o644)
		if err == nil {
			return &Incoming{s: s, f: os.NewFile(uintptr(fd), filepath.Join(tmp, "(unnamed)"))}, nil
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
	return &Incoming{s: s, f: f, path: f.Name()}, nil
}

// HashFromHere marks where the content starts: bytes written before this
// call (e.g. a File Meta header written by the receiver) do not count when
// deciding whether an object is a duplicate. (Nothing is hashed while the
// object is written; content is compared only when its SOP Instance UID
// is already stored.)
func (in *Incoming) HashFromHere() { in.from = in.n }

// Write appends bytes to the object.
func (in *Incoming) Write(p []byte) (int, error) {
	n, err := in.f.Write(p)
	in.n += int64(n)
	if err != nil {
		return n, wrapSpace(err)
	}
	return n, nil
}

// ReadFrom appends everything r yields; from a file the copy is done by
// the kernel (copy_file_range), without passing through user space.
func (in *Incoming) ReadFrom(r io.Reader) (int64, error) {
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
	if in.done {
		return
	}
	in.done = true
	in.f.Close()
	if in.path != "" {
		os.Remove(in.path)
	}
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

// Commit makes the object durable and indexes it. Whatever happens, the
// Incoming is finished afterwards (its temp file is gone or renamed).
//
// With fsync on, Commit returns nil only after the file's data is synced,
// the rename is durable (its directory synced) and the row is committed.
// Concurrent commits are grouped: one leader renames and indexes a batch in
// one SQLite transaction and syncs each distinct directory once, then
// releases every waiter of the batch.
func (in *Incoming) Commit(ctx context.Context, source string, expect *Expect) (Result, error) {
	if in.done {
		return Result{}, errors.New("store: incoming already finished")
	}
	defer in.Abort()
	s := in.s
	durable := s.sync.Load()
	if durable {
		// Start write-out now so that the disk works while the header is
		// parsed; the sync below then mostly waits for what is under way.
		startWriteback(in.f)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	f, err := dcm.Parse(in.f, in.n, dcm.Options{StopBeforePixels: false, MaxInline: 64 << 10})
	if err != nil {
		return Result{}, err
	}
	info, err := extract(f, s.text)
	if err != nil {
		return Result{}, err
	}
	if expect != nil {
		if expect.SOPInstanceUID != "" && expect.SOPInstanceUID != info.inst.SOPInstanceUID {
			return Result{}, fmt.Errorf("%w: command says instance %s, data set says %s", ErrMismatch, expect.SOPInstanceUID, info.inst.SOPInstanceUID)
		}
		if expect.SOPClassUID != "" && expect.SOPClassUID != info.inst.SOPClassUID {
			return Result{}, fmt.Errorf("%w: command says class %s, data set says %s", ErrMismatch, expect.SOPClassUID, info.inst.SOPClassUID)
		}
	}
	if durable {
		if err := syncData(in.f); err != nil {
			return Result{}, wrapSpace(err)
		}
	}
	info.inst.Size = in.n
	info.inst.ContentFrom = in.from
	info.inst.Source = source
	info.inst.ReceivedAt = time.Now().UTC()
	req := &commitReq{in: in, info: info, expect: expect, source: source, durable: durable, wake: make(chan bool, 1),
		res: Result{SOPInstanceUID: info.inst.SOPInstanceUID, SOPClassUID: info.inst.SOPClassUID,
			StudyInstanceUID: info.study.StudyInstanceUID, SeriesInstanceUID: info.series.SeriesInstanceUID, Size: in.n}}
	s.group.submit(s, req)
	if req.err != nil {
		return Result{}, req.err
	}
	if req.res.Outcome != Duplicate && s.opt.OnChange != nil {
		kind := "added"
		if req.res.Outcome == Replaced {
			kind = "replaced"
		}
		go s.opt.OnChange(Change{Kind: kind, StudyInstanceUID: req.res.StudyInstanceUID, SeriesInstanceUID: req.res.SeriesInstanceUID})
	}
	return req.res, nil
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
	for _, p := range orphans {
		if err := s.reindexFile(p); err != nil {
			s.log.Warn("store: unreadable file in the object tree removed", "path", p, "err", err)
			os.Remove(p)
		}
	}
	if len(orphans) > 0 {
		s.log.Info("store: files without index rows re-indexed", "count", len(orphans))
	}
	return nil
}

func (s *Store) reindexFile(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	f, err := dcm.ParseFile(p, dcm.Options{MaxInline: 64 << 10})
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := extract(f, s.text)
	if err != nil {
		return err
	}
	rel := objectPath(info.inst.SOPInstanceUID)
	want := filepath.Join(s.dir, "objects", rel)
	if want != p {
		if _, err := s.mkdirs(filepath.Dir(want)); err != nil {
			return err
		}
		if err := os.Rename(p, want); err != nil {
			return err
		}
	}
	info.inst.Path, info.inst.Size = rel, fi.Size()
	info.inst.Source, info.inst.ReceivedAt = "recovered", time.Now().UTC()
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var old Instance
	exists := s.db.Where("sop_instance_uid = ?", info.inst.SOPInstanceUID).Limit(1).Find(&old).RowsAffected > 0
	return s.index(info, exists, old)
}
