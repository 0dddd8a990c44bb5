// Package dimsetest starts real DICOM peers (DCMTK storescp, Orthanc) on
// 127.0.0.1 for interop tests, and stops them (by PID) when the test ends.
// It also finds the test corpus and splits Part 10 files into their meta
// header and data set. Test helper only: every function takes a
// testing.TB and fails the test on error.
package dimsetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lightbox/backend/testcorpus"
)

// Tool returns the path of an installed program or fails the test.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed (DCMTK and Orthanc are required for interop tests)", name)
	}
	return p
}

// Run runs a program to completion (TCP_NODELAY=1 set) within limit and
// returns its combined output.
func Run(t testing.TB, limit time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, Tool(t, name), args...)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Start starts a long-running program; it is killed (by PID) at cleanup.
// Its output goes to a log file in a temp dir, whose path is returned.
func Start(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(Tool(t, name), args...)
	cmd.Env = append(os.Environ(), "TCP_NODELAY=1")
	logPath := filepath.Join(t.TempDir(), name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	return logPath
}

// WaitPort waits until something accepts TCP connections on addr.
func WaitPort(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s after %s", addr, within)
}

// Storescp starts DCMTK storescp as aet on port, storing into a new temp
// dir, which it returns. Extra args go before the port.
func Storescp(t testing.TB, aet, port string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"-aet", aet, "-od", dir}, extra...)
	Start(t, "storescp", append(args, port)...)
	WaitPort(t, "127.0.0.1:"+port, 10*time.Second)
	return dir
}

// Modality is a remote node Orthanc may send to (C-MOVE destination).
type Modality struct{ AET, Port string }

// Orthanc starts Orthanc as aet on dicomPort (REST on httpPort) with the
// given modalities, and returns when both ports answer.
func Orthanc(t testing.TB, aet, dicomPort, httpPort string, modalities map[string]Modality) {
	t.Helper()
	dir := t.TempDir()
	var mods []string
	for name, m := range modalities {
		mods = append(mods, fmt.Sprintf("%q: {\"AET\": %q, \"Host\": \"127.0.0.1\", \"Port\": %s}", name, m.AET, m.Port))
	}
	cfg := fmt.Sprintf(`{
  "Name": "LBXTEST", "StorageDirectory": %q, "IndexDirectory": %q, "Plugins": [],
  "HttpServerEnabled": true, "HttpPort": %s, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomServerEnabled": true, "DicomAet": %q, "DicomPort": %s, "DicomCheckCalledAet": true,
  "DicomAlwaysAllowEcho": true, "DicomAlwaysAllowStore": true, "DicomAlwaysAllowFind": true,
  "DicomAlwaysAllowGet": true, "DicomAlwaysAllowMove": true, "DicomCheckModalityHost": false,
  "DicomScuTimeout": 10, "DicomAssociationCloseDelay": 0, "UnknownSopClassAccepted": true,
  "DefaultEncoding": "Utf8", "DicomModalities": {%s}
}`, dir+"/storage", dir+"/index", httpPort, aet, dicomPort, strings.Join(mods, ", "))
	if err := os.WriteFile(dir+"/orthanc.json", []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	Start(t, "Orthanc", dir+"/orthanc.json")
	WaitPort(t, "127.0.0.1:"+httpPort, 30*time.Second)
	WaitPort(t, "127.0.0.1:"+dicomPort, 30*time.Second)
}

// OrthancUpload POSTs Part 10 files to Orthanc's REST API.
func OrthancUpload(t testing.TB, httpPort string, files ...string) {
	t.Helper()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rsp, err := http.Post("http://127.0.0.1:"+httpPort+"/instances", "application/dicom", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rsp.Body.Close()
		if rsp.StatusCode != http.StatusOK {
			t.Fatalf("upload %s: HTTP %d", f, rsp.StatusCode)
		}
	}
}

// Corpus returns the test corpus directory (LIGHTBOX_CORPUS, default
// $HOME/.cache/lightbox/corpus) or fails with "corpus missing".
func Corpus(t testing.TB) string {
	t.Helper()
	return testcorpus.Dir(t)
}

// Part10 splits a DICOM Part 10 file into the transfer syntax UID of its
// meta header and the data set bytes that follow the meta group.
func Part10(t testing.TB, b []byte) (ts string, dataset []byte) {
	t.Helper()
	if len(b) < 132+12 || string(b[128:132]) != "DICM" {
		t.Fatal("not a Part 10 file")
	}
	p := 132
	for p+8 <= len(b) && binary.LittleEndian.Uint16(b[p:]) == 0x0002 {
		elem := binary.LittleEndian.Uint16(b[p+2:])
		vr := string(b[p+4 : p+6])
		var n, hdr int
		switch vr {
		case "OB", "OW", "OF", "SQ", "UT", "UN":
			n, hdr = int(binary.LittleEndian.Uint32(b[p+8:])), 12
		default:
			n, hdr = int(binary.LittleEndian.Uint16(b[p+6:])), 8
		}
		if elem == 0x0010 {
			ts = strings.TrimRight(string(b[p+hdr:p+hdr+n]), "\x00 ")
		}
		p += hdr + n
	}
	return ts, b[p:]
}
