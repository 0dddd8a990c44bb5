package ul

import (
	"errors"
	"io"
	"sync/atomic"

	"lightbox/backend/pdu"
)

// Receive path. The reader pulls large reads from the connection into
// chunks of rxChunkSize bytes and decodes the P-DATA-TF PDUs that fit
// (up to rxInPlaceMax bytes, header included) in place: their PDVs alias
// the chunk, which no one copies again (package dimse hands the fragments
// to its writer as they are). Each PData holds a reference on its chunk;
// the chunk goes back to the association's pool when the last one is
// freed and the reader has moved on. Larger P-DATA-TF PDUs get a buffer of
// their own sized to our maximum PDU (pooled too): the reader then reads
// the body straight from the connection, and the next header alone, so
// that a stream of large PDUs is not copied either. Other PDUs (rare)
// get a fresh buffer. Every length is checked by pdu.ParseHeader before
// anything is allocated or read.
const (
	rxChunkSize  = 256 << 10       // small: buffers in use stay in the CPU caches
	rxInPlaceMax = rxChunkSize / 8 // so at most 1/8 of the bytes are moved once
	rxChunkPool  = 4
)

// rxChunk is a receive buffer shared by the PDUs decoded from it.
type rxChunk struct {
	buf  []byte
	refs atomic.Int32
	pool chan *rxChunk
}

// release drops one reference; the last returns the chunk to its pool.
func (c *rxChunk) release() {
	if c.refs.Add(-1) == 0 {
		select {
		case c.pool <- c:
		default:
		}
	}
}

// rawPDU is one PDU read off the wire, not yet decoded.
type rawPDU struct {
	t     pdu.Type
	body  []byte
	chunk *rxChunk // body lives in this chunk (one reference held), or nil
	own   []byte   // body lives in this pooled buffer (full length), or nil
}

// errFraming wraps an invalid PDU header: nothing more can be read.
type errFraming struct{ err error }

func (e errFraming) Error() string { return e.err.Error() }
func (e errFraming) Unwrap() error { return e.err }

// pduReader reads PDUs from one connection. Only the read loop uses it.
type pduReader struct {
	conn    io.Reader
	lim     pdu.Limits
	pool    chan *rxChunk // chunks freed by the consumer
	own     chan []byte   // large P-DATA buffers freed by the consumer
	ownSize int           // their size (0: not pooled)
	cur     *rxChunk      // the chunk being read into (the reader holds a reference)
	r, w    int           // parsed up to r, read up to w
	exact   bool          // the last PDU was large: read the next header alone

	copied int64 // bytes moved between chunks (tests)
}

func newPDUReader(conn io.Reader, lim pdu.Limits, own chan []byte, ownSize int) *pduReader {
	pr := &pduReader{conn: conn, lim: lim, pool: make(chan *rxChunk, rxChunkPool), own: own, ownSize: ownSize}
	pr.cur = pr.newChunk()
	return pr
}

func (pr *pduReader) newChunk() *rxChunk {
	var c *rxChunk
	select {
	case c = <-pr.pool:
	default:
		c = &rxChunk{buf: make([]byte, rxChunkSize), pool: pr.pool}
	}
	c.refs.Store(1)
	return c
}

// room makes sure n bytes starting at r fit in the current chunk, moving
// the unparsed bytes (less than one PDU) to a fresh chunk, or to the front
// of this one when no PDU references it, if not.
func (pr *pduReader) room(n int) {
	if len(pr.cur.buf)-pr.r >= n {
		return
	}
	rest := pr.cur.buf[pr.r:pr.w]
	pr.copied += int64(len(rest))
	if pr.cur.refs.Load() == 1 { // only the reader holds it
		pr.w = copy(pr.cur.buf, rest)
		pr.r = 0
		return
	}
	c := pr.newChunk()
	pr.w = copy(c.buf, rest)
	pr.r = 0
	pr.cur.release()
	pr.cur = c
}

// fill reads until n unparsed bytes are buffered. With exact it reads no
// further than that (the next bytes go straight to a large PDU's buffer).
func (pr *pduReader) fill(n int, exact bool) error {
	for pr.w-pr.r < n {
		end := len(pr.cur.buf)
		if exact {
			end = pr.r + n
		}
		m, err := pr.conn.Read(pr.cur.buf[pr.w:end])
		pr.w += m
		if err != nil && pr.w-pr.r < n {
			if err == io.EOF && pr.w > pr.r {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// next reads one PDU. A header that breaks the limits or names no PDU type
// is returned as errFraming; transport errors as they come.
func (pr *pduReader) next() (rawPDU, error) {
	pr.room(pdu.HeaderLen)
	if err := pr.fill(pdu.HeaderLen, pr.exact); err != nil {
		return rawPDU{}, err
	}
	t, n, err := pdu.ParseHeader(pr.cur.buf[pr.r:pr.r+pdu.HeaderLen], pr.lim)
	if err != nil {
		return rawPDU{}, errFraming{err}
	}
	total := pdu.HeaderLen + int(n)
	if t == pdu.TypePDataTF && total <= rxInPlaceMax {
		pr.exact = false
		pr.room(total)
		if err := pr.fill(total, false); err != nil {
			return rawPDU{}, err
		}
		body := pr.cur.buf[pr.r+pdu.HeaderLen : pr.r+total : pr.r+total]
		pr.r += total
		pr.cur.refs.Add(1)
		return rawPDU{t: t, body: body, chunk: pr.cur}, nil
	}
	pr.exact = t == pdu.TypePDataTF
	var body, own []byte
	if t == pdu.TypePDataTF && int(n) <= pr.ownSize {
		select {
		case own = <-pr.own:
		default:
			own = make([]byte, pr.ownSize)
		}
		body = own[:n]
	} else {
		body = make([]byte, n) // n is within the limits checked above
	}
	pr.r += pdu.HeaderLen
	k := copy(body, pr.cur.buf[pr.r:pr.w])
	pr.r += k
	pr.copied += int64(k)
	if _, err := io.ReadFull(pr.conn, body[k:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return rawPDU{}, err
	}
	return rawPDU{t: t, body: body, own: own}, nil
}
