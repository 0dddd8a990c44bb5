package app

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"lightbox/backend/pdu"
	"lightbox/backend/ul"
)

// User identity of incoming associations (PS3.7 D.3.3.7): with
// Settings.RequireUserIdentity on, the listener accepts only requests
// whose User Identity item names Settings.UserName (type 1, user name, or
// type 2, user name and passcode) and, once a password is set, carries it
// (type 2). The password is kept as a salted SHA-256 under the
// "passwordHash" setting and never returned (the passcode itself travels
// in clear in the A-ASSOCIATE-RQ, as the standard has it).

// hashPassword returns "sha256:<salt>:<digest>" in hex.
func hashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return "sha256:" + hex.EncodeToString(salt) + ":" + hex.EncodeToString(digest(salt, []byte(pw)))
}

func digest(salt, pw []byte) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write(pw)
	return h.Sum(nil)
}

// passwordMatches reports whether pw is the password hashed as stored.
func passwordMatches(stored string, pw []byte) bool {
	parts := strings.Split(stored, ":")
	if len(parts) != 3 || parts[0] != "sha256" {
		return false
	}
	salt, err1 := hex.DecodeString(parts[1])
	want, err2 := hex.DecodeString(parts[2])
	if err1 != nil || err2 != nil {
		return false
	}
	return subtle.ConstantTimeCompare(digest(salt, pw), want) == 1
}

// identityCheck is the listener's user identity check for the settings
// (nil when senders need not identify themselves); passwordHash is the
// stored hash, "" when no password is set.
func identityCheck(s Settings, passwordHash string) ul.UserIdentityFunc {
	if !s.RequireUserIdentity {
		return nil
	}
	user := []byte(s.UserName)
	return func(id *pdu.UserIdentityRQ, _ *pdu.AssociateRQ) ([]byte, bool) {
		if id == nil || (id.Type != 1 && id.Type != 2) || subtle.ConstantTimeCompare(id.Primary, user) != 1 {
			return nil, false
		}
		if passwordHash == "" {
			return nil, true
		}
		return nil, id.Type == 2 && passwordMatches(passwordHash, id.Secondary)
	}
}
