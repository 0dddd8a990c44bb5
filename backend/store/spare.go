package store

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// ahead keeps up to cap items made ahead of need by a goroutine: unnamed
// temp files (spares) and slots (slot.go). Creating an inode can cost
// hundreds of microseconds of kernel time (ext4 skips recently deleted
// inodes when it picks one), and that should not be spent while an object
// waits for its response.
type ahead[T any] struct {
	ch   chan T
	stop chan struct{}
	done chan struct{}
}

// errStopMaking ends an ahead goroutine for good (e.g. O_TMPFILE is not
// supported); other errors make it retry a little later (a full disk: the
// caller makes its own item and reports why).
var errStopMaking = errors.New("store: stop making items ahead")

// start runs the goroutine: produce returns one or more items at a time.
func (p *ahead[T]) start(capacity int, produce func() ([]T, error), discard func(T)) {
	p.ch = make(chan T, capacity)
	p.stop = make(chan struct{})
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		for {
			items, err := produce()
			if errors.Is(err, errStopMaking) {
				return
			}
			if err != nil {
				select {
				case <-p.stop:
					return
				case <-time.After(200 * time.Millisecond):
					continue
				}
			}
			for i, it := range items {
				select {
				case p.ch <- it:
				case <-p.stop:
					for _, rest := range items[i:] {
						discard(rest)
					}
					return
				}
			}
		}
	}()
}

// take returns a ready item, if there is one.
func (p *ahead[T]) take() (T, bool) {
	select {
	case it := <-p.ch:
		return it, true
	default:
		var zero T
		return zero, false
	}
}

// end stops the goroutine (if started) and discards the items not taken.
func (p *ahead[T]) end(discard func(T)) {
	if p.stop == nil {
		return
	}
	select {
	case <-p.stop:
		return // ended already
	default:
	}
	close(p.stop)
	<-p.done
	for {
		select {
		case it := <-p.ch:
			discard(it)
		default:
			return
		}
	}
}

// spareFiles is how many unnamed temp files are kept ready. A spare that
// is never used vanishes with the process: an unnamed file has no name to
// leave.
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
	s.spare.start(spareFiles, func() ([]*os.File, error) {
		if s.noTmpfile.Load() {
			return nil, errStopMaking // NewIncoming uses named temp files
		}
		f, err := s.openUnnamed()
		if err != nil {
			return nil, err
		}
		return []*os.File{f}, nil
	}, closeFile)
}

func closeFile(f *os.File) { f.Close() }

// takeSpare returns a ready temp file, or nil.
func (s *Store) takeSpare() *os.File {
	f, _ := s.spare.take()
	return f
}

func (s *Store) stopSpares() { s.spare.end(closeFile) }
