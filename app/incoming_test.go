package app

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
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
