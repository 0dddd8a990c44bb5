package app

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"lightbox/backend/store"
)

var errorType = reflect.TypeOf((*error)(nil)).Elem()

// maxCallBody bounds the JSON body of an API call.
const maxCallBody = 17 << 20

// These are functions, not methods: every exported method of *App is bound
// by Wails and reachable through CallHandler, so *App carries only API
// methods.

// CallHandler serves POST /api/call/<Method>: the body is a JSON array of
// the method's arguments, the answer the JSON of its result, or
// {"error": "..."} with a 4xx/5xx status. It reaches exactly the methods
// that Wails binds: the exported methods of *App.
func CallHandler(a *App) http.Handler {
	v := reflect.ValueOf(a)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, errors.New("use POST"))
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/api/call/")
		m := v.MethodByName(name)
		if name == "" || !m.IsValid() {
			writeError(w, http.StatusNotFound, fmt.Errorf("no method %q", name))
			return
		}
		var raw []json.RawMessage
		body, err := io.ReadAll(io.LimitReader(r.Body, maxCallBody+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		if len(body) > maxCallBody {
			writeError(w, http.StatusRequestEntityTooLarge, errors.New("request body too large"))
			return
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &raw); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("body must be a JSON array of arguments: %v", err))
				return
			}
		}
		t := m.Type()
		if len(raw) != t.NumIn() {
			writeError(w, http.StatusBadRequest, fmt.Errorf("%s takes %d arguments, got %d", name, t.NumIn(), len(raw)))
			return
		}
		args := make([]reflect.Value, len(raw))
		for i := range raw {
			p := reflect.New(t.In(i))
			if err := json.Unmarshal(raw[i], p.Interface()); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Errorf("argument %d of %s: %v", i+1, name, err))
				return
			}
			args[i] = p.Elem()
		}
		out := m.Call(args)
		var result any
		for _, o := range out {
			if o.Type().Implements(errorType) && o.Type() == errorType {
				if !o.IsNil() {
					writeError(w, statusOf(o.Interface().(error)), o.Interface().(error))
					return
				}
				continue
			}
			result = o.Interface()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(result)
	})
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrNotAvailable):
		return http.StatusNotImplemented
	}
	return http.StatusUnprocessableEntity
}

func writeError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// Broker fans events out to Server-Sent Events clients. A slow client loses
// events rather than slowing the sender: each client has a bounded queue.
type Broker struct {
	mu      sync.Mutex
	clients map[chan []byte]struct{}
}

// NewBroker makes an empty broker.
func NewBroker() *Broker { return &Broker{clients: map[chan []byte]struct{}{}} }

const maxSSEClients = 64

// Emit implements Emitter.
func (b *Broker) Emit(name string, data any) {
	js, err := json.Marshal(data)
	if err != nil {
		return
	}
	msg := []byte("event: " + name + "\ndata: " + string(js) + "\n\n")
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.clients {
		select {
		case c <- msg:
		default: // queue full: drop for this client
		}
	}
}

// ServeHTTP streams events until the client goes away.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, errors.New("streaming unsupported"))
		return
	}
	c := make(chan []byte, 256)
	b.mu.Lock()
	if len(b.clients) >= maxSSEClients {
		b.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, errors.New("too many event streams"))
		return
	}
	b.clients[c] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.clients, c)
		b.mu.Unlock()
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": lightbox events\n\n")
	fl.Flush()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case m := <-c:
			if _, err := w.Write(m); err != nil {
				return
			}
			fl.Flush()
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// WebHandler is the whole web-mode server: the UI (assets), the API, the
// event stream and the files, with an optional access token.
func WebHandler(a *App, assets fs.FS, broker *Broker, token string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/call/", CallHandler(a))
	mux.Handle("GET /api/events", broker)
	mux.Handle("/files/", FilesHandler(a))
	mux.Handle("/", http.FileServer(http.FS(assets)))
	if token == "" {
		return mux
	}
	return tokenGate(token, mux)
}

// tokenGate admits requests carrying the token: as ?token=, as a bearer
// header, or in the cookie it sets on the first visit with ?token=.
func tokenGate(token string, next http.Handler) http.Handler {
	ok := func(s string) bool { return subtle.ConstantTimeCompare([]byte(s), []byte(token)) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("token"); q != "" && ok(q) {
			http.SetCookie(w, &http.Cookie{Name: "lightbox_token", Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie("lightbox_token"); err == nil && ok(c.Value) {
			next.ServeHTTP(w, r)
			return
		}
		if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") && ok(strings.TrimPrefix(h, "Bearer ")) {
			next.ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusUnauthorized, errors.New("access token required: open the address printed by `lightbox serve`"))
	})
}
