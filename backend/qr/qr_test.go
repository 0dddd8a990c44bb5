package qr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/dimse"
	"lightbox/backend/dimse/dimsetest"
	"lightbox/backend/storage"
	"lightbox/backend/store"
	"lightbox/backend/testcorpus"
	"lightbox/backend/ul"
)

const (
	orthancDICOM = "12440"
	orthancHTTP  = "12441"
	ourPort      = "12442"
	qrscpPort    = "12443"
)

// startSCP runs our own Storage SCP (as the C-MOVE destination) into a store.
func startSCP(t *testing.T, aet, port string) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mux := dimse.NewMux(dimse.Options{})
	syntaxes := storage.Register(mux, storage.NewSCP(st, nil, nil), false)
	srv := ul.NewServer(ul.Policy{AETitle: aet, Syntaxes: syntaxes}, mux)
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return st
}

func orthanc(t *testing.T) Target {
	dimsetest.Orthanc(t, "ORTHANC", orthancDICOM, orthancHTTP, map[string]dimsetest.Modality{"lightbox": {AET: "LBXQR", Port: ourPort}})
	dir := testcorpus.Dir(t)
	var files []string
	for _, g := range []string{"images/ct/ele/*.dcm", "images/mr/jpegls-lossless/*.dcm", "charset/generated/cs_iso_ir_144.dcm",
		"charset/generated/cs_iso_ir_126.dcm", "charset/generated/cs_iso2022_ir149.dcm", "charset/generated/cs_iso_ir_192.dcm"} {
		m, _ := filepath.Glob(filepath.Join(dir, g))
		files = append(files, m...)
	}
	dimsetest.OrthancUpload(t, orthancHTTP, files...)
	return Target{CallingAE: "LBXQR", CalledAE: "ORTHANC", Addr: "127.0.0.1:" + orthancDICOM, Timeout: 5 * time.Second}
}

func names(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, r := range testcorpus.Manifest(t) {
		if r["kind"] == "charset" {
			out[filepath.Base(r["path"])] = r["patient_name_utf8"]
		}
	}
	return out
}

func find(t *testing.T, tg Target, q Query) []Match {
	t.Helper()
	var ms []Match
	res, err := Find(context.Background(), tg, q, 0, func(m Match) error { ms = append(ms, m); return nil })
	if err != nil {
		t.Fatalf("C-FIND %v: %v", q, err)
	}
	if res.Status != dimse.StatusSuccess {
		t.Fatalf("C-FIND %v: status %s", q, res.Status)
	}
	return ms
}

func TestAgainstOrthanc(t *testing.T) {
	tg := orthanc(t)
	ms := find(t, tg, Query{Level: Study, Keys: map[string]string{"PatientName": "Phantom^C*"}})
	if len(ms) != 1 || ms[0]["PatientID"] != "PHANTOM-CT" || ms[0]["ModalitiesInStudy"] != "CT" {
		t.Fatalf("study find: %v", ms)
	}
	ct := ms[0]["StudyInstanceUID"]
	if got := find(t, tg, Query{Level: Study, Keys: map[string]string{"StudyDate": "20240101-20240131", "ModalitiesInStudy": "MR"}}); len(got) != 1 {
		t.Errorf("date range + modality: %d matches", len(got))
	}
	if got := find(t, tg, Query{Level: Study, Keys: map[string]string{"StudyDate": "20250101-"}}); len(got) != 0 {
		t.Errorf("future dates: %d matches", len(got))
	}
	if got := find(t, tg, Query{Level: Study, Keys: map[string]string{"AccessionNumber": "ACC-CT"}}); len(got) != 1 {
		t.Errorf("accession: %d", len(got))
	}
	series := find(t, tg, Query{Level: Series, Keys: map[string]string{"StudyInstanceUID": ct}})
	if len(series) != 1 || series[0]["Modality"] != "CT" {
		t.Fatalf("series: %v", series)
	}
	images := find(t, tg, Query{Level: Image, Keys: map[string]string{"StudyInstanceUID": ct, "SeriesInstanceUID": series[0]["SeriesInstanceUID"]}})
	if len(images) != 20 || images[0]["SOPClassUID"] != "1.2.840.10008.5.1.4.1.1.2" {
		t.Fatalf("images: %d", len(images))
	}
	// The storage classes to propose for C-GET: SOP Classes in Study
	// for a study, the instances' classes for a series.
	for _, r := range []RetrieveRequest{{StudyUID: ct}, {StudyUID: ct, SeriesUID: series[0]["SeriesInstanceUID"]}} {
		classes, err := StorageClasses(context.Background(), tg, r)
		if err != nil || len(classes) != 1 || classes[0] != "1.2.840.10008.5.1.4.1.1.2" {
			t.Errorf("storage classes of %+v: %q, %v", r, classes, err)
		}
	}

	// A result limit cancels the query.
	var n int
	res, err := Find(context.Background(), tg, Query{Level: Image, Keys: map[string]string{"StudyInstanceUID": ct, "SeriesInstanceUID": series[0]["SeriesInstanceUID"]}},
		5, func(Match) error { n++; return nil })
	if err != nil || !res.Limited || n != 5 {
		t.Errorf("limit: %v %+v, %d delivered", err, res, n)
	}

	// Non-Latin names come back exactly (Cyrillic, Greek, Korean, UTF-8), and keys in those scripts match.
	want := names(t)
	for file, key := range map[string]string{"cs_iso_ir_144.dcm": "", "cs_iso_ir_126.dcm": "", "cs_iso2022_ir149.dcm": "", "cs_iso_ir_192.dcm": ""} {
		_ = key
		name := want[file]
		first := strings.SplitN(strings.SplitN(name, "=", 2)[0], "^", 2)[0]
		q := Query{Level: Study, Keys: map[string]string{"PatientName": first + "*"}}
		got := find(t, tg, q)
		found := false
		for _, m := range got {
			found = found || m["PatientName"] == name
		}
		if !found {
			t.Errorf("%s: query %q found %v, want %q", file, first+"*", got, name)
		}
	}

	// C-GET of the MR study (JPEG-LS): every instance stored, data sets byte-identical.
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mr := find(t, tg, Query{Level: Study, Keys: map[string]string{"PatientID": "PHANTOM-MR"}})
	if len(mr) != 1 {
		t.Fatalf("MR study: %v", mr)
	}
	var last Progress
	gres, err := Get(context.Background(), tg, RetrieveRequest{StudyUID: mr[0]["StudyInstanceUID"]}, []string{"1.2.840.10008.5.1.4.1.1.4"},
		storage.NewSCP(st, nil, nil), func(p Progress) { last = p }, nil)
	if err != nil || gres.Status != dimse.StatusSuccess || gres.Completed != 10 {
		t.Fatalf("C-GET: %v %+v (last pending %+v)", err, gres, last)
	}
	insts, _ := st.StudyInstances(context.Background(), mr[0]["StudyInstanceUID"])
	if len(insts) != 10 {
		t.Fatalf("%d instances stored", len(insts))
	}
	checkSameDataSets(t, st, insts, filepath.Join(testcorpus.Dir(t), "images/mr/jpegls-lossless"))

	// C-GET cancelled after the third sub-operation: the peer stops with
	// status Cancel, and what arrived is in the store, whole and indexed.
	st2dir := t.TempDir()
	st2, err := store.Open(st2dir, store.Options{Fsync: true})
	if err != nil {
		t.Fatal(err)
	}
	cancel := make(chan struct{})
	pendings := 0
	cres, err := Get(context.Background(), tg, RetrieveRequest{StudyUID: ct}, []string{"1.2.840.10008.5.1.4.1.1.2"},
		storage.NewSCP(st2, nil, nil), func(p Progress) {
			pendings++
			if pendings == 3 {
				close(cancel)
			}
		}, cancel)
	if err != nil {
		t.Fatalf("cancelled C-GET: %v", err)
	}
	got, _ := st2.StudyInstances(context.Background(), ct)
	if cres.Status != dimse.StatusCancel || len(got) >= 20 || len(got) < 3 {
		t.Errorf("cancelled C-GET: status %s, %d of 20 stored", cres.Status, len(got))
	}
	st2.Close()
	st2, err = store.Open(st2dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := st2.StudyInstances(context.Background(), ct)
	for _, in := range again {
		if _, err := os.Stat(st2.ObjectPath(&in)); err != nil {
			t.Errorf("row without file after cancel: %v", err)
		}
	}
	if len(again) != len(got) {
		t.Errorf("reopening changed the store: %d -> %d instances", len(got), len(again))
	}
	st2.Close()

	// C-MOVE of the CT study to our SCP.
	dest := startSCP(t, "LBXQR", ourPort)
	mres, err := Move(context.Background(), tg, RetrieveRequest{StudyUID: ct}, "LBXQR", nil, nil)
	if err != nil || mres.Status != dimse.StatusSuccess || mres.Completed != 20 {
		t.Fatalf("C-MOVE: %v %+v", err, mres)
	}
	waitCount(t, dest, ct, 20)

	// A destination Orthanc does not know: 0xA801 as a status, not a transport error.
	mres, err = Move(context.Background(), tg, RetrieveRequest{StudyUID: ct}, "NOBODY", nil, nil)
	if err != nil || mres.Status.Class() != dimse.ClassFailure {
		t.Errorf("unknown destination: %v, status %s", err, mres.Status)
	}
	t.Logf("Orthanc on an unknown destination: %s %q", mres.Status, mres.ErrorComment)
}

func waitCount(t *testing.T, st *store.Store, study string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		insts, _ := st.StudyInstances(context.Background(), study)
		if len(insts) == n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("study %s did not reach %d instances", study, n)
}

// checkSameDataSets compares each stored data set with the corpus file of
// the same SOP Instance UID, byte for byte (after the meta header).
func checkSameDataSets(t *testing.T, st *store.Store, insts []store.Instance, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.dcm"))
	byUID := map[string][]byte{}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		pf, err := dcm.ParseBytes(b, dcm.Options{StopBeforePixels: true})
		if err != nil {
			t.Fatal(err)
		}
		_, ds := dimsetest.Part10(t, b)
		byUID[pf.DataSet.UID(dcm.TagSOPInstanceUID)] = ds
	}
	for _, in := range insts {
		b, err := os.ReadFile(st.ObjectPath(&in))
		if err != nil {
			t.Fatal(err)
		}
		_, ds := dimsetest.Part10(t, b)
		if want, ok := byUID[in.SOPInstanceUID]; !ok || string(want) != string(ds) {
			t.Errorf("%s: stored data set differs from the source (%d vs %d bytes)", in.SOPInstanceUID, len(ds), len(want))
		}
	}
}

func TestPeerDownIsATransportError(t *testing.T) {
	tg := Target{CallingAE: "LBXQR", CalledAE: "NOPE", Addr: "127.0.0.1:1", Timeout: 2 * time.Second}
	t0 := time.Now()
	_, err := Find(context.Background(), tg, Query{Level: Study}, 0, func(Match) error { return nil })
	if err == nil || time.Since(t0) > 3*time.Second {
		t.Fatalf("closed port: %v after %v", err, time.Since(t0))
	}
	if !strings.Contains(err.Error(), "refused") {
		t.Errorf("error does not say refused: %v", err)
	}
}

func TestIdentifierEncodesKeysInTheNodeCharset(t *testing.T) {
	q := Query{Level: Study, Keys: map[string]string{"PatientName": "Yamada^Tarou=山田^太郎"}}
	b, err := q.Identifier("ISO 2022 IR 87", true)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dcm.ParseDataSet(b, dcm.TransferSyntax{Implicit: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := ds.Text(dcm.TagSpecificCharacterSet); !strings.Contains(got, "ISO 2022 IR 87") {
		t.Errorf("(0008,0005) = %q", got)
	}
	if raw := ds.Raw(dcm.TagPatientName); !strings.Contains(string(raw), "\x1b$B") {
		t.Errorf("PatientName bytes %q have no ISO 2022 escape", raw)
	}
	if m := decode(ds, ""); m["PatientName"] != "Yamada^Tarou=山田^太郎" {
		t.Errorf("round trip %q", m["PatientName"])
	}
	prev := dcm.Tag(0)
	for _, e := range ds.Elements {
		if e.Tag <= prev {
			t.Errorf("elements out of order at %s", e.Tag)
		}
		prev = e.Tag
	}
	if _, err := (Query{Level: Study, Keys: map[string]string{"NotAKeyword": "x"}}).Identifier("", true); !errors.Is(err, errUnknownKey) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := q.Identifier("ISO_IR 100", true); err == nil {
		t.Error("kanji encoded in Latin-1 without error")
	}
}

// TestJapaneseThroughDcmqrscp queries Japanese names through dcmqrscp,
// which answers in each study's own character set (Orthanc 1.10 loses
// ISO 2022 IR 87 escapes).
func TestJapaneseThroughDcmqrscp(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	os.MkdirAll(db, 0o755)
	cfg := fmt.Sprintf("NetworkTCPPort = %s\nMaxPDUSize = 16384\nMaxAssociations = 16\nHostTable BEGIN\nHostTable END\nVendorTable BEGIN\nVendorTable END\nAETable BEGIN\nDCMQRSCP %s RW (200, 1024mb) ANY\nAETable END\n", qrscpPort, db)
	os.WriteFile(filepath.Join(dir, "qr.cfg"), []byte(cfg), 0o644)
	dimsetest.Start(t, "dcmqrscp", "-c", filepath.Join(dir, "qr.cfg"))
	dimsetest.WaitPort(t, "127.0.0.1:"+qrscpPort, 10*time.Second)
	corpus := testcorpus.Dir(t)
	want := names(t)
	files := []string{"cs_iso2022_ir87.dcm", "cs_iso2022_ir13_ir87.dcm"}
	for _, f := range files {
		if out, err := dimsetest.Run(t, 20*time.Second, "storescu", "-aec", "DCMQRSCP", "127.0.0.1", qrscpPort,
			filepath.Join(corpus, "charset/generated", f)); err != nil {
			t.Fatalf("storescu %s: %v\n%s", f, err, out)
		}
	}
	tg := Target{CallingAE: "LBXQR", CalledAE: "DCMQRSCP", Addr: "127.0.0.1:" + qrscpPort, Timeout: 5 * time.Second}
	ms := find(t, tg, Query{Level: Study})
	got := map[string]bool{}
	for _, m := range ms {
		got[m["PatientName"]] = true
	}
	for _, f := range files {
		if !got[want[f]] {
			t.Errorf("%s: %q not among %v", f, want[f], got)
		}
	}
	// dcmqrscp answers neither SOP Classes in Study nor the instances'
	// SOP Class UID: no classes and no error (Get then proposes its
	// default set).
	classes, err := StorageClasses(context.Background(), tg, RetrieveRequest{StudyUID: ms[0]["StudyInstanceUID"]})
	if err != nil || len(classes) != 0 {
		t.Errorf("storage classes from dcmqrscp: %q, %v", classes, err)
	}
	// dcmqrscp answers a move to an AE title missing from its HostTable with 0xA801.
	res, err := Move(context.Background(), tg, RetrieveRequest{StudyUID: ms[0]["StudyInstanceUID"]}, "NOBODY", nil, nil)
	if err != nil || res.Status != dimse.StatusMoveDestinationUnknown {
		t.Errorf("unknown destination: %v, status %s", err, res.Status)
	}
}
