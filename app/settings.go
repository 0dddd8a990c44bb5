package app

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lightbox/backend/charset"
	"lightbox/backend/nodes"
)

// Settings are the user's own settings (Settings view).
type Settings struct {
	AETitle           string `json:"aeTitle"`
	Port              int    `json:"port"`
	MaxAssociations   int    `json:"maxAssociations"`
	AllowOnlyKnownAEs bool   `json:"allowOnlyKnownAEs"`
	FallbackCharset   string `json:"fallbackCharset"`
	Fsync             bool   `json:"fsync"`
	// PreferUncompressed: the Storage SCP picks an uncompressed transfer
	// syntax when the sender offers one (default: keep the sender's own).
	PreferUncompressed bool `json:"preferUncompressed"`
	// RequireUserIdentity: senders must identify themselves as UserName
	// (and with the password, once one is set); see identity.go.
	RequireUserIdentity bool   `json:"requireUserIdentity"`
	UserName            string `json:"userName"`
	// Password is write-only: SaveSettings stores a new one when it is
	// not empty (and keeps the old one when it is); GetSettings returns "".
	Password    string `json:"password"`
	PasswordSet bool   `json:"passwordSet"` // a password is stored
}

// passwordHashKey is the setting that holds the hashed password.
const passwordHashKey = "passwordHash"

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
	s.PreferUncompressed = st.Setting("preferUncompressed") == "true"
	if v := st.Setting("fsync"); v != "" {
		s.Fsync = v == "true"
	}
	s.RequireUserIdentity = st.Setting("requireUserIdentity") == "true"
	s.UserName = st.Setting("userName")
	s.PasswordSet = st.Setting(passwordHashKey) != ""
	if a.cfg.AETitle != "" {
		s.AETitle = a.cfg.AETitle
	}
	if a.cfg.Port != 0 {
		s.Port = a.cfg.Port
	}
	return s
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
	if err := nodes.ValidateAETitle(s.AETitle); err != nil {
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
	if len(s.UserName) > 64 || strings.ContainsFunc(s.UserName, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return Settings{}, errors.New("the user name has at most 64 characters, none of them control characters")
	}
	if s.RequireUserIdentity && s.UserName == "" {
		return Settings{}, errors.New("senders must identify themselves, but no user name is set")
	}
	kv := map[string]string{"aeTitle": s.AETitle, "port": strconv.Itoa(s.Port), "maxAssociations": strconv.Itoa(s.MaxAssociations),
		"allowOnlyKnownAEs": strconv.FormatBool(s.AllowOnlyKnownAEs), "fallbackCharset": s.FallbackCharset, "fsync": strconv.FormatBool(s.Fsync),
		"preferUncompressed": strconv.FormatBool(s.PreferUncompressed), "requireUserIdentity": strconv.FormatBool(s.RequireUserIdentity),
		"userName": s.UserName}
	if s.Password != "" {
		kv[passwordHashKey] = hashPassword(s.Password)
	}
	s.Password = ""
	s.PasswordSet = kv[passwordHashKey] != "" || a.store.Setting(passwordHashKey) != ""
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
