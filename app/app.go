// Package app is the facade that both shells use: Wails binds the exported
// methods of *App on the desktop, and `lightbox serve` exposes the very same
// methods over HTTP through one generic handler (Handler). Progress and store
// changes leave through an Emitter (Wails events, or a Server-Sent Events
// stream); bulk bytes (thumbnails, frames, files) are plain HTTP in both
// modes (FilesHandler).
//
// Every exported method of *App is part of the API contract
// (/work/brief/app-api.md in the repo's history; README "API"): it takes and
// returns JSON-friendly values and an error. Lifecycle is not part of it: a
// Host starts and stops an App.
//
// An App is safe for concurrent use.
package app

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"lightbox/backend/charset"
	"lightbox/backend/dcm"
	"lightbox/backend/nodes"
	"lightbox/backend/pixel"
	"lightbox/backend/store"
	"lightbox/backend/ul"
)

// Version is the product version.
const Version = "0.1.0"

// Emitter sends an event to the UI.
type Emitter interface {
	Emit(name string, data any)
}

// EmitterFunc adapts a function.
type EmitterFunc func(name string, data any)

// Emit calls f.
func (f EmitterFunc) Emit(name string, data any) { f(name, data) }

// Config configures an App.
type Config struct {
	DataDir string
	Mode    string // "desktop" or "web"
	Logger  *slog.Logger
	// AETitle and Port override the stored settings when set (CLI flags).
	AETitle string
	Port    int
	// ChooseDirectory opens a native folder dialog (desktop only).
	ChooseDirectory func() (string, error)
	// Open is a study to show at start (Study Instance UID or Accession
	// Number); see StartupView.
	Open string
}

// App is the facade.
type App struct {
	cfg   Config
	log   *slog.Logger
	store *store.Store
	jobs  *jobManager
	// codecs decode every image the App renders: one table, so the
	// decoders' buffers and tables are reused (they are safe for
	// concurrent use).
	codecs pixel.Codecs

	emu     sync.RWMutex
	emitter Emitter

	smu      sync.Mutex
	settings Settings

	ctx    context.Context
	cancel context.CancelFunc

	onSettings func(Settings) // set by StartDICOM: re-applies the listener

	dicom    *listener
	syntaxes map[string]ul.SyntaxPolicy
	knownAEs func() []string // AE titles of the configured nodes (allow-list)

	nodes    *nodes.Book
	nodesErr error // nodes.xml could not be read

	q         queries                    // running C-FINDs
	rmu       sync.Mutex                 // guards retrieves, extra
	retrieves map[string]RetrieveRequest // by job ID, for retry
	extra     map[int]bool               // extra C-MOVE listener ports

	tmu       sync.Mutex
	transient map[string]nodes.Node // CLI nodes of this process only

	stg storageState // Storage SCP activity and send jobs (services.go, send.go)
	// frameBufs recycles the frame buffers of the bulk frame stream (a
	// 512x512 16-bit series streams 500 of 512 KiB; allocating each kept
	// the garbage collector busy while the viewer waited).
	frameBufs sync.Pool
}

// ErrNotAvailable is returned by methods a shell does not offer.
var ErrNotAvailable = errors.New("not available in this mode")

// DefaultDataDir is the OS's per-user data directory for Lightbox.
func DefaultDataDir() string {
	if d := os.Getenv("LIGHTBOX_DATA"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "lightbox")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "lightbox")
	}
	return "lightbox-data"
}

// Open opens the store and prepares the App. Call Shutdown when done.
func Open(cfg Config) (*App, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &App{cfg: cfg, log: cfg.Logger, codecs: pixel.DefaultCodecs()}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.jobs = newJobManager(a.emit)
	st, err := store.Open(cfg.DataDir, store.Options{
		Fsync:    true,
		Text:     a.textDecoder,
		Logger:   cfg.Logger,
		OnChange: a.storeChanged,
	})
	if err != nil {
		return nil, err
	}
	a.store = st
	a.settings = a.loadSettings()
	st.SetFsync(a.settings.Fsync)
	a.openNodes()
	return a, nil
}

// Shutdown stops the listener and the jobs, and closes the store.
func Shutdown(a *App) error {
	a.cancel()
	a.jobs.wait()
	a.stopDICOM()
	return a.store.Close()
}

// StoreOf gives the CLI access to the store of an App.
func StoreOf(a *App) *store.Store { return a.store }

// SetEmitter sets where events go (Wails runtime or an SSE Broker).
func SetEmitter(a *App, e Emitter) { a.setEmitter(e) }

func (a *App) setEmitter(e Emitter) {
	a.emu.Lock()
	a.emitter = e
	a.emu.Unlock()
}

func (a *App) emit(name string, data any) {
	a.emu.RLock()
	e := a.emitter
	a.emu.RUnlock()
	if e != nil {
		e.Emit(name, data)
	}
}

// StoreEvent is the data of a "store" event.
type StoreEvent struct {
	Kind              string `json:"kind"`
	StudyInstanceUID  string `json:"studyInstanceUID"`
	SeriesInstanceUID string `json:"seriesInstanceUID"`
}

func (a *App) storeChanged(c store.Change) {
	a.emit("store", StoreEvent{Kind: c.Kind, StudyInstanceUID: c.StudyInstanceUID, SeriesInstanceUID: c.SeriesInstanceUID})
}

// textDecoder decodes text elements with the data set's own character set,
// falling back to the configured one when (0008,0005) is absent or unknown.
func (a *App) textDecoder(ds *dcm.DataSet, t dcm.Tag) string {
	e := ds.Get(t)
	if e == nil {
		return ""
	}
	s, _ := a.decoderFor(ds).Decode(e.VR, e.Value)
	return s
}

func (a *App) decoderFor(ds *dcm.DataSet) *charset.Decoder {
	var opts []charset.Option
	a.smu.Lock()
	fb := a.settings.FallbackCharset
	a.smu.Unlock()
	if fb != "" {
		opts = append(opts, charset.WithFallback(fb))
	}
	return charset.NewDecoder(rawValues(ds.Raw(dcm.TagSpecificCharacterSet)), opts...)
}

// rawValues splits a CS value at backslashes (the default repertoire has no
// multi-byte characters, so splitting before decoding is safe here).
func rawValues(b []byte) []string {
	if b == nil {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '\\' {
			out = append(out, string(trimPad(b[start:i])))
			start = i + 1
		}
	}
	return out
}

func trimPad(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}
