package ul

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand"
	"testing"
	"time"

	"lightbox/backend/pdu"
)

// choppy returns reads of random sizes (1 byte .. 200 KB), as a socket does.
type choppy struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *choppy) Read(p []byte) (int, error) {
	n := 1 + c.rng.Intn(200<<10)
	if c.rng.Intn(4) == 0 {
		n = 1 + c.rng.Intn(16)
	}
	return c.r.Read(p[:min(len(p), n)])
}

// pdataPDU frames one P-DATA-TF with one PDV of n bytes of value fill.
func pdataPDU(n int, fill byte) []byte {
	return pdataPDUOn(1, pdu.FlagLast, bytes.Repeat([]byte{fill}, n))
}

// TestPDUReader: a stream of P-DATA-TF PDUs of mixed sizes (in place, in
// a buffer of their own, and around chunk ends) and control PDUs comes out
// whole and in order, whatever the read sizes; freed chunks are reused and
// few bytes are moved.
func TestPDUReader(t *testing.T) {
	const maxPDU = 1 << 20
	for _, tc := range []struct {
		name  string
		sizes []int
	}{
		{"16KB", repeatInts(16384-6, 300)},
		{"1MB", repeatInts(maxPDU-6, 12)},
		{"mixed", []int{0, 1, 100, rxInPlaceMax - 12, rxInPlaceMax - 11, rxInPlaceMax, 300 << 10, 5, maxPDU - 6, 16 << 10, 2, maxPDU - 6, 7}},
		{"random", randomSizes(400, maxPDU-6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stream []byte
			for i, n := range tc.sizes {
				stream = append(stream, pdataPDU(n, byte(i))...)
			}
			stream = append(stream, must((&pdu.ReleaseRQ{}).AppendTo(nil))...)
			own := make(chan []byte, 4)
			pr := newPDUReader(&choppy{bytes.NewReader(stream), rand.New(rand.NewSource(1))},
				pdu.Limits{MaxPData: maxPDU + readSlack}, own, maxPDU+readSlack)
			chunks := map[*rxChunk]bool{}
			for i, n := range tc.sizes {
				raw, err := pr.next()
				if err != nil {
					t.Fatalf("PDU %d: %v", i, err)
				}
				p, err := pdu.DecodeBody(raw.t, raw.body)
				if err != nil {
					t.Fatalf("PDU %d: %v", i, err)
				}
				v := p.(*pdu.PDataTF).Values
				if len(v) != 1 || len(v[0].Data) != n || (n > 0 && (v[0].Data[0] != byte(i) || v[0].Data[n-1] != byte(i))) {
					t.Fatalf("PDU %d: got %d PDVs, %d bytes; want 1 of %d", i, len(v), len(v[0].Data), n)
				}
				if inPlace := n+12 <= rxInPlaceMax; inPlace != (raw.chunk != nil) || inPlace == (raw.own != nil) {
					t.Fatalf("PDU %d of %d bytes: chunk %v own %v", i, n, raw.chunk != nil, raw.own != nil)
				}
				if raw.chunk != nil {
					chunks[raw.chunk] = true
				}
				raw.recycle(own)
			}
			raw, err := pr.next()
			if err != nil || raw.t != pdu.TypeReleaseRQ {
				t.Fatalf("last PDU %v %v", raw.t, err)
			}
			if _, err := pr.next(); err != io.EOF {
				t.Fatalf("after the end: %v, want EOF", err)
			}
			if len(chunks) > rxChunkPool+1 {
				t.Errorf("%d chunks used for %d bytes: freed chunks are not reused", len(chunks), len(stream))
			}
			if pr.copied > int64(len(stream))/8+(64<<10) {
				t.Errorf("%d of %d bytes moved", pr.copied, len(stream))
			}
		})
	}
}

// TestPDUReaderErrors: a bad header is a framing error (before anything is
// allocated); a stream cut inside a PDU is io.ErrUnexpectedEOF.
func TestPDUReaderErrors(t *testing.T) {
	whole := pdataPDU(5000, 1)
	for _, tc := range []struct {
		name    string
		in      []byte
		framing error // errors.Is target when framing is lost
		io      error
	}{
		{"too long", []byte{4, 0, 0, 1, 0, 0}, pdu.ErrTooLarge, nil},
		{"4 GB", []byte{4, 0, 0xFF, 0xFF, 0xFF, 0xFF}, pdu.ErrTooLarge, nil},
		{"unknown type", []byte{0x47, 0x45, 0x54, 0x20, 0x2F, 0x20}, pdu.ErrUnknownType, nil},
		{"cut header", whole[:3], nil, io.ErrUnexpectedEOF},
		{"cut body", whole[:len(whole)-1], nil, io.ErrUnexpectedEOF},
		{"cut control PDU", []byte{5, 0, 0, 0, 0, 4, 0}, nil, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := newPDUReader(bytes.NewReader(tc.in), pdu.Limits{MaxPData: 16384}, nil, 0)
			_, err := pr.next()
			var fe errFraming
			if tc.framing != nil {
				if !errors.As(err, &fe) || !errors.Is(err, tc.framing) {
					t.Fatalf("got %v, want framing error %v", err, tc.framing)
				}
				return
			}
			if errors.As(err, &fe) || !errors.Is(err, tc.io) {
				t.Fatalf("got %v, want %v", err, tc.io)
			}
		})
	}
}

// TestCheckPData: SendPData refuses anything but whole, well-formed
// P-DATA-TF PDUs within the peer's limit.
func TestCheckPData(t *testing.T) {
	good := pdataPDU(100, 0)
	two := append(append([]byte(nil), good...), pdataPDU(3, 1)...)
	multi := must((&pdu.PDataTF{Values: []pdu.PDV{{ContextID: 1, Data: []byte{1, 2}}, {ContextID: 1, Flags: pdu.FlagLast}}}).AppendTo(nil))
	badItem := append([]byte(nil), good...)
	badItem[9] = 1 // PDV item length 1 (< 2)
	longItem := append([]byte(nil), good...)
	longItem[9]++ // PDV item runs past its PDU
	for _, tc := range []struct {
		name string
		b    []byte
		max  int
		want error
	}{
		{"one", good, 106, nil},
		{"two", two, 106, nil},
		{"two PDVs in one PDU", multi, 106, nil},
		{"empty", nil, 106, pdu.ErrMalformed},
		{"over the peer's maximum", good, 105, pdu.ErrTooLarge},
		{"not P-DATA", must((&pdu.ReleaseRQ{}).AppendTo(nil)), 106, pdu.ErrMalformed},
		{"cut", two[:len(two)-1], 106, pdu.ErrMalformed},
		{"trailing bytes", append(append([]byte(nil), good...), 4, 0), 106, pdu.ErrMalformed},
		{"PDV item too short", badItem, 106, pdu.ErrMalformed},
		{"PDV item too long", longItem, 106, pdu.ErrMalformed},
	} {
		if err := checkPData(tc.b, tc.max); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func repeatInts(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func randomSizes(n, max int) []int {
	rng := rand.New(rand.NewSource(7))
	out := make([]int, n)
	for i := range out {
		switch rng.Intn(3) {
		case 0:
			out[i] = rng.Intn(64)
		case 1:
			out[i] = rng.Intn(rxInPlaceMax)
		default:
			out[i] = rng.Intn(max + 1)
		}
	}
	return out
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzPDUReader: any byte stream, read in any chunking, yields whole PDUs
// or an error; never a panic, never more body bytes than were sent.
func FuzzPDUReader(f *testing.F) {
	rq := must(pdu.Encode(echoRQ("LIGHTBOX")))
	f.Add(append(append(pdataPDU(100, 1), pdataPDU(0, 2)...), must((&pdu.ReleaseRQ{}).AppendTo(nil))...), int64(1))
	f.Add(append(rq, pdataPDU(rxInPlaceMax, 3)...), int64(2))
	f.Add(append(pdataPDU(rxInPlaceMax-13, 4), must((&pdu.Abort{}).AppendTo(nil))...), int64(3))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), int64(4))
	f.Add([]byte{4, 0, 0xFF, 0xFF, 0xFF, 0xFF}, int64(5))
	f.Fuzz(func(t *testing.T, b []byte, seed int64) {
		own := make(chan []byte, 2)
		pr := newPDUReader(&choppy{bytes.NewReader(b), rand.New(rand.NewSource(seed))},
			pdu.Limits{MaxPData: 1 << 18, MaxAssociate: 1 << 16}, own, 1<<18)
		total := 0
		for {
			raw, err := pr.next()
			if err != nil {
				var fe errFraming
				if !errors.As(err, &fe) && err != io.EOF && err != io.ErrUnexpectedEOF {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			total += pdu.HeaderLen + len(raw.body)
			if total > len(b) {
				t.Fatalf("%d bytes of PDUs from %d bytes", total, len(b))
			}
			if p, err := pdu.DecodeBody(raw.t, raw.body); err == nil {
				_ = p.String()
			}
			raw.recycle(own)
		}
	})
}

// FuzzCheckPData: the send-side check accepts only what the decoder reads
// back as P-DATA-TF PDUs within the limit.
func FuzzCheckPData(f *testing.F) {
	f.Add(pdataPDU(100, 0), 200)
	f.Add(append(pdataPDU(3, 0), pdataPDU(5, 1)...), 11)
	f.Add(must((&pdu.PDataTF{Values: []pdu.PDV{{ContextID: 1, Data: []byte{1}}, {ContextID: 3}}}).AppendTo(nil)), 100)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if checkPData(b, max) != nil {
			return
		}
		for len(b) > 0 {
			n := pdu.HeaderLen + (int(b[2])<<24 | int(b[3])<<16 | int(b[4])<<8 | int(b[5]))
			if n-pdu.HeaderLen > max {
				t.Fatalf("accepted a PDU of %d bytes over the limit %d", n, max)
			}
			if _, err := pdu.Decode(b[:n]); err != nil {
				t.Fatalf("accepted % x: %v", b[:n], err)
			}
			b = b[n:]
		}
	})
}

// TestReceivePolls: with a cancelled ctx, Receive returns a P-DATA already
// queued (package dimse polls this way before arming a timer), and
// context.Canceled at once when nothing is queued, even with an idle
// timeout set; SendPData's PDUs arrive whole.
func TestReceivePolls(t *testing.T) {
	pol := basicPolicy()
	ts := startServer(t, pol, HandlerFunc(func(ctx context.Context, a *Association) {
		for {
			p, err := a.Receive(ctx)
			if err != nil {
				return
			}
			// echo the PDVs back as framed PDUs
			var b []byte
			for _, v := range p.Values {
				b = append(b, pdataPDUOn(v.ContextID, v.Flags, v.Data)...)
			}
			p.Free()
			if err := a.SendPData(ctx, b); err != nil {
				return
			}
		}
	}))
	cfg := dialCfg(ts.addr, "LIGHTBOX")
	cfg.Timeouts.Idle = time.Minute
	a, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if _, err := a.Receive(done); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("poll with nothing queued: %v after %v", err, time.Since(start))
	}
	if err := a.SendPDV(context.Background(), 1, pdu.FlagCommand|pdu.FlagLast, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, err := a.Receive(done)
		if err == nil {
			if len(p.Values) != 1 || string(p.Values[0].Data) != "ping" || p.Values[0].Flags != pdu.FlagCommand|pdu.FlagLast {
				t.Fatalf("got %+v", p.Values)
			}
			p.Free()
			break
		}
		if !errors.Is(err, context.Canceled) || time.Now().After(deadline) {
			t.Fatalf("poll: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// pdataPDUOn frames one P-DATA-TF with one PDV.
func pdataPDUOn(ctxID, flags uint8, data []byte) []byte {
	var h [12]byte
	pdu.PDataHeader(&h, ctxID, flags, len(data))
	return append(h[:], data...)
}
