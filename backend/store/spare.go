package store

import (
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// spares keeps a few unnamed temp files (O_TMPFILE) open ahead of need.
// Creating an inode can cost hundreds of microseconds of kernel time (ext4
// skips recently deleted inodes when it picks one), and that should not be
// spent while an object waits for its response. A spare that is never
// used vanishes with the process: an unnamed file has no name to leave.
type spares struct {
	ch   chan *os.File
	stop chan struct{}
	done chan struct{}
}

// spareFiles is how many temp files are kept ready.
const spareFiles = 8

func (s *Store) openUnnamed() (*os.File, error) {
	tmp := filepath.Join(s.dir, "tmp")
	fd, err := unix.Open(tmp, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), filepath.Join(tmp, "(unnamed)")), nil
}

func (s *Store) startSpares() {
	sp := &s.spare
	sp.ch = make(chan *os.File, spareFiles)
	sp.stop = make(chan struct{})
	sp.done = make(chan struct{})
	go func() {
		defer close(sp.done)
		for !s.noTmpfile.Load() {
			f, err := s.openUnnamed()
			if err != nil {
				// Full disk or no O_TMPFILE: NewIncoming opens its own
				// and reports why; try again later.
				select {
				case <-sp.stop:
					return
				case <-time.After(200 * time.Millisecond):
					continue
				}
			}
			select {
			case sp.ch <- f:
			case <-sp.stop:
				f.Close()
				return
			}
		}
	}()
}

// takeSpare returns a ready temp file, or nil.
func (s *Store) takeSpare() *os.File {
	select {
	case f := <-s.spare.ch:
		return f
	default:
		return nil
	}
}

func (s *Store) stopSpares() {
	sp := &s.spare
	if sp.stop == nil {
		return
	}
	select {
	case <-sp.stop:
		return // stopped already
	default:
	}
	close(sp.stop)
	<-sp.done
	for {
		select {
		case f := <-sp.ch:
			f.Close()
		default:
			return
		}
	}
}
