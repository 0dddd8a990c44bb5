package bench

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
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

// indexCount is how many instance rows st has (after the rows of every
// object acknowledged so far are written): a cheap poll.
func indexCount(b *testing.B, st *store.Store) int {
	var n int64
	if err := st.DB().Model(&store.Instance{}).Count(&n).Error; err != nil {
		b.Fatal(err)
	}
	return int(n)
}

// retrieveRounds: each op retrieves the study this many times and reports
// medians; with a reference (DCMTK), every round runs the reference just
// before Lightbox, so that each ratio compares two retrieves made under the
// same load of the shared machine.
const retrieveRounds = 3

// retriever retrieves the study once, checks that all of it arrived, and
// returns the wall time and the CPU time of the receiving side (Lightbox:
// this process; DCMTK: its processes). What it received stays until the
// run ends (see tempDir).
type retriever func(b *testing.B) (wall, cpu time.Duration)

// measureRetrieve reports the median round's wall seconds, images and MB
// per second, the median CPU seconds of the receiver and of Orthanc and,
// with a reference,
// x_dcmtk: the median of the rounds' time ratios ours/DCMTK (goal <= 1).
func measureRetrieve(b *testing.B, o *orthanc, n int, bytes int64, run, ref retriever) (median float64) {
	var secs, cpus, peer, ratios []float64
	for i := 0; i < b.N; i++ {
		for r := 0; r < retrieveRounds; r++ {
			var rd time.Duration
			if ref != nil {
				rd, _ = ref(b)
			}
			p0 := o.cpu(b)
			d, cpu := run(b)
			secs, cpus = append(secs, d.Seconds()), append(cpus, cpu.Seconds())
			peer = append(peer, (o.cpu(b) - p0).Seconds())
			ratios = append(ratios, d.Seconds()/rd.Seconds())
		}
	}
	med := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	d := med(secs)
	b.ReportMetric(d, "s")
	b.ReportMetric(float64(n)/d, "img/s")
	b.ReportMetric(float64(bytes)/1e6/d, "MB/s")
	b.ReportMetric(med(cpus), "cpu-s")
	b.ReportMetric(med(peer), "orthanc-cpu-s")
	if ref != nil {
		b.ReportMetric(med(ratios), "x_dcmtk")
	}
	b.ReportMetric(0, "ns/op")
	return d
}

// BenchmarkRetrieve1000CT retrieves the 1000-image 512x512 CT study from
// Orthanc (loaded once per run through its REST API) by C-GET and by C-MOVE:
// DCMTK (getscu into a folder; movescu with storescp writing files, no
// fsync) and Lightbox (qr.Get / qr.Move into a store, each object synced,
// data and name, before its C-STORE response, and without fsync), in one
// run. Every contender must have all 1000 instances (files, or index rows
// written by the store's background indexer) before its time counts.
// sync-floor is no retrieve: the same files written and synced one by one
// (the syncs alone); durable-bound adds them to the network-only time
// (getscu --ignore, movescu with storescp --ignore): the least time a
// retrieve that syncs each object before its response can take.
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
	openStore := func(b *testing.B, fsync bool) (*store.Store, func()) {
		runtime.GC() // not the garbage of what ran before
		dir := tempDir(b)
		st, err := store.Open(dir, store.Options{Fsync: fsync})
		if err != nil {
			b.Fatal(err)
		}
		return st, func() { st.Close() }
	}
	name := map[bool]string{true: "lightbox", false: "lightbox-nofsync"}

	// getscuRun: getscu into a folder, or (ignore) receiving without storing:
	// the network-only time of a C-GET.
	getscuRun := func(ignore bool) retriever {
		return func(b *testing.B) (time.Duration, time.Duration) {
			dir := tempDir(b)
			args := []string{"-aet", "GETSCU", "-od", dir}
			if ignore {
				args = []string{"-aet", "GETSCU", "--ignore", "-v"}
			}
			cmd := dcmtkCmd("getscu", append(append(args, keys...), peer, port)...)
			t0 := time.Now()
			out, err := cmd.CombinedOutput()
			d := time.Since(t0)
			if err != nil {
				b.Fatalf("getscu: %v\n%s", err, out)
			}
			if ignore {
				// what getscu -v reports, as it keeps no files
				m := regexp.MustCompile(`Completed Suboperations\s*:\s*(\d+)`).FindAllSubmatch(out, -1)
				if len(m) == 0 || string(m[len(m)-1][1]) != strconv.Itoa(n) {
					b.Fatalf("getscu --ignore did not report %d completed sub-operations:\n%.2000s", n, out)
				}
			} else if got := countFiles(dir); got != n {
				b.Fatalf("getscu wrote %d of %d", got, n)
			}
			return d, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
	}
	getscu := getscuRun(false)
	get := func(fsync bool) retriever {
		return func(b *testing.B) (time.Duration, time.Duration) {
			st, done := openStore(b, fsync)
			defer done()
			scp := storage.NewSCP(st, nil, nil)
			cpu0, t0 := selfCPU(), time.Now()
			// as the app does: ask which classes to propose, then C-GET
			r := qr.RetrieveRequest{StudyUID: ctStudyUID}
			classes, err := qr.StorageClasses(ctx, target, r)
			if err != nil || !slices.Equal(classes, []string{ctImageStorage}) {
				b.Fatalf("storage classes %q, %v", classes, err)
			}
			res, err := qr.Get(ctx, target, r, classes, scp, nil, nil)
			if err == nil {
				err = st.Flush(ctx) // the index rows too
			}
			d, cpu := time.Since(t0), selfCPU()-cpu0
			if err != nil || res.Status != dimse.StatusSuccess || res.Completed != n {
				b.Fatalf("C-GET: %v, %+v", err, res)
			}
			if got := studyCount(b, st); got != n {
				b.Fatalf("%d of %d instances indexed", got, n)
			}
			return d, cpu
		}
	}
	// movescuRun: movescu with storescp writing files, or (ignore)
	// receiving without storing: the network-only time of a C-MOVE.
	movescuRun := func(ignore bool) retriever {
		return func(b *testing.B) (time.Duration, time.Duration) {
			dir := tempDir(b)
			scpArgs := []string{"-aet", "BENCHSCP", "-od", dir, strconv.Itoa(netStorescpPort)}
			if ignore {
				scpArgs = []string{"-aet", "BENCHSCP", "--ignore", strconv.Itoa(netStorescpPort)}
			}
			scp := dcmtkCmd("storescp", scpArgs...)
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
			defer stop()
			waitPort(b, netStorescpPort)
			cmd := dcmtkCmd("movescu", append(append([]string{"-aet", "MOVESCU", "-aem", "BENCHSCP", "-v"}, keys...), peer, port)...)
			t0 := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("movescu: %v\n%s", err, out)
			}
			if ignore {
				// Success: every sub-operation completed (PS3.4 C.4.2.1.4)
				if !bytes.Contains(out, []byte("Received Final Move Response (Success)")) {
					b.Fatalf("movescu (storescp --ignore) did not end with Success:\n%.2000s", out)
				}
			} else if !waitUntil(30*time.Second, func() bool { return countFiles(dir) >= n }) {
				b.Fatalf("storescp wrote %d of %d", countFiles(dir), n)
			}
			d := time.Since(t0)
			cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() + stop()
			if got := countFiles(dir); !ignore && got != n {
				b.Fatalf("storescp wrote %d of %d", got, n)
			}
			return d, cpu
		}
	}
	movescu := movescuRun(false)
	move := func(fsync bool) retriever {
		return func(b *testing.B) (time.Duration, time.Duration) {
			st, done := openStore(b, fsync)
			defer done()
			mux := dimse.NewMux(dimse.Options{})
			syntaxes := storage.Register(mux, storage.NewSCP(st, nil, nil), false)
			_, stop := serveUL(b, netMoveSCPPort, ul.Policy{AETitle: "LBXMOVE", Syntaxes: syntaxes}, mux)
			defer stop()
			cpu0, t0 := selfCPU(), time.Now()
			res, err := qr.Move(ctx, target, qr.RetrieveRequest{StudyUID: ctStudyUID}, "LBXMOVE", nil, nil)
			if err != nil || res.Status != dimse.StatusSuccess || res.Completed != n {
				b.Fatalf("C-MOVE: %v, %+v", err, res)
			}
			// Orthanc may answer before the last sub-operation is indexed;
			// indexCount waits for the rows of the objects acknowledged.
			if !waitUntil(30*time.Second, func() bool { return indexCount(b, st) >= n }) {
				b.Fatalf("%d of %d instances indexed", indexCount(b, st), n)
			}
			d, cpu := time.Since(t0), selfCPU()-cpu0
			stop()
			if got := studyCount(b, st); got != n {
				b.Fatalf("%d of %d instances indexed", got, n)
			}
			return d, cpu
		}
	}

	// median seconds of each contender in this run (durable-bound)
	took := map[string]float64{}
	// what the disk allows a retrieve that syncs each object (see syncFloor)
	b.Run("sync-floor", func(b *testing.B) {
		took["floor"] = measureRetrieve(b, o, n, total, func(b *testing.B) (time.Duration, time.Duration) { return syncFloor(b, files), 0 }, nil)
	})
	// The PACS sends the next object only after the response to the last
	// one, so a receiver that answers once the object is durable needs at
	// least the network-only time (DCMTK receiving without storing) plus
	// the syncs alone: reported as durable-bound, with its ratio to DCMTK
	// storing files (x_dcmtk) and Lightbox's time as a multiple of it
	// (lightbox_x_bound).
	bound := func(b *testing.B, network, dcmtk, ours string) {
		if took["floor"] == 0 || took[dcmtk] == 0 || took[network] == 0 {
			b.Skip("needs the sync-floor and DCMTK results of this run (-bench Retrieve1000CT)")
		}
		d := took[network] + took["floor"]
		b.ReportMetric(d, "s")
		b.ReportMetric(float64(n)/d, "img/s")
		b.ReportMetric(d/took[dcmtk], "x_dcmtk")
		if took[ours] > 0 {
			b.ReportMetric(took[ours]/d, "lightbox_x_bound")
		}
		b.ReportMetric(0, "ns/op")
	}
	b.Run("get/getscu", func(b *testing.B) { took["getscu"] = measureRetrieve(b, o, n, total, getscu, nil) })
	for _, fsync := range []bool{true, false} {
		b.Run("get/"+name[fsync], func(b *testing.B) { took["get/"+name[fsync]] = measureRetrieve(b, o, n, total, get(fsync), getscu) })
	}
	b.Run("get/getscu-ignore", func(b *testing.B) { took["getscu-ignore"] = measureRetrieve(b, o, n, total, getscuRun(true), nil) })
	b.Run("get/durable-bound", func(b *testing.B) { bound(b, "getscu-ignore", "getscu", "get/lightbox") })
	b.Run("move/movescu+storescp", func(b *testing.B) { took["movescu"] = measureRetrieve(b, o, n, total, movescu, nil) })
	for _, fsync := range []bool{true, false} {
		b.Run("move/"+name[fsync], func(b *testing.B) { took["move/"+name[fsync]] = measureRetrieve(b, o, n, total, move(fsync), movescu) })
	}
	b.Run("move/movescu+storescp-ignore", func(b *testing.B) { took["movescu-ignore"] = measureRetrieve(b, o, n, total, movescuRun(true), nil) })
	b.Run("move/durable-bound", func(b *testing.B) { bound(b, "movescu-ignore", "movescu", "move/lightbox") })
}
