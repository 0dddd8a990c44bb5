package app

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lightbox/backend/nodes"
	"lightbox/backend/testcorpus"
)

// Version says where the DICOM listener is bound, or why it is not.
func TestVersionReportsListener(t *testing.T) {
	a, port := openOnPort(t)
	if v := a.Version(); v.DICOMPort != 0 || v.ListenerError == "" {
		t.Errorf("before StartDICOM: %+v", v)
	}
	if err := StartDICOM(a); err != nil {
		t.Fatal(err)
	}
	v := a.Version()
	if v.DICOMPort != port || v.ListenerError != "" || v.AETitle != a.GetSettings().AETitle || len(v.Addresses) == 0 {
		t.Fatalf("listening: %+v", v)
	}
	for _, ad := range v.Addresses {
		if net.ParseIP(ad) == nil {
			t.Errorf("address %q is not an IP", ad)
		}
	}
	// a second app on the same port cannot listen, and says so
	b, err := Open(Config{DataDir: t.TempDir(), Mode: "web", Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer Shutdown(b)
	if err := StartDICOM(b); err == nil {
		t.Fatal("two listeners on one port")
	}
	if v := b.Version(); v.DICOMPort != 0 || !strings.Contains(v.ListenerError, "address already in use") {
		t.Errorf("port taken: %+v", v)
	}
}

// A retrieve job carries its study UID, so that the UI can offer "Open"
// after a reload (here the PACS is down: the job stops, the UID stays).
func TestRetrieveJobCarriesStudy(t *testing.T) {
	a, err := Open(Config{DataDir: t.TempDir(), Mode: "web", Port: sendPort(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer Shutdown(a)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if err := AddTransientNode(a, nodes.Node{Name: "down", AETitle: "DOWN", Host: "127.0.0.1", Port: dead, Retrieve: nodes.CGet}); err != nil {
		t.Fatal(err)
	}
	id, err := a.Retrieve(RetrieveRequest{Node: "down", StudyUID: "1.2.3.4"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	j, err := a.jobs.waitJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if j.StudyUID != "1.2.3.4" || j.State != "stopped" || !strings.Contains(j.Message, "refused") {
		t.Errorf("job %+v", j)
	}
	for _, k := range a.Jobs() {
		if k.ID == id && k.StudyUID != "1.2.3.4" {
			t.Errorf("listed without its study: %+v", k)
		}
	}
}

// The UI's character set lists come from the backend (one list, no copy).
func TestCharacterSetsOverHTTP(t *testing.T) {
	_, srv, _ := newTestApp(t)
	var list []struct {
		Term      string `json:"term"`
		Label     string `json:"label"`
		DICOM     bool   `json:"dicom"`
		Encodable bool   `json:"encodable"`
	}
	if code := call(t, srv, "CharacterSets", &list); code != 200 {
		t.Fatalf("HTTP %d", code)
	}
	got := map[string]bool{}
	for _, c := range list {
		got[c.Term] = c.Encodable
	}
	for term, enc := range map[string]bool{"ISO_IR 192": true, "ISO 2022 IR 149": true, "GB18030": true, "WINDOWS-1252": false, "KOI8-R": false} {
		if e, ok := got[term]; !ok || e != enc {
			t.Errorf("%s: listed %v, encodable %v (want %v)", term, ok, e, enc)
		}
	}
}

// Lightbox started to open a study shows it first: by UID or accession.
func TestStartupView(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(Config{DataDir: dir, Mode: "web"})
	if err != nil {
		t.Fatal(err)
	}
	ct := filepath.Join(testcorpus.Dir(t), "images", "ct", "ele")
	id, _ := a.ImportPaths([]string{ct})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.jobs.waitJob(ctx, id); err != nil {
		t.Fatal(err)
	}
	studies, _ := a.ListStudies(storeQuery())
	if len(studies) != 1 || studies[0].AccessionNumber == "" {
		t.Fatalf("studies %+v", studies)
	}
	st := studies[0]
	if v, err := a.StartupView(); v != "" || err != nil {
		t.Errorf("no Open: %q %v", v, err)
	}
	Shutdown(a)
	for _, c := range []struct{ open, view, err string }{
		{st.StudyInstanceUID, "viewer/" + st.StudyInstanceUID, ""},
		{" " + st.AccessionNumber + " ", "viewer/" + st.StudyInstanceUID, ""},
		{"1.2.3.999", "", "no study with UID or accession number"},
	} {
		b, err := Open(Config{DataDir: dir, Mode: "web", Open: c.open})
		if err != nil {
			t.Fatal(err)
		}
		v, err := b.StartupView()
		Shutdown(b)
		if v != c.view || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Open %q: %q %v", c.open, v, err)
		}
	}
}
