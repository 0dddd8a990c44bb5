package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lightbox/app"
	"lightbox/backend/testcorpus"
)

// capture runs f with os.Stdout and os.Stderr redirected, returning both.
func capture(t *testing.T, f func() int) (code int, stdout, stderr string) {
	t.Helper()
	oldOut, oldErr := os.Stdout, os.Stderr
	ro, wo, _ := os.Pipe()
	re, we, _ := os.Pipe()
	os.Stdout, os.Stderr = wo, we
	outc, errc := make(chan string), make(chan string)
	go func() { b, _ := io.ReadAll(ro); outc <- string(b) }()
	go func() { b, _ := io.ReadAll(re); errc <- string(b) }()
	code = f()
	wo.Close()
	we.Close()
	os.Stdout, os.Stderr = oldOut, oldErr
	return code, <-outc, <-errc
}

// TestImportThenStudiesJSON is issue 2's check: after importing the
// corpus, `studies --json` lists the manifest's studies with their counts,
// and a second import adds nothing and says so.
func TestImportThenStudiesJSON(t *testing.T) {
	corpus := testcorpus.Dir(t)
	data := t.TempDir()
	code, _, errOut := capture(t, func() int { return runImport([]string{"-q", "--data", data, corpus}) })
	if code != 1 || !strings.Contains(errOut, "failed: ") || !strings.Contains(errOut, "bad_truncated_meta.dcm") {
		t.Fatalf("import: exit %d (want 1: the malformed files fail)\n%s", code, errOut)
	}
	code, out, _ := capture(t, func() int { return runStudies([]string{"--data", data, "--json"}) })
	if code != 0 {
		t.Fatalf("studies: exit %d", code)
	}
	var studies []map[string]any
	if err := json.Unmarshal([]byte(out), &studies); err != nil {
		t.Fatalf("studies --json: %v\n%s", err, out)
	}
	got := map[string]float64{}
	for _, s := range studies {
		for _, k := range []string{"studyInstanceUID", "patientName", "patientID", "patientBirthDate", "studyDate", "studyDescription",
			"accessionNumber", "modalities", "numberOfSeries", "numberOfInstances"} {
			if _, ok := s[k]; !ok {
				t.Fatalf("study without %q: %v", k, s)
			}
		}
		got[s["studyInstanceUID"].(string)] = s["numberOfInstances"].(float64)
	}
	want := map[string]map[string]bool{}
	for _, r := range testcorpus.Manifest(t) {
		if r["expect"] == "ok" && r["kind"] != "external" && r["kind"] != "charset" && r["sop_uid"] != "-" {
			if want[r["study_uid"]] == nil {
				want[r["study_uid"]] = map[string]bool{}
			}
			want[r["study_uid"]][r["sop_uid"]] = true
		}
	}
	for uid, sops := range want {
		if got[uid] != float64(len(sops)) {
			t.Errorf("study %s: %v instances, manifest %d", uid, got[uid], len(sops))
		}
	}
	code, _, errOut = capture(t, func() int { return runImport([]string{"-q", "--data", data, filepath.Join(corpus, "images")}) })
	if code != 0 || !strings.Contains(errOut, "imported 0,") || !strings.Contains(errOut, "nothing new") {
		t.Errorf("second import: exit %d\n%s", code, errOut)
	}
}

func TestEchoClosedPortFailsClearlyWithinTimeout(t *testing.T) {
	t0 := time.Now()
	code, _, errOut := capture(t, func() int { return runEcho([]string{"--timeout", "3", "127.0.0.1", "1"}) })
	if code == 0 || time.Since(t0) > 4*time.Second || !strings.Contains(errOut, "refused") {
		t.Fatalf("exit %d after %v: %s", code, time.Since(t0), errOut)
	}
}

func TestServeRefusesAnExposedAddressWithoutToken(t *testing.T) {
	if err := checkExposure("0.0.0.0:8080", ""); err == nil || !strings.Contains(err.Error(), "--token") {
		t.Errorf("0.0.0.0 without token: %v", err)
	}
	if err := checkExposure("0.0.0.0:8080", "short"); err == nil {
		t.Error("a 5-character token was accepted")
	}
	for _, ok := range []string{"127.0.0.1:8080", "localhost:1", "[::1]:80"} {
		if err := checkExposure(ok, ""); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestListenerAnswersEchoscuAndOurEcho starts the App's DICOM listener and
// echoes it with DCMTK echoscu (several max PDU sizes) and with our CLI; a
// wrong called AE title is rejected with the reason.
func TestListenerAnswersEchoscuAndOurEcho(t *testing.T) {
	a, err := app.Open(app.Config{DataDir: t.TempDir(), Mode: "web", AETitle: "LBXMAIN", Port: 12470})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Shutdown(a)
	if err := app.StartDICOM(a); err != nil {
		t.Fatal(err)
	}
	for _, pdu := range []string{"4096", "16384", "131072"} {
		cmd := exec.Command("echoscu", "-aec", "LBXMAIN", "--max-pdu", pdu, "127.0.0.1", "12470")
		cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("echoscu max PDU %s: %v\n%s", pdu, err, out)
		}
	}
	code, out, errOut := capture(t, func() int { return runEcho([]string{"--aec", "LBXMAIN", "127.0.0.1", "12470"}) })
	if code != 0 || !strings.Contains(out, "success") {
		t.Errorf("lightbox echo: exit %d %s %s", code, out, errOut)
	}
	code, _, errOut = capture(t, func() int { return runEcho([]string{"--aec", "WRONG", "127.0.0.1", "12470"}) })
	if code == 0 || !strings.Contains(errOut, "rejected") {
		t.Errorf("wrong AE: exit %d %s", code, errOut)
	}
	// The AE title follows the settings without a restart.
	s := a.GetSettings()
	s.AETitle = "RENAMED"
	if _, err := a.SaveSettings(s); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = capture(t, func() int { return runEcho([]string{"--aec", "RENAMED", "127.0.0.1", "12470"}) })
	if code != 0 {
		t.Errorf("after renaming: exit %d %s", code, errOut)
	}
}
