package app

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"unicode/utf8"

	"lightbox/backend/store"
)

// StartupView is the view the UI shows first: "viewer/<study UID>" when
// Lightbox was started to open a study (Config.Open: a Study Instance UID
// or an Accession Number of the local store), else "". An Open that
// matches nothing is an error in words, and the UI stays on the browser.
func (a *App) StartupView() (string, error) {
	want := strings.TrimSpace(a.cfg.Open)
	if want == "" {
		return "", nil
	}
	if series, err := a.store.Series(a.ctx, want); err == nil && len(series) > 0 {
		return "viewer/" + url.PathEscape(want), nil
	}
	v, err := a.store.Studies(a.ctx, store.StudyQuery{Accession: want, Limit: 2})
	if err != nil {
		return "", err
	}
	switch len(v) {
	case 1:
		return "viewer/" + url.PathEscape(v[0].StudyInstanceUID), nil
	case 0:
		return "", fmt.Errorf("no study with UID or accession number %q in the local store", want)
	default:
		return "", fmt.Errorf("more than one study has accession number %q: open it from the study browser", want)
	}
}

// maxClientLog bounds one UI log message.
const maxClientLog = 2000

// ClientLog writes a message of the UI into the application log (where
// the desktop window's console cannot be seen): level "error", "warn",
// "info" or "debug". Messages are cut at 2000 bytes.
func (a *App) ClientLog(level, message string) {
	if len(message) > maxClientLog {
		cut := maxClientLog
		for cut > 0 && !utf8.RuneStart(message[cut]) {
			cut--
		}
		message = message[:cut] + "…"
	}
	l := slog.LevelInfo
	switch level {
	case "error":
		l = slog.LevelError
	case "warn":
		l = slog.LevelWarn
	case "debug":
		l = slog.LevelDebug
	}
	a.log.Log(a.ctx, l, "ui: "+message)
}
