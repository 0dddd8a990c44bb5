package jpeg2k

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// TestWorkersAndConcurrency checks that the worker count does not change
// the output, and that one Decoder serves several goroutines at once.
func TestWorkersAndConcurrency(t *testing.T) {
	files := corpusJ2K(t)
	var ref Decoder
	n := 0
	for _, f := range files {
		if f.params.Rows*f.params.Columns > 128*128 || n == 8 {
			continue
		}
		n++
		want := make([]byte, f.params.FrameSize())
		if err := ref.Decode(f.frames[0], f.params, want); err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{1, 3, 8} {
			t.Run(fmt.Sprintf("%s/workers=%d", f.row["path"], w), func(t *testing.T) {
				d := Decoder{Workers: w}
				got := make([]byte, f.params.FrameSize())
				if err := d.Decode(f.frames[0], f.params, got); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatal("output depends on the worker count")
				}
			})
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got := make([]byte, f.params.FrameSize())
				if err := ref.Decode(f.frames[0], f.params, got); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, want) {
					errs <- fmt.Errorf("%s: concurrent decode differs", f.row["path"])
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}
