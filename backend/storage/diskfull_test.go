package storage

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"lightbox/backend/dimse/dimsetest"
	"lightbox/backend/store"
)

// A store on a 1 MiB tmpfs fills up: the objects that do not fit get a
// failure status (0xA700 when the file write hits ENOSPC), and the store
// stays consistent. Needs mount rights (root); TestSCPStatuses injects
// ENOSPC without them.
func TestSCPDiskFullTmpfs(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); ENOSPC is injected in TestSCPStatuses", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	st, err := store.Open(dir, store.Options{Fsync: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	s := startSCPOn(t, st, dir, nil, nil)
	var files []string
	for _, r := range imageRows(t, false) {
		if (r["kind"] == "ct" || r["kind"] == "mr") && (r["ts_key"] == "ele" || r["ts_key"] == "ile" || r["ts_key"] == "ebe") {
			files = append(files, r["abspath"])
		}
	}
	out, _ := dimsetest.Run(t, 60*time.Second, "storescu", append([]string{"-aec", "LIGHTBOX", "127.0.0.1", s.port}, files...)...)
	var act AssociationActivity
	waitFor(t, 5*time.Second, "association end", func() bool {
		l := s.act.List()
		if len(l) > 0 && l[0].State != "active" {
			act = l[0]
			return true
		}
		return false
	})
	if act.Failed == 0 || act.Instances == 0 {
		t.Fatalf("activity %+v for %d files\n%s", act, len(files), out)
	}
	if !strings.Contains(out, "Out of Resources") && !strings.Contains(strings.Join(act.Errors, "\n"), "0xA700") {
		t.Errorf("no out-of-resources status:\n%s\n%v", out, act.Errors)
	}
	s.stop()
	st, err = store.Open(dir, store.Options{Fsync: true, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := checkConsistent(t, st, dir); n < act.Instances-1 || n > act.Instances {
		t.Errorf("%d rows after reopen, %d answered Success", n, act.Instances)
	}
	t.Logf("%d stored, %d refused; last error %s\n%s", act.Instances, act.Failed, act.LastError, out)
}
