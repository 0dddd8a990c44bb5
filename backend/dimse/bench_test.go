package dimse

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"lightbox/backend/ul"
)

const benchSize = 100 << 20

// cpuTime is the process's user+system CPU time. On a shared machine
// wall-clock MB/s swings with the load; CPU seconds per MB moved (both
// ends run in this process) do not, so the benchmarks report both.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	used := cpuTime() - start
	b.ReportMetric(float64(used.Milliseconds())/float64(b.N)/(benchSize>>20), "cpu-ms/MB")
}

// zeroReader yields n zero bytes without touching memory much.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// BenchmarkStore sends a 100 MB data set in one C-STORE over loopback,
// the receiver announcing 16 KB or 1 MB as its maximum PDU length; the
// handler streams it to io.Discard.
func BenchmarkStore(b *testing.B) {
	for _, maxPDU := range []uint32{16 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("maxPDU=%dKB", maxPDU>>10), func(b *testing.B) {
			mux := NewMux(Options{})
			mux.HandleFunc(ctImage, func(ctx context.Context, rw ResponseWriter, req *Message) Response {
				if _, err := io.Copy(io.Discard, req.Data); err != nil {
					return Response{Status: StatusProcessingFailure}
				}
				return Response{Status: StatusSuccess}
			})
			addr := serve(b, policy(maxPDU, ctImage), mux)
			a, err := ul.Dial(context.Background(), ul.DialConfig{Addr: addr, CallingAE: "BENCH", CalledAE: "LIGHTBOX",
				Contexts: []ul.ProposedContext{{AbstractSyntax: ctImage, TransferSyntaxes: []string{explLE}}}})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			c := NewConn(a, Options{})
			b.SetBytes(benchSize)
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				rsp, err := c.Store(context.Background(), 1, StoreRequest{SOPClassUID: ctImage, SOPInstanceUID: "1.2.3"}, &zeroReader{benchSize})
				if err != nil || rsp.Status != StatusSuccess {
					b.Fatalf("%v %v", rsp, err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
}

// BenchmarkPlainTCP copies the same bytes over a loopback TCP connection
// with 1 MB reads and writes on both sides: the physical limit
// BenchmarkStore is compared with.
func BenchmarkPlainTCP(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				rbuf := make([]byte, 1<<20)
				var n int64
				for {
					k, err := c.Read(rbuf)
					if err != nil {
						return
					}
					if n += int64(k); n >= benchSize {
						done <- n
						n -= benchSize
					}
				}
			}()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1<<20)
	b.SetBytes(benchSize)
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() { reportCPU(b, cpu0) }()
	for i := 0; i < b.N; i++ {
		z := &zeroReader{benchSize}
		for {
			k, _ := z.Read(buf)
			if k == 0 {
				break
			}
			if _, err := c.Write(buf[:k]); err != nil {
				b.Fatal(err)
			}
		}
		<-done
	}
}
