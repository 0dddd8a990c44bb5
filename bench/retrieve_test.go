package bench

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"lightbox/backend/dimse"
	"lightbox/backend/qr"
	"lightbox/backend/storage"
	"lightbox/backend/store"
	"lightbox/backend/ul"
)

// ctStudyUID is the study of ctSeries.
const ctStudyUID = "2.25.1000000000000000000000000000001"

// dcmtkCmd is a DCMTK tool with TCP_NODELAY=1 (without it every DIMSE
// message waits 40-90 ms for a delayed ACK on loopback).
func dcmtkCmd(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	return cmd
}

// runDCMTK runs a DCMTK tool to completion and returns its CPU time.
func runDCMTK(b *testing.B, name string, args ...string) time.Duration {
	b.Helper()
	cmd := dcmtkCmd(name, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", name, err, out)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// waitUntil polls cond every 10 ms for up to limit.
func waitUntil(limit time.Duration, cond func() bool) bool {
	for end := time.Now().Add(limit); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// studyCount is how many instances of the study st has indexed.
func studyCount(b *testing.B, st *store.Store) int {
	insts, err := st.StudyInstances(context.Background(), ctStudyUID)
	if err != nil {
		b.Fatal(err)
	}
	return len(insts)
}

// reportRetrieve reports wall seconds, images and MB per second, the CPU
// seconds of the receiving side (Lightbox: this process; DCMTK: its
// processes) and, given DCMTK's seconds from the same run, the ratio of our
// time to theirs (goal <= 1).
func reportRetrieve(b *testing.B, n int, bytes int64, d, cpu time.Duration, dcmtk float64) {
	b.ReportMetric(d.Seconds(), "s")
	b.ReportMetric(float64(n)/d.Seconds(), "img/s")
	b.ReportMetric(float64(bytes)/1e6/d.Seconds(), "MB/s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	if dcmtk > 0 {
		b.ReportMetric(d.Seconds()/dcmtk, "x_dcmtk")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRetrieve1000CT retrieves the 1000-image 512x512 CT study from
// Orthanc (loaded once per run through its REST API) by C-GET and by C-MOVE:
// DCMTK first (getscu into a folder; movescu with storescp writing files,
// no fsync), then Lightbox (qr.Get / qr.Move into a store, fsync'd and
// indexed before each C-STORE response, and without fsync), in one run.
// Every contender must have all 1000 instances (files or index rows) before
// its time is reported. x_dcmtk is Lightbox's time over DCMTK's.
//
//	go test -run '^$' -bench Retrieve1000CT -benchtime 1x ./bench/
func BenchmarkRetrieve1000CT(b *testing.B) {
	files, total := dirBytes(b, ctSeries(b, 1000))
	n := len(files)
	o := startOrthanc(b, netOrthancHTTP, netOrthancDICOM, "LBXMOVE", netMoveSCPPort)
	o.addModality(b, "benchscp", "BENCHSCP", netStorescpPort)
	o.load(b, files, 4)
	peer, port := "127.0.0.1", strconv.Itoa(netOrthancDICOM)
	keys := []string{"-S", "-aec", "ORTHANC", "-k", "QueryRetrieveLevel=STUDY", "-k", "StudyInstanceUID=" + ctStudyUID}
	target := qr.Target{CallingAE: "LBXGET", CalledAE: "ORTHANC", Addr: peer + ":" + port, Timeout: 30 * time.Second}
	ctx := context.Background()
	openStore := func(b *testing.B, fsync bool) *store.Store {
		st, err := store.Open(b.TempDir(), store.Options{Fsync: fsync})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}
	name := map[bool]string{true: "lightbox", false: "lightbox-nofsync"}

	var getscuSecs float64
	b.Run("get/getscu", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			dir := b.TempDir()
			t0 := time.Now()
			cpu := runDCMTK(b, "getscu", append(append([]string{"-aet", "GETSCU", "-od", dir}, keys...), peer, port)...)
			d := time.Since(t0)
			if got := countFiles(dir); got != n {
				b.Fatalf("getscu wrote %d of %d", got, n)
			}
			getscuSecs = d.Seconds()
			reportRetrieve(b, n, total, d, cpu, 0)
		}
	})
	for _, fsync := range []bool{true, false} {
		b.Run("get/"+name[fsync], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				st := openStore(b, fsync)
				scp := storage.NewSCP(st, nil, nil)
				cpu0, t0 := selfCPU(), time.Now()
				res, err := qr.Get(ctx, target, qr.RetrieveRequest{StudyUID: ctStudyUID}, []string{ctImageStorage}, scp, nil, nil)
				d, cpu := time.Since(t0), selfCPU()-cpu0
				if err != nil || res.Status != dimse.StatusSuccess || res.Completed != n {
					b.Fatalf("C-GET: %v, %+v", err, res)
				}
				if got := studyCount(b, st); got != n {
					b.Fatalf("%d of %d instances indexed", got, n)
				}
				reportRetrieve(b, n, total, d, cpu, getscuSecs)
			}
		})
	}

	var movescuSecs float64
	b.Run("move/movescu+storescp", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			dir := b.TempDir()
			scp := dcmtkCmd("storescp", "-aet", "BENCHSCP", "-od", dir, strconv.Itoa(netStorescpPort))
			if err := scp.Start(); err != nil {
				b.Fatal(err)
			}
			stopped := false
			stop := func() time.Duration {
				if !stopped {
					stopped = true
					scp.Process.Kill()
					scp.Wait()
				}
				return scp.ProcessState.UserTime() + scp.ProcessState.SystemTime()
			}
			b.Cleanup(func() { stop() })
			waitPort(b, netStorescpPort)
			t0 := time.Now()
			cpu := runDCMTK(b, "movescu", append(append([]string{"-aet", "MOVESCU", "-aem", "BENCHSCP"}, keys...), peer, port)...)
			if !waitUntil(30*time.Second, func() bool { return countFiles(dir) >= n }) {
				b.Fatalf("storescp wrote %d of %d", countFiles(dir), n)
			}
			d := time.Since(t0)
			cpu += stop()
			if got := countFiles(dir); got != n {
				b.Fatalf("storescp wrote %d of %d", got, n)
			}
			movescuSecs = d.Seconds()
			reportRetrieve(b, n, total, d, cpu, 0)
		}
	})
	for _, fsync := range []bool{true, false} {
		b.Run("move/"+name[fsync], func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				st := openStore(b, fsync)
				mux := dimse.NewMux(dimse.Options{})
				syntaxes := storage.Register(mux, storage.NewSCP(st, nil, nil), false)
				_, stop := serveUL(b, netMoveSCPPort, ul.Policy{AETitle: "LBXMOVE", Syntaxes: syntaxes}, mux)
				cpu0, t0 := selfCPU(), time.Now()
				res, err := qr.Move(ctx, target, qr.RetrieveRequest{StudyUID: ctStudyUID}, "LBXMOVE", nil, nil)
				if err != nil || res.Status != dimse.StatusSuccess || res.Completed != n {
					b.Fatalf("C-MOVE: %v, %+v", err, res)
				}
				// Orthanc may answer before the last sub-operation is indexed.
				if !waitUntil(30*time.Second, func() bool { return studyCount(b, st) >= n }) {
					b.Fatalf("%d of %d instances indexed", studyCount(b, st), n)
				}
				d, cpu := time.Since(t0), selfCPU()-cpu0
				stop()
				if got := studyCount(b, st); got != n {
					b.Fatalf("%d of %d instances indexed", got, n)
				}
				reportRetrieve(b, n, total, d, cpu, movescuSecs)
			}
		})
	}
}
