package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"lightbox/backend/store"
	"lightbox/backend/testcorpus"
)

func newTestApp(t *testing.T) (*App, *httptest.Server, *Broker) {
	t.Helper()
	a, err := Open(Config{DataDir: t.TempDir(), Mode: "web"})
	if err != nil {
		t.Fatal(err)
	}
	broker := NewBroker()
	SetEmitter(a, broker)
	assets := fstest.MapFS{"index.html": {Data: []byte("<html>lightbox</html>")}}
	srv := httptest.NewServer(WebHandler(a, assets, broker, ""))
	t.Cleanup(func() { srv.Close(); Shutdown(a) })
	return a, srv, broker
}

func call(t *testing.T, srv *httptest.Server, method string, out any, args ...any) int {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	body, _ := json.Marshal(args)
	resp, err := http.Post(srv.URL+"/api/call/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func importCT(t *testing.T, srv *httptest.Server) {
	t.Helper()
	dir := filepath.Join(testcorpus.Dir(t), "images", "ct", "ele")
	var id string
	if code := call(t, srv, "ImportPaths", &id, []string{dir}); code != 200 {
		t.Fatalf("ImportPaths: HTTP %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var jobs []Job
		call(t, srv, "Jobs", &jobs)
		for _, j := range jobs {
			if j.ID == id && j.State != "running" {
				if j.State != "done" || j.Done != 20 {
					t.Fatalf("import job ended %s with %d done: %s", j.State, j.Done, j.Message)
				}
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("import did not finish")
}

func TestAPIOverHTTP(t *testing.T) {
	_, srv, _ := newTestApp(t)
	importCT(t, srv)

	var studies []store.StudyView
	if code := call(t, srv, "ListStudies", &studies, store.StudyQuery{PatientName: "phantom^c*"}); code != 200 || len(studies) != 1 {
		t.Fatalf("ListStudies: HTTP %d, %d studies", code, len(studies))
	}
	st := studies[0]
	if st.PatientName != "Phantom^CT" || st.NumberOfInstances != 20 || st.Modalities[0] != "CT" {
		t.Errorf("study %+v", st)
	}
	call(t, srv, "ListStudies", &studies, store.StudyQuery{PatientName: "Nobody*"})
	if len(studies) != 0 {
		t.Errorf("a non-matching name found %d studies", len(studies))
	}
	var series []store.SeriesView
	call(t, srv, "ListSeries", &series, st.StudyInstanceUID)
	if len(series) != 1 || !strings.HasPrefix(series[0].ThumbnailURL, "/files/thumbnail/") {
		t.Fatalf("series %+v", series)
	}
	var insts []store.InstanceView
	call(t, srv, "ListInstances", &insts, series[0].SeriesInstanceUID)
	if len(insts) != 20 || insts[0].InstanceNumber != 1 || insts[19].InstanceNumber != 20 {
		t.Fatalf("instances: %d", len(insts))
	}

	// Thumbnail: a real PNG with pixels that vary.
	resp, err := http.Get(srv.URL + series[0].ThumbnailURL)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Header.Get("X-Lightbox-Placeholder") != "" {
		t.Fatalf("thumbnail: %v placeholder=%q", err, resp.Header.Get("X-Lightbox-Placeholder"))
	}
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, _, _, _ := img.At(x, y).RGBA()
			seen[r>>8] = true
		}
	}
	if len(seen) < 5 {
		t.Errorf("thumbnail has only %d grey levels", len(seen))
	}

	// Frame: int16 samples; the corpus CT has HU = stored - 1024 and air (-1000 HU) inserts.
	resp, err = http.Get(srv.URL + "/files/instance/" + strconv.Itoa(int(insts[0].ID)) + "/frame/0")
	if err != nil {
		t.Fatal(err)
	}
	frame, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("X-Lightbox-Data-Type") != "int16" || len(frame) != 128*128*2 {
		t.Fatalf("frame: type %q, %d bytes", resp.Header.Get("X-Lightbox-Data-Type"), len(frame))
	}
	var meta InstanceMeta
	resp, _ = http.Get(srv.URL + "/files/instance/" + strconv.Itoa(int(insts[0].ID)) + "/meta")
	json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if meta.Rows != 128 || meta.RescaleIntercept != -1024 || meta.PatientName != "Phantom^CT" || len(meta.PixelSpacing) != 2 {
		t.Errorf("meta %+v", meta)
	}

	// Errors are JSON with a status.
	var e map[string]string
	if code := call(t, srv, "ListSeries", &e, "1.2.3.no.such.study"); code != 404 || e["error"] == "" {
		t.Errorf("unknown study: HTTP %d %v", code, e)
	}
	if code := call(t, srv, "NoSuchMethod", &e); code != 404 {
		t.Errorf("unknown method: HTTP %d", code)
	}
	if code := call(t, srv, "ListSeries", &e, 1, 2); code != 400 {
		t.Errorf("wrong arity: HTTP %d", code)
	}

	// Delete removes the study and its files.
	if code := call(t, srv, "DeleteStudy", nil, st.StudyInstanceUID); code != 200 {
		t.Fatalf("DeleteStudy: HTTP %d", code)
	}
	call(t, srv, "ListStudies", &studies, store.StudyQuery{})
	if len(studies) != 0 {
		t.Errorf("%d studies after delete", len(studies))
	}
}

func TestEventsStream(t *testing.T) {
	_, srv, _ := newTestApp(t)
	resp, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: ") {
				events <- strings.TrimPrefix(sc.Text(), "event: ")
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	importCT(t, srv)
	got := map[string]bool{}
	timeout := time.After(5 * time.Second)
	for !(got["job"] && got["store"]) {
		select {
		case e := <-events:
			got[e] = true
		case <-timeout:
			t.Fatalf("events seen: %v, want job and store", got)
		}
	}
}

func TestUploadAndToken(t *testing.T) {
	a, err := Open(Config{DataDir: t.TempDir(), Mode: "web"})
	if err != nil {
		t.Fatal(err)
	}
	defer Shutdown(a)
	token := "0123456789abcdef-secret"
	srv := httptest.NewServer(WebHandler(a, fstest.MapFS{"index.html": {Data: []byte("x")}}, NewBroker(), token))
	defer srv.Close()
	resp, _ := http.Post(srv.URL+"/api/call/Version", "application/json", strings.NewReader("[]"))
	if resp.StatusCode != 401 {
		t.Fatalf("no token: HTTP %d", resp.StatusCode)
	}
	b, _ := os.ReadFile(filepath.Join(testcorpus.Dir(t), "images/mr/ele/mr_ele_01.dcm"))
	req, _ := http.NewRequest("POST", srv.URL+"/files/upload", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Filename", "mr.dcm")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res UploadResult
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if res.Outcome != "stored" || res.Study == "" {
		t.Fatalf("upload: %+v", res)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/files/upload", strings.NewReader("hello"))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, _ = http.DefaultClient.Do(req)
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if res.Outcome != "skipped" {
		t.Fatalf("non-DICOM upload: %+v", res)
	}
	// ?token= sets a cookie that admits later requests.
	jar := &cookieJar{}
	client := &http.Client{Jar: jar}
	if resp, _ := client.Get(srv.URL + "/?token=" + token); resp.StatusCode != 200 {
		t.Fatalf("?token=: HTTP %d", resp.StatusCode)
	}
	resp, _ = client.Post(srv.URL+"/api/call/Version", "application/json", strings.NewReader("[]"))
	if resp.StatusCode != 200 {
		t.Fatalf("cookie: HTTP %d", resp.StatusCode)
	}
}

func TestSettingsValidation(t *testing.T) {
	a, _, _ := newTestApp(t)
	s := a.GetSettings()
	if s.AETitle != "LIGHTBOX" || s.Port != 11112 {
		t.Fatalf("defaults %+v", s)
	}
	for _, bad := range []Settings{{AETitle: "", Port: 104, MaxAssociations: 4}, {AETitle: "A\\B", Port: 104, MaxAssociations: 4},
		{AETitle: "THIS_IS_SEVENTEEN", Port: 104, MaxAssociations: 4}, {AETitle: "OK", Port: 70000, MaxAssociations: 4},
		{AETitle: "OK", Port: 104, MaxAssociations: 4, FallbackCharset: "KLINGON"}} {
		if _, err := a.SaveSettings(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	good := Settings{AETitle: "WS1", Port: 11999, MaxAssociations: 4, FallbackCharset: "ISO_IR 144", Fsync: true}
	if _, err := a.SaveSettings(good); err != nil {
		t.Fatal(err)
	}
	if got := a.loadSettings(); got != good {
		t.Errorf("stored %+v, want %+v", got, good)
	}
}

type cookieJar struct{ c []*http.Cookie }

func (j *cookieJar) SetCookies(_ *url.URL, c []*http.Cookie) { j.c = append(j.c, c...) }
func (j *cookieJar) Cookies(_ *url.URL) []*http.Cookie       { return j.c }

// TestCharsetNamesInStudyList imports the corpus's charset folder and
// checks every manifest name appears exactly in the study list.
func TestCharsetNamesInStudyList(t *testing.T) {
	a, _, _ := newTestApp(t)
	id, err := a.ImportPaths([]string{filepath.Join(testcorpus.Dir(t), "charset")})
	if err != nil {
		t.Fatal(err)
	}
	if j, err := a.jobs.waitJob(context.Background(), id); err != nil || j.State != "done" {
		t.Fatalf("import: %v %+v", err, j)
	}
	studies, err := a.ListStudies(store.StudyQuery{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range studies {
		names[s.PatientName] = true
	}
	n := 0
	for _, r := range testcorpus.Manifest(t) {
		if r["kind"] != "charset" {
			continue
		}
		n++
		if !names[r["patient_name_utf8"]] {
			t.Errorf("%s: %q not in the study list", r["path"], r["patient_name_utf8"])
		}
	}
	if n != 31 {
		t.Errorf("%d charset rows, want 31", n)
	}
	// Search matches non-Latin names case-insensitively, per component group.
	for _, q := range []string{"иванов*", "ΔΙΟΝΥΣΙΟΣ*", "山田*", "*たろう"} {
		got, _ := a.ListStudies(store.StudyQuery{PatientName: q})
		if len(got) == 0 {
			t.Errorf("search %q found nothing", q)
		}
	}
}
