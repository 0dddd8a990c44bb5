package app

import (
	"lightbox/backend/dimse"
	"lightbox/backend/ul"
)

// registerServices registers the SCP services beyond Verification (storage)
// on the mux and returns their syntax policies by abstract syntax.
func (a *App) registerServices(mux *dimse.Mux) map[string]ul.SyntaxPolicy {
	return nil
}
