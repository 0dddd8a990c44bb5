package app

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lightbox/backend/charset"
)

// Settings are the user's own settings (Settings view).
type Settings struct {
	AETitle           string `json:"aeTitle"`
	Port              int    `json:"port"`
	MaxAssociations   int    `json:"maxAssociations"`
	AllowOnlyKnownAEs bool   `json:"allowOnlyKnownAEs"`
	FallbackCharset   string `json:"fallbackCharset"`
	Fsync             bool   `json:"fsync"`
}

// DefaultSettings are used for anything never set.
func DefaultSettings() Settings {
	return Settings{AETitle: "LIGHTBOX", Port: 11112, MaxAssociations: 16, Fsync: true}
}

func (a *App) loadSettings() Settings {
	s := DefaultSettings()
	st := a.store
	if v := st.Setting("aeTitle"); v != "" {
		s.AETitle = v
	}
	if v, err := strconv.Atoi(st.Setting("port")); err == nil {
		s.Port = v
	}
	if v, err := strconv.Atoi(st.Setting("maxAssociations")); err == nil {
		s.MaxAssociations = v
	}
	s.AllowOnlyKnownAEs = st.Setting("allowOnlyKnownAEs") == "true"
	s.FallbackCharset = st.Setting("fallbackCharset")
	if v := st.Setting("fsync"); v != "" {
		s.Fsync = v == "true"
	}
	if a.cfg.AETitle != "" {
		s.AETitle = a.cfg.AETitle
	}
	if a.cfg.Port != 0 {
		s.Port = a.cfg.Port
	}
	return s
}

// ValidateAETitle checks an AE title: 1-16 characters of the default
// repertoire, no backslash or control characters, not all spaces.
func ValidateAETitle(ae string) error {
	if len(ae) == 0 || len(ae) > 16 {
		return fmt.Errorf("AE title %q must have 1 to 16 characters", ae)
	}
	if strings.TrimSpace(ae) == "" {
		return errors.New("AE title must not be all spaces")
	}
	for _, r := range ae {
		if r < 0x20 || r > 0x7E || r == '\\' {
			return fmt.Errorf("AE title %q may not contain %q", ae, r)
		}
	}
	return nil
}

// GetSettings returns the current settings.
func (a *App) GetSettings() Settings {
	a.smu.Lock()
	defer a.smu.Unlock()
	return a.settings
}

// SaveSettings validates, stores and applies new settings (the listener
// follows without a restart).
func (a *App) SaveSettings(s Settings) (Settings, error) {
	s.AETitle = strings.TrimSpace(s.AETitle)
	if err := ValidateAETitle(s.AETitle); err != nil {
		return Settings{}, err
	}
	if s.Port < 1 || s.Port > 65535 {
		return Settings{}, fmt.Errorf("port %d is not between 1 and 65535", s.Port)
	}
	if s.MaxAssociations < 1 || s.MaxAssociations > 256 {
		return Settings{}, fmt.Errorf("maximum associations %d is not between 1 and 256", s.MaxAssociations)
	}
	if s.FallbackCharset != "" && !charset.Known(s.FallbackCharset) {
		return Settings{}, fmt.Errorf("unknown character set %q", s.FallbackCharset)
	}
	kv := map[string]string{"aeTitle": s.AETitle, "port": strconv.Itoa(s.Port), "maxAssociations": strconv.Itoa(s.MaxAssociations),
		"allowOnlyKnownAEs": strconv.FormatBool(s.AllowOnlyKnownAEs), "fallbackCharset": s.FallbackCharset, "fsync": strconv.FormatBool(s.Fsync)}
	for k, v := range kv {
		if err := a.store.SetSetting(k, v); err != nil {
			return Settings{}, err
		}
	}
	a.smu.Lock()
	a.settings = s
	a.smu.Unlock()
	a.applySettings(s)
	return s, nil
}

// applySettings is where the network listener picks up changes; set by the
// host once the listener runs.
func (a *App) applySettings(s Settings) {
	if f := a.onSettings; f != nil {
		f(s)
	}
}
