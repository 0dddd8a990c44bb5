package app

import (
	"lightbox/backend/storage"
	"lightbox/backend/ul"
)

// AssociationActivity is one association of the Incoming panel: calling
// AE, host, state (active, ended, aborted), instances stored, failures with
// their reasons, bytes and rates. The same value is emitted as an
// "incoming" event whenever it changes (at most 4 times a second per
// association while objects arrive); "association" events (dicom.go) keep
// reporting accepted/rejected/ended associations.
type AssociationActivity = storage.AssociationActivity

// Incoming lists the recent associations of the DICOM listener, newest
// first (the last 50).
func (a *App) Incoming() []AssociationActivity {
	return a.activity().List()
}

// trackAssociations wraps the listener's handler so that the Storage SCP
// knows each association's calling AE and host (Source AE of the stored
// files, per-association counts). StartDICOM should hand
// a.trackAssociations(mux) to ul.NewServer instead of mux; until it does,
// objects are counted per calling AE and remote address (from
// dimse.Message.Peer) in entries whose state stays "receiving".
func (a *App) trackAssociations(h ul.Handler) ul.Handler {
	return a.activity().Track(h)
}
