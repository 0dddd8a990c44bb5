package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"lightbox/backend/dcm"
)

// Slots: one sync per received object.
//
// An object that arrives over the network (NewPart10) is written into a
// slot: an empty file that already has its final name in the object tree,
// created ahead of need by a background goroutine, a few at a time, with
// one directory sync for the few. Committing it then needs one sync (the
// file's data and size) instead of two (the file, then the directory that
// gets its name), and nothing is linked or renamed.
//
// Since the name exists before the content is complete, the content
// proves its own completeness: the File Meta header the store writes ends
// with a seal, Private Information (0002,0102) under Lightbox's creator UID
// (0002,0100), holding the length and CRC-32C of the data set. It is
// written as zeros first and filled in at Commit, before the sync. After a
// crash, Open removes a slot that is empty, or whose seal is zero or does
// not match its data set (a half-received object, or one whose writes did
// not all reach the disk), and indexes one whose seal matches (an object
// acknowledged just before the crash). The data set itself is stored byte
// for byte as received; the seal lives in the File Meta group, which the
// store writes anyway (PS3.10 7.1 allows private information there).

// sealCreatorUID is Lightbox's Private Information Creator UID: an arc
// under the UUID-derived root of its Implementation Class UID.
const sealCreatorUID = "2.25.173762267390075045387670294156903723072.1"

// seal layout: "LBX1", CRC-32C (Castagnoli) of the data set, and its
// length in bytes, little endian.
const (
	sealMagic = "LBX1"
	sealSize  = 16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func sealValue(crc uint32, n int64) []byte {
	b := make([]byte, sealSize)
	copy(b, sealMagic)
	binary.LittleEndian.PutUint32(b[4:], crc)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	return b
}

// Seal states of a file in the object tree.
type sealState int

const (
	unsealed   sealState = iota // no seal: imported, or written by an older Lightbox
	sealOK                      // seal matches the data set
	sealBroken                  // seal zero, or not matching: incomplete
)

// checkSeal reads the seal in a file's File Meta group (meta) and, if
// there is one, checks it against the data set: the file's last Length
// bytes, which must come right after the seal. raw reads the file as
// stored (not inflated).
func checkSeal(meta *dcm.DataSet, raw io.ReaderAt, size int64) sealState {
	if meta == nil || meta.Text(dcm.TagPrivateInformationCreatorUID) != sealCreatorUID {
		return unsealed
	}
	e := meta.Get(dcm.TagPrivateInformation)
	if e == nil || len(e.Value) != sealSize || string(e.Value[:4]) != sealMagic {
		return sealBroken
	}
	crc := binary.LittleEndian.Uint32(e.Value[4:])
	n := binary.LittleEndian.Uint64(e.Value[8:])
	if n > uint64(size-sealSize) {
		return sealBroken
	}
	from := size - int64(n)
	var at [sealSize]byte
	if _, err := raw.ReadAt(at[:], from-sealSize); err != nil || string(at[:]) != string(e.Value) {
		return sealBroken
	}
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, io.NewSectionReader(raw, from, int64(n))); err != nil || h.Sum32() != crc {
		return sealBroken
	}
	return sealOK
}

// slot is a pre-named empty file in the object tree.
type slot struct {
	f   *os.File
	rel string // relative to the objects directory
	// synced: its directory was synced after it was created (false when
	// fsync was off then; Commit syncs the directory if fsync is on now).
	synced bool
}

const (
	slotBatch  = 8  // slots created per directory sync
	slotsReady = 16 // slots kept ready
)

// makeSlots creates n slots in one object directory (picked at random
// among the 256) and, with fsync on, syncs it once.
func (s *Store) makeSlots(n int) ([]*slot, error) {
	var rnd [16]byte
	rand.Read(rnd[:1])
	dir := hex.EncodeToString(rnd[:1])
	abs := filepath.Join(s.dir, "objects", dir)
	if _, err := s.mkdirs(abs); err != nil {
		return nil, wrapSpace(err)
	}
	out := make([]*slot, 0, n)
	for range n {
		rand.Read(rnd[:])
		rel := filepath.Join(dir, hex.EncodeToString(rnd[:])+".dcm")
		f, err := s.createSlotFile(abs, filepath.Join(s.dir, "objects", rel))
		if err != nil {
			discardSlots(s, out)
			return nil, wrapSpace(err)
		}
		out = append(out, &slot{f: f, rel: rel})
	}
	if s.sync.Load() {
		if err := syncDir(abs); err != nil {
			discardSlots(s, out)
			return nil, fmt.Errorf("store: sync directory: %w", wrapSpace(err))
		}
		for _, sl := range out {
			sl.synced = true
		}
	}
	return out, nil
}

// createSlotFile creates an empty file named p in dir. Where the file
// system has O_TMPFILE, the file is made unnamed and then linked to p:
// on ext4 without a journal, a file created by name is marked so that
// its first fsync also writes its directory, which would put the
// directory back on the path of every commit (the directory is synced
// when the slots are made, so that write is not needed).
func (s *Store) createSlotFile(dir, p string) (*os.File, error) {
	if !s.noTmpfile.Load() {
		fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o644)
		if err == nil {
			f := os.NewFile(uintptr(fd), p)
			err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, p, unix.AT_SYMLINK_FOLLOW)
			if err == nil {
				return f, nil
			}
			f.Close()
			return nil, err
		}
	}
	return os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
}

// discardSlots closes and removes unused slots.
func discardSlots(s *Store, sls []*slot) {
	for _, sl := range sls {
		sl.f.Close()
		os.Remove(filepath.Join(s.dir, "objects", sl.rel))
	}
}

func (s *Store) startSlots() {
	s.slots.start(slotsReady, func() ([]*slot, error) { return s.makeSlots(slotBatch) }, s.discardSlot)
}

func (s *Store) discardSlot(sl *slot) { discardSlots(s, []*slot{sl}) }

// takeSlot returns a ready slot, or makes one. The first call starts
// the goroutine that keeps slots ready (a store that never receives has
// none).
func (s *Store) takeSlot() (*slot, error) {
	s.slotsOnce.Do(s.startSlots)
	if sl, ok := s.slots.take(); ok {
		return sl, nil
	}
	sls, err := s.makeSlots(1)
	if err != nil {
		return nil, err
	}
	return sls[0], nil
}

// stopSlots ends the goroutine and removes the slots not used.
func (s *Store) stopSlots() { s.slots.end(s.discardSlot) }

// NewPart10 starts an object that arrives as a bare data set (the Storage
// SCP, C-GET): the store writes its File Meta header from m, and the
// caller writes the data set. With fsync on, the object goes into a slot,
// sealed (see above), and Commit needs one sync; with fsync off, nothing
// is synced and a temp file linked at Commit costs less than a slot.
func (s *Store) NewPart10(m dcm.MetaInfo) (*Incoming, error) {
	var in *Incoming
	if s.sync.Load() {
		sl, err := s.takeSlot()
		if err != nil {
			return nil, err
		}
		in = s.incoming(sl.f, "")
		in.slot = sl
		m.PrivateCreatorUID, m.PrivateInformation = sealCreatorUID, make([]byte, sealSize)
	} else {
		var err error
		if in, err = s.NewIncoming(); err != nil {
			return nil, err
		}
	}
	head := dcm.AppendMeta(nil, m)
	if _, err := in.Write(head); err != nil {
		in.Abort()
		return nil, err
	}
	if in.slot != nil {
		in.sealAt = int64(len(head) - sealSize)
	}
	in.HashFromHere()
	return in, nil
}

// writeSeal fills in the seal (before the sync).
func (in *Incoming) writeSeal() error {
	if _, err := in.f.WriteAt(sealValue(in.crc, in.n-in.from), in.sealAt); err != nil {
		return wrapSpace(err)
	}
	return nil
}

// abortSlot removes a slot that will not be committed. Its removal need
// not be durable: a slot left by a crash has no valid seal (or, for a
// duplicate, the content already stored) and Open removes it.
func (in *Incoming) abortSlot() {
	in.f.Close()
	os.Remove(filepath.Join(in.s.dir, "objects", in.slot.rel))
}

// syncSlotDir makes a slot's name durable if its directory was not synced
// when it was made (fsync was off then).
func (in *Incoming) syncSlotDir() error {
	if in.slot.synced {
		return nil
	}
	if err := syncDir(filepath.Dir(filepath.Join(in.s.dir, "objects", in.slot.rel))); err != nil {
		return fmt.Errorf("store: sync directory: %w", wrapSpace(err))
	}
	in.slot.synced = true
	return nil
}
