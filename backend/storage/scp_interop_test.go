package storage

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/dimse/dimsetest"
	"lightbox/backend/ul"
)

// checkArrived asserts that every file arrived, indexed, with a data set
// byte-identical to the file's (when the TS was kept) and a correct meta.
// oracle (optional) maps SOP Instance UIDs to the data sets DCMTK's
// storescp received bit-preserved from the same sender: when a sender
// rewrites a file on the way (dcmsend pads a deflated stream, rebuilds
// encapsulated pixel items), that is what must have been stored.
func checkArrived(t *testing.T, s *testSCP, files []string, callingAE string, mustKeepTS bool, oracle map[string][]byte) {
	t.Helper()
	kept := 0
	for _, f := range files {
		ts, want := readPart10(t, f)
		pf, err := dcm.ParseFile(f, dcm.Options{StopBeforePixels: true})
		if err != nil {
			t.Fatal(err)
		}
		uid := pf.DataSet.UID(dcm.TagSOPInstanceUID)
		pf.Close()
		p, err := storedFile(t, s.st, uid)
		if err != nil {
			t.Errorf("%s (%s): not indexed: %v", f, uid, err)
			continue
		}
		gotTS, got := readPart10(t, p)
		if o, ok := oracle[uid]; ok {
			if err := sameBytes(got, o); err != nil {
				t.Errorf("%s: stored data set differs from what storescp received from the same sender: %v", f, err)
			}
			kept++
			continue
		}
		if gotTS != ts {
			if mustKeepTS {
				t.Errorf("%s: stored in %s, sent in %s", f, gotTS, ts)
			}
			continue
		}
		kept++
		if err := sameBytes(got, want); err != nil {
			t.Errorf("%s: stored data set differs from the file's: %v", f, err)
		}
		sf, err := dcm.ParseFile(p, dcm.Options{StopBeforePixels: true})
		if err != nil {
			t.Errorf("%s: stored file does not parse: %v", f, err)
			continue
		}
		if ae := sf.Meta.Text(dcm.TagSourceApplicationEntity); ae != callingAE {
			t.Errorf("%s: Source AE %q, want %q", f, ae, callingAE)
		}
		if ic := sf.Meta.UID(dcm.TagImplementationClassUID); ic != ul.ImplementationClassUID {
			t.Errorf("%s: implementation class %q", f, ic)
		}
		if c := sf.Meta.UID(dcm.TagMediaStorageSOPInstanceUID); c != uid {
			t.Errorf("%s: media storage instance %q", f, c)
		}
		sf.Close()
	}
	if kept == 0 {
		t.Errorf("no file kept its transfer syntax")
	}
}

func TestReceiveStorescu(t *testing.T) {
	s := startSCP(t, nil)
	rows := imageRows(t, false)
	cases := []struct {
		ts, flag string
	}{
		{dcm.ExplicitVRLittleEndian, "-xe"},
		{dcm.ImplicitVRLittleEndian, "-xi"},
	}
	total := 0
	for _, c := range cases {
		var files []string
		for _, r := range rows {
			if r["ts_uid"] == c.ts && r["kind"] != "external" {
				files = append(files, r["abspath"])
			}
		}
		t.Run(c.flag, func(t *testing.T) {
			out, err := dimsetest.Run(t, 60*time.Second, "storescu", append([]string{"-aet", "STORESCU", "-aec", "LIGHTBOX", c.flag, "127.0.0.1", s.port}, files...)...)
			if err != nil {
				t.Fatalf("storescu: %v\n%s", err, out)
			}
			checkArrived(t, s, files, "STORESCU", true, nil)
		})
		total += len(files)
	}
	if n := countRows(t, s.st); n != total {
		t.Errorf("%d rows, sent %d", n, total)
	}
	acts := s.act.List()
	if len(acts) != 2 || acts[0].CallingAE != "STORESCU" || acts[0].Instances+acts[1].Instances != total || acts[0].State != "ended" {
		t.Errorf("activity: %+v", acts)
	}
}

func TestReceiveDcmsendEveryTS(t *testing.T) {
	s := startSCP(t, nil)
	var files []string
	byTS := map[string]int{}
	for _, r := range imageRows(t, true) {
		if r["kind"] == "external" {
			continue // dcmsend refuses some of them (e.g. a UID with spaces)
		}
		files = append(files, r["abspath"])
		byTS[r["ts_key"]]++
	}
	out, err := dimsetest.Run(t, 90*time.Second, "dcmsend", append([]string{"-aet", "DCMSEND", "-aec", "LIGHTBOX", "-dn", "127.0.0.1", s.port}, files...)...)
	if err != nil {
		t.Fatalf("dcmsend: %v\n%s", err, out)
	}
	checkArrived(t, s, files, "DCMSEND", false, dcmsendOracle(t, files))
	if n := countRows(t, s.st); n != len(files) {
		t.Errorf("%d rows, sent %d", n, len(files))
	}
	if len(byTS) < 13 {
		t.Errorf("corpus covers %d transfer syntaxes: %v", len(byTS), byTS)
	}
	t.Logf("%d files, per TS: %v", len(files), byTS)
}

func TestReceiveParallelSenders(t *testing.T) {
	s := startSCP(t, nil)
	rows := imageRows(t, true)
	var groups [4][]string
	i := 0
	for _, r := range rows {
		if r["kind"] == "external" {
			continue
		}
		groups[i%4] = append(groups[i%4], r["abspath"])
		i++
	}
	oracle := dcmsendOracle(t, append(append(append(append([]string{}, groups[0]...), groups[1]...), groups[2]...), groups[3]...))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	outs := make([]string, 4)
	for g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[g], errs[g] = dimsetest.Run(t, 90*time.Second, "dcmsend", append([]string{"-aet", fmt.Sprintf("SENDER%d", g), "-aec", "LIGHTBOX", "-dn", "127.0.0.1", s.port}, groups[g]...)...)
		}()
	}
	wg.Wait()
	for g := range groups {
		if errs[g] != nil {
			t.Fatalf("sender %d: %v\n%s", g, errs[g], outs[g])
		}
		checkArrived(t, s, groups[g], fmt.Sprintf("SENDER%d", g), false, oracle)
	}
	if n, want := countRows(t, s.st), i; n != want {
		t.Errorf("%d rows, sent %d", n, want)
	}
	acts := s.act.List()
	if len(acts) != 4 {
		t.Errorf("%d associations tracked", len(acts))
	}
	sum := 0
	for _, a := range acts {
		sum += a.Instances
		if !strings.HasPrefix(a.CallingAE, "SENDER") || a.Host != "127.0.0.1" || a.Failed != 0 {
			t.Errorf("activity %+v", a)
		}
	}
	if sum != i {
		t.Errorf("activity counts %d instances, sent %d", sum, i)
	}
}

// Orthanc pushes a study to us through its REST API.
func TestReceiveOrthancPush(t *testing.T) {
	s := startSCP(t, nil)
	httpPort, dicomPort := freePort(t), freePort(t)
	dimsetest.Orthanc(t, "ORTHANC", dicomPort, httpPort, map[string]dimsetest.Modality{"viewer": {AET: "LIGHTBOX", Port: s.port}})
	var files []string
	for _, r := range imageRows(t, false) {
		if r["kind"] == "ct" && (r["ts_key"] == "ele" || r["ts_key"] == "jpegls-lossless") {
			files = append(files, r["abspath"])
		}
	}
	dimsetest.OrthancUpload(t, httpPort, files...)
	out, err := dimsetest.Run(t, 60*time.Second, "curl", "-sf", "-X", "POST", "-d",
		`{"Resources": [], "Synchronous": true}`, "http://127.0.0.1:"+httpPort+"/modalities/viewer/store")
	_ = out
	// Orthanc wants resource IDs: push every study it has.
	studies, err := dimsetest.Run(t, 10*time.Second, "curl", "-sf", "http://127.0.0.1:"+httpPort+"/studies")
	if err != nil {
		t.Fatal(err)
	}
	out, err = dimsetest.Run(t, 60*time.Second, "curl", "-sf", "-X", "POST", "-d",
		`{"Resources": `+strings.TrimSpace(studies)+`, "Synchronous": true}`, "http://127.0.0.1:"+httpPort+"/modalities/viewer/store")
	if err != nil {
		t.Fatalf("Orthanc store: %v %s", err, out)
	}
	if n := countRows(t, s.st); n != len(files) {
		t.Fatalf("%d rows after the push of %d files: %s", n, len(files), out)
	}
	// Orthanc may transcode; whatever it sent must be stored byte for byte:
	// the stored data sets parse and keep their UIDs.
	checkConsistent(t, s.st, s.dir)
	acts := s.act.List()
	if len(acts) == 0 || acts[0].CallingAE != "ORTHANC" || acts[0].Instances != len(files) {
		t.Errorf("activity %+v", acts)
	}
	_ = os.Getpid
	_ = context.Background
}

// dcmsendOracle sends files with dcmsend -dn to DCMTK storescp in
// bit-preserving mode and returns the received data sets by SOP Instance
// UID (files storescp refuses are absent).
func dcmsendOracle(t *testing.T, files []string) map[string][]byte {
	t.Helper()
	port := freePort(t)
	dir := dimsetest.Storescp(t, "ORACLE", port, "+B", "+xa")
	dimsetest.Run(t, 90*time.Second, "dcmsend", append([]string{"-aec", "ORACLE", "-dn", "-nh", "127.0.0.1", port}, files...)...)
	out := map[string][]byte{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		p := dir + "/" + e.Name()
		f, err := dcm.ParseFile(p, dcm.Options{StopBeforePixels: true})
		if err != nil {
			continue
		}
		uid := f.Meta.UID(dcm.TagMediaStorageSOPInstanceUID)
		f.Close()
		_, ds := readPart10(t, p)
		out[uid] = ds
	}
	if len(out) == 0 {
		t.Fatal("storescp received nothing")
	}
	return out
}
