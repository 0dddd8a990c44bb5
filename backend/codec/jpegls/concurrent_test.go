package jpegls

import (
	"bytes"
	"strconv"
	"sync"
	"testing"

	"lightbox/backend/codec"
	"lightbox/backend/codec/internal/testframes"
)

// TestConcurrentDecode decodes every corpus JPEG-LS frame from several
// goroutines sharing one Decoder and checks each result against a
// sequential decoding (run with -race to check the pooled state).
func TestConcurrentDecode(t *testing.T) {
	type job struct {
		src  []byte
		p    codec.Params
		want []byte
	}
	var jobs []job
	var dec Decoder
	for _, r := range jpeglsRows(t) {
		n, _ := strconv.Atoi(r["frames"])
		frames, err := testframes.Frames(r["abspath"], n)
		if err != nil {
			t.Fatal(err)
		}
		p := testframes.Params(r)
		for _, f := range frames {
			want := make([]byte, p.FrameSize())
			if err := dec.Decode(f, p, want); err != nil {
				t.Fatalf("%s: %v", r["path"], err)
			}
			jobs = append(jobs, job{f, p, want})
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(jobs))
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				j := jobs[(i+g*len(jobs)/4)%len(jobs)]
				got := make([]byte, j.p.FrameSize())
				if err := dec.Decode(j.src, j.p, got); err != nil || !bytes.Equal(got, j.want) {
					errs <- strconv.Itoa(i)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("job %s differs when decoded concurrently", e)
	}
	t.Logf("%d frames decoded by 4 goroutines", 4*len(jobs))
}
