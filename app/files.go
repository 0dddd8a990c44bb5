package app

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"lightbox/backend/charset"
	"lightbox/backend/dcm"
	"lightbox/backend/pixel"
	"lightbox/backend/render"
	"lightbox/backend/store"
	"lightbox/backend/tagtree"
)

// maxUpload bounds one uploaded file.
const maxUpload = 8 << 30

// FilesHandler serves the bulk bytes under /files/ (thumbnails, frames,
// metadata, tags, Part 10 files, uploads), the same in both shells.
func FilesHandler(a *App) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /files/thumbnail/{series}", a.serveThumbnail)
	mux.HandleFunc("GET /files/instance/{id}/frame/{n}", a.serveFrame)
	mux.HandleFunc("GET /files/series/{series}/frames", a.serveSeriesFrames)
	mux.HandleFunc("GET /files/series/{series}/meta", a.serveSeriesMeta)
	mux.HandleFunc("GET /files/instance/{id}/meta", a.serveMeta)
	mux.HandleFunc("GET /files/instance/{id}/tags", a.serveTags)
	mux.HandleFunc("GET /files/instance/{id}/file", a.serveFile)
	mux.HandleFunc("GET /files/instance/{id}/render.png", a.serveRender)
	mux.HandleFunc("POST /files/upload", a.serveUpload)
	return mux
}

func (a *App) instanceFromPath(w http.ResponseWriter, r *http.Request) (*store.Instance, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 32)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("bad instance id %q", r.PathValue("id")))
		return nil, false
	}
	in, err := a.store.Instance(r.Context(), uint(id))
	if err != nil {
		writeError(w, statusOf(err), err)
		return nil, false
	}
	return in, true
}

// seriesInstances lists the instances of the series named (path-escaped)
// in a /files/series/ or /files/thumbnail/ URL, or answers the error.
func (a *App) seriesInstances(w http.ResponseWriter, r *http.Request, uid string) ([]store.Instance, bool) {
	if u, err := url.PathUnescape(uid); err == nil {
		uid = u
	}
	insts, err := a.store.Instances(r.Context(), uid)
	if err != nil {
		writeError(w, statusOf(err), err)
		return nil, false
	}
	return insts, true
}

func (a *App) openImage(in *store.Instance) (*pixel.Image, error) {
	return pixel.Open(a.store.ObjectPath(in), pixel.WithCodecs(a.codecs))
}

func (a *App) serveThumbnail(w http.ResponseWriter, r *http.Request) {
	insts, ok := a.seriesInstances(w, r, strings.TrimSuffix(r.PathValue("series"), ".png"))
	if !ok {
		return
	}
	var png []byte
	placeholder := true
	for _, in := range middleFirst(insts) {
		if in.Rows == 0 {
			continue
		}
		img, err := a.openImage(&in)
		if err != nil {
			continue
		}
		png, err = render.Thumbnail(r.Context(), img, 128)
		img.Close()
		if err == nil {
			placeholder = false
			break
		}
		a.log.Debug("thumbnail", "sop", in.SOPInstanceUID, "err", err)
		break
	}
	if placeholder {
		png = render.Placeholder(128)
		w.Header().Set("X-Lightbox-Placeholder", "1")
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(png)
}

// middleFirst orders instances from the middle of the series outwards.
func middleFirst(in []store.Instance) []store.Instance {
	if len(in) == 0 {
		return nil
	}
	mid := len(in) / 2
	out := []store.Instance{in[mid]}
	for d := 1; len(out) < len(in) && d <= len(in); d++ {
		if mid-d >= 0 {
			out = append(out, in[mid-d])
		}
		if mid+d < len(in) {
			out = append(out, in[mid+d])
		}
	}
	return out
}

func (a *App) serveFrame(w http.ResponseWriter, r *http.Request) {
	in, ok := a.instanceFromPath(w, r)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, errors.New("bad frame number"))
		return
	}
	img, err := a.openImage(in)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	defer img.Close()
	if n >= img.Info.Frames {
		writeError(w, http.StatusNotFound, fmt.Errorf("frame %d of %d", n, img.Info.Frames))
		return
	}
	b, typ, err := img.FrameForViewer(r.Context(), n)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Lightbox-Data-Type", typ)
	h.Set("X-Lightbox-Rows", strconv.Itoa(img.Info.Rows))
	h.Set("X-Lightbox-Columns", strconv.Itoa(img.Info.Columns))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "private, max-age=3600")
	w.Write(b)
}

func (a *App) serveRender(w http.ResponseWriter, r *http.Request) {
	in, ok := a.instanceFromPath(w, r)
	if !ok {
		return
	}
	img, err := a.openImage(in)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	defer img.Close()
	q := r.URL.Query()
	frame, _ := strconv.Atoi(q.Get("frame"))
	var win *render.Window
	if q.Get("wc") != "" && q.Get("ww") != "" {
		c, err1 := strconv.ParseFloat(q.Get("wc"), 64)
		wd, err2 := strconv.ParseFloat(q.Get("ww"), 64)
		if err1 != nil || err2 != nil {
			writeError(w, http.StatusBadRequest, errors.New("bad window"))
			return
		}
		win = &render.Window{Center: c, Width: wd}
	}
	png, err := render.RenderPNG(r.Context(), img, frame, win)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Write(png)
}

func (a *App) serveMeta(w http.ResponseWriter, r *http.Request) {
	in, ok := a.instanceFromPath(w, r)
	if !ok {
		return
	}
	m, err := a.instanceMeta(in)
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(m)
}

// instanceMeta describes one stored instance; an error only when the file
// cannot be parsed at all (an undecodable image is described, with Error set).
func (a *App) instanceMeta(in *store.Instance) (*InstanceMeta, error) {
	img, err := a.openImage(in)
	if err != nil {
		// Not an image (or an undecodable one): still describe it.
		f, perr := dcm.ParseFile(a.store.ObjectPath(in), dcm.Options{StopBeforePixels: true})
		if perr != nil {
			return nil, perr
		}
		defer f.Close()
		m := a.buildMeta(in, f, nil)
		m.Error = err.Error()
		return m, nil
	}
	defer img.Close()
	return a.buildMeta(in, img.File, img), nil
}

// serveSeriesMeta answers GET /files/series/<uid>/meta: the InstanceMeta of
// every instance of a series in one JSON array, in ListInstances order (the
// viewer needs all of them for MPR and synchronised scrolling). An instance
// whose file cannot be parsed is {id, error}.
func (a *App) serveSeriesMeta(w http.ResponseWriter, r *http.Request) {
	insts, ok := a.seriesInstances(w, r, r.PathValue("series"))
	if !ok {
		return
	}
	out := make([]*InstanceMeta, len(insts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(4, runtime.GOMAXPROCS(0), max(1, len(insts))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				m, err := a.instanceMeta(&insts[i])
				if err != nil {
					m = &InstanceMeta{ID: insts[i].ID, Error: err.Error()}
				}
				out[i] = m
			}
		}()
	}
	for i := range insts {
		if r.Context().Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := r.Context().Err(); err != nil {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (a *App) serveTags(w http.ResponseWriter, r *http.Request) {
	in, ok := a.instanceFromPath(w, r)
	if !ok {
		return
	}
	f, err := dcm.ParseFile(a.store.ObjectPath(in), dcm.Options{})
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, err)
		return
	}
	defer f.Close()
	var opts []charset.Option
	if fb := a.GetSettings().FallbackCharset; fb != "" {
		opts = append(opts, charset.WithFallback(fb))
	}
	nodes := tagtree.Build(f.DataSet, opts...)
	if f.Meta != nil {
		nodes = append(tagtree.Build(f.Meta), nodes...)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(nodes)
}

func (a *App) serveFile(w http.ResponseWriter, r *http.Request) {
	in, ok := a.instanceFromPath(w, r)
	if !ok {
		return
	}
	f, err := os.Open(a.store.ObjectPath(in))
	if err != nil {
		writeError(w, http.StatusNotFound, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/dicom")
	w.Header().Set("Content-Disposition", "attachment; filename=\"instance-"+strconv.Itoa(int(in.ID))+".dcm\"")
	http.ServeContent(w, r, "", in.ReceivedAt, f)
}

// UploadResult answers POST /files/upload.
type UploadResult struct {
	Item    string `json:"item"`
	Outcome string `json:"outcome"` // stored, duplicate, replaced, skipped, failed
	Error   string `json:"error,omitempty"`
	Study   string `json:"studyInstanceUID,omitempty"`
}

func (a *App) serveUpload(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get("X-Filename")
	if u, err := url.PathUnescape(name); err == nil {
		name = u // the browser percent-encodes names that are not plain ASCII
	}
	if name == "" {
		name = "upload"
	}
	res := UploadResult{Item: name}
	incoming, err := a.store.NewIncoming()
	if err != nil {
		writeError(w, http.StatusInsufficientStorage, err)
		return
	}
	if _, err := io.Copy(incoming, io.LimitReader(r.Body, maxUpload)); err != nil {
		incoming.Abort()
		writeError(w, http.StatusBadRequest, err)
		return
	}
	out, err := incoming.Commit(context.WithoutCancel(r.Context()), "upload:"+name, nil)
	switch {
	case errors.Is(err, dcm.ErrNotDICOM):
		res.Outcome, res.Error = "skipped", err.Error()
	case err != nil:
		res.Outcome, res.Error = "failed", err.Error()
	default:
		res.Outcome, res.Study = out.Outcome.String(), out.StudyInstanceUID
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

// Bulk frames of a series: GET /files/series/<uid>/frames[?ids=7,3,9]
//
// One streamed response with frame 0 of many instances of a series (the MPR
// volume loader's 500 requests become one). ids lists instance ids of the
// series in the order wanted (the viewer asks for the middle slice first);
// without ids, every instance of the series, middle first. Instances are
// decoded by a few workers and written as they complete, each as a record:
//
//	uint32 LE  position of the instance in the ids list
//	uint32 LE  instance id
//	uint32 LE  payload length L
//	uint8      status: 0 = payload is the decoded frame (as GET .../frame/0),
//	           1 = payload is an error message (UTF-8)
//	uint8      data type code, index into FrameDataTypes (0 when status is 1)
//	uint16     0 (reserved)
//	L bytes    payload
//
// The header X-Lightbox-Count holds the number of records. Memory is bounded
// by the number of workers: at most one decoded frame each is waiting.

// FrameDataTypes are the X-Lightbox-Data-Type values in record code order.
var FrameDataTypes = []string{"uint8", "int8", "uint16", "int16", "uint32", "int32", "rgb8", "rgb16"}

// maxBulkFrames bounds the ids of one bulk request.
const maxBulkFrames = 20000

// bulkRecordHeader is the size of a record header.
const bulkRecordHeader = 16

// errNotInSeries: an id of the request is not an instance of the series.
var errNotInSeries = errors.New("instance is not in the series")

// parseBulkIDs parses the ids parameter against the instances of a series.
func parseBulkIDs(raw string, insts []store.Instance) ([]store.Instance, error) {
	byID := make(map[uint]store.Instance, len(insts))
	for _, in := range insts {
		byID[in.ID] = in
	}
	if raw == "" {
		return middleFirst(insts), nil
	}
	if n := strings.Count(raw, ",") + 1; n > maxBulkFrames {
		return nil, fmt.Errorf("%d ids, at most %d", n, maxBulkFrames)
	}
	parts := strings.Split(raw, ",")
	out := make([]store.Instance, 0, len(parts))
	for _, p := range parts {
		id, err := strconv.ParseUint(strings.TrimSpace(p), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad instance id %q", p)
		}
		in, ok := byID[uint(id)]
		if !ok {
			return nil, fmt.Errorf("%w: %d", errNotInSeries, id)
		}
		out = append(out, in)
	}
	return out, nil
}

type bulkFrame struct {
	pos    int
	id     uint
	data   []byte
	pooled bool // data goes back to App.frameBufs once written
	code   int
	err    error
}

// decodeFirstFrame decodes frame 0 for the viewer. pooled reports that the
// bytes are in a buffer of frameBufs, to put back once written.
func (a *App) decodeFirstFrame(ctx context.Context, in *store.Instance) (b []byte, code int, pooled bool, err error) {
	img, err := a.openImage(in)
	if err != nil {
		return nil, 0, false, err
	}
	defer img.Close()
	var typ string
	if img.Palette() == nil {
		size := img.Info.FrameSize()
		if p, ok := a.frameBufs.Get().(*[]byte); ok && cap(*p) >= size {
			b = (*p)[:size]
		} else {
			b = make([]byte, size)
		}
		if err := img.FrameInto(ctx, 0, b); err != nil {
			a.frameBufs.Put(&b)
			return nil, 0, false, err
		}
		typ, pooled = img.Info.DataType, true
	} else if b, typ, err = img.FrameForViewer(ctx, 0); err != nil {
		return nil, 0, false, err
	}
	for i, t := range FrameDataTypes {
		if t == typ {
			return b, i, pooled, nil
		}
	}
	if pooled {
		a.frameBufs.Put(&b)
	}
	return nil, 0, false, fmt.Errorf("unknown data type %q", typ)
}

func (a *App) serveSeriesFrames(w http.ResponseWriter, r *http.Request) {
	insts, ok := a.seriesInstances(w, r, r.PathValue("series"))
	if !ok {
		return
	}
	list, err := parseBulkIDs(r.URL.Query().Get("ids"), insts)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	workers := min(4, runtime.GOMAXPROCS(0), max(1, len(list)))
	jobs := make(chan int)
	done := make(chan bulkFrame, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pos := range jobs {
				b, code, pooled, err := a.decodeFirstFrame(ctx, &list[pos])
				select {
				case done <- bulkFrame{pos: pos, id: list[pos].ID, data: b, pooled: pooled, code: code, err: err}:
				case <-ctx.Done():
					if pooled {
						a.frameBufs.Put(&b)
					}
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for pos := range list {
			select {
			case jobs <- pos:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()

	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Lightbox-Count", strconv.Itoa(len(list)))
	h.Set("Cache-Control", "no-store")
	flusher, _ := w.(http.Flusher)
	var head [bulkRecordHeader]byte
	for f := range done {
		payload, status := f.data, byte(0)
		if f.err != nil {
			payload, status, f.code = []byte(f.err.Error()), 1, 0
		}
		binary.LittleEndian.PutUint32(head[0:], uint32(f.pos))
		binary.LittleEndian.PutUint32(head[4:], uint32(f.id))
		binary.LittleEndian.PutUint32(head[8:], uint32(len(payload)))
		head[12], head[13], head[14], head[15] = status, byte(f.code), 0, 0
		_, err := w.Write(head[:])
		if err == nil {
			_, err = w.Write(payload)
		}
		if f.pooled {
			a.frameBufs.Put(&f.data)
		}
		if err != nil {
			cancel()
			continue // drain: the workers stop at ctx
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}
