package app

import (
	"sync"

	"lightbox/backend/dimse"
	"lightbox/backend/storage"
	"lightbox/backend/ul"
)

// storageState is the App's part of the Storage service: the activity of
// the listener's associations, the per-node association limiter of sends,
// and what each send job left (for RetrySend). Zero value ready.
type storageState struct {
	once    sync.Once
	act     *storage.Activity
	limiter storage.Limiter

	mu    sync.Mutex
	sends map[string]*sendJob // by job ID
}

// activity returns the tracker of incoming associations; each change is
// emitted as an "incoming" event (AssociationActivity).
func (a *App) activity() *storage.Activity {
	a.stg.once.Do(func() {
		a.stg.act = storage.NewActivity(func(v storage.AssociationActivity) { a.emit("incoming", v) })
	})
	return a.stg.act
}

// registerServices registers the SCP services beyond Verification (storage)
// on the mux and returns their syntax policies by abstract syntax: the
// Storage SCP for every storage SOP class of the conformance statement,
// storing into the local store (durable and indexed before Success).
func (a *App) registerServices(mux *dimse.Mux) map[string]ul.SyntaxPolicy {
	scp := storage.NewSCP(a.store, a.activity(), a.log)
	return storage.Register(mux, scp, a.GetSettings().PreferUncompressed)
}
