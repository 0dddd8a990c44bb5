package app

import (
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lightbox/backend/testcorpus"
)

// Associations refused before any service ran are listed by Incoming with
// the others, in one ID sequence: rejected (a wrong called AE title, with
// the reason), failed (garbage instead of an A-ASSOCIATE-RQ); a
// connection closed without a byte (a port check) is not listed.
func TestRefusedAssociationsAreListed(t *testing.T) {
	a, port := openOnPort(t)
	if err := StartDICOM(a); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if out, err := exec.Command("echoscu", "-aet", "WRONGWAY", "-aec", "NOTLIGHTBOX", "127.0.0.1", strconv.Itoa(port)).CombinedOutput(); err == nil {
		t.Fatalf("echoscu to a wrong called AE succeeded:\n%s", out)
	}
	c, err := net.Dial("tcp", addr) // a port check
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("GET / HTTP/1.1\r\nHost: lightbox\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	c.Read(make([]byte, 64)) // the listener answers with A-ABORT and closes
	c.Close()
	if out, err := exec.Command("echoscu", "-aet", "RIGHTWAY", "-aec", "LIGHTBOX", "127.0.0.1", strconv.Itoa(port)).CombinedOutput(); err != nil {
		t.Fatalf("echoscu: %v\n%s", err, out)
	}

	var in []AssociationActivity
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if in = a.Incoming(); len(in) >= 3 && in[0].State == "ended" {
			break
		}
	}
	byState := map[string]AssociationActivity{}
	ids := map[uint64]bool{}
	for _, x := range in {
		byState[x.State] = x
		ids[x.ID] = true
	}
	if len(in) != 3 || len(ids) != 3 {
		t.Fatalf("want 3 entries with distinct IDs (rejected, failed, ended), got %+v", in)
	}
	rj := byState["rejected"]
	if rj.CallingAE != "WRONGWAY" || rj.CalledAE != "NOTLIGHTBOX" || rj.Host != "127.0.0.1" || !strings.Contains(strings.ToLower(rj.LastError), "called") || rj.EndedAt == nil {
		t.Errorf("rejected entry: %+v", rj)
	}
	if f := byState["failed"]; f.LastError == "" || f.EndedAt == nil {
		t.Errorf("failed entry: %+v", f)
	}
	if e := byState["ended"]; e.CallingAE != "RIGHTWAY" {
		t.Errorf("ended entry: %+v", e)
	}
}

// With "senders must identify themselves" on, the listener takes only
// associations whose user identity names the user (and, once a password
// is set, carries it): storescu --user/--password against the real
// listener. The password is never returned by GetSettings.
func TestRequireUserIdentity(t *testing.T) {
	a, port := openOnPort(t)
	if err := StartDICOM(a); err != nil {
		t.Fatal(err)
	}
	file := []string{filepath.Join(testcorpus.Dir(t), "images/ct/ele/ct_ele_01.dcm")} // storescu proposes uncompressed syntaxes
	send := func(args ...string) error {
		args = append(append([]string{"-aet", "MODALITY", "-aec", "LIGHTBOX"}, args...), "127.0.0.1", strconv.Itoa(port))
		cmd := exec.Command("storescu", append(args, file...)...)
		cmd.Env = append(cmd.Environ(), "TCP_NODELAY=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("storescu %v: %v\n%.600s", args, err, out)
		}
		return err
	}
	s := a.GetSettings()
	s.RequireUserIdentity = true
	if _, err := a.SaveSettings(s); err == nil {
		t.Fatal("saved a requirement without a user name")
	}
	s.UserName, s.Password = "radiology", "s3cret pass"
	saved, err := a.SaveSettings(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.GetSettings(); saved.Password != "" || got.Password != "" || !got.PasswordSet || got.UserName != "radiology" {
		t.Fatalf("settings after save: %+v (returned %+v)", got, saved)
	}
	if h := a.store.Setting(passwordHashKey); h == "" || strings.Contains(h, "s3cret") {
		t.Fatalf("stored password %q", h)
	}
	for _, c := range []struct {
		args []string
		ok   bool
	}{
		{nil, false},                             // no identity
		{[]string{"--user", "radiology"}, false}, // no password
		{[]string{"--user", "radiology", "--password", "wrong"}, false},
		{[]string{"--user", "someone", "--password", "s3cret pass"}, false},
		{[]string{"--user", "radiology", "--password", "s3cret pass"}, true},
	} {
		if err := send(c.args...); (err == nil) != c.ok {
			t.Errorf("storescu %v: accepted %v, want %v", c.args, err == nil, c.ok)
		}
	}
	// saving again without a password keeps the stored one
	s = a.GetSettings()
	s.MaxAssociations = 9
	if _, err := a.SaveSettings(s); err != nil {
		t.Fatal(err)
	}
	if err := send("--user", "radiology", "--password", "s3cret pass"); err != nil {
		t.Error("the password was lost by a save without one")
	}
	rejected := 0
	for _, x := range a.Incoming() {
		if x.State == "rejected" {
			rejected++
			if !strings.Contains(x.LastError, "user identity") {
				t.Errorf("rejection reason %q does not name the user identity", x.LastError)
			}
		}
	}
	if rejected != 4 {
		t.Errorf("%d rejected associations listed, want 4", rejected)
	}
	// off again: anyone may send
	s.RequireUserIdentity = false
	if _, err := a.SaveSettings(s); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Error("refused without the requirement")
	}
}
