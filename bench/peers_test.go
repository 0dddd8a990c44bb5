package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"lightbox/backend/store"
)

func sharedDir() string {
	if d := os.Getenv("LIGHTBOX_SHARED"); d != "" {
		return d
	}
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "shared")
}

func cacheDir(tb testing.TB, name string) string {
	home, _ := os.UserHomeDir()
	d := filepath.Join(home, ".cache", "lightbox", "bench", name)
	if err := os.MkdirAll(filepath.Dir(d), 0o755); err != nil {
		tb.Fatal(err)
	}
	return d
}

var seriesMu sync.Mutex

// ctSeries returns a folder with n CT images of 512x512 int16 (one series),
// generated once with pydicom.
func ctSeries(tb testing.TB, n int) string {
	seriesMu.Lock()
	defer seriesMu.Unlock()
	dir := cacheDir(tb, fmt.Sprintf("ct%d", n))
	if files, _ := filepath.Glob(filepath.Join(dir, "*.dcm")); len(files) == n {
		return dir
	}
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	os.MkdirAll(tmp, 0o755)
	script := `
import sys, numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian
out, n = sys.argv[1], int(sys.argv[2])
study, series = '2.25.1000000000000000000000000000001', '2.25.1000000000000000000000000000002'
yy, xx = np.mgrid[0:512, 0:512]
for i in range(n):
    a = (1024 + 40 * np.sin(xx / 17.0 + i) * np.cos(yy / 23.0)).astype(np.int16)
    a[(xx - 256) ** 2 + (yy - 256) ** 2 > 240 ** 2] = -2000
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.2'
    ds.file_meta.MediaStorageSOPInstanceUID = '2.25.2%036d' % i
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.PatientName, ds.PatientID, ds.Modality = 'Bench^CT', 'BENCH-CT', 'CT'
    ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = '20240101', 1, i + 1
    ds.ImagePositionPatient = [0, 0, float(i)]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.7, 0.7]; ds.SliceThickness = 1
    ds.Rows = ds.Columns = 512; ds.SamplesPerPixel = 1; ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.PixelData = a.tobytes()
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.save_as('%s/ct_%04d.dcm' % (out, i + 1), write_like_original=False)
`
	cmd := exec.Command("/usr/bin/python3", "-c", script, tmp, strconv.Itoa(n))
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("generating the CT series: %v\n%s", err, out)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// orthanc is a running Orthanc started through shared/testdata/peers.sh.
type orthanc struct {
	pid       int
	http, dcm int
	dir       string
}

// runRoot holds every contender's files (see tempDir); set once by
// TestMain before any benchmark runs, removed when the run ends.
var runRoot string

func TestMain(m *testing.M) {
	root, err := os.MkdirTemp("", "lightbox-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	store.MarkTop(root)
	runRoot = root
	code := m.Run()
	os.RemoveAll(root)
	os.Exit(code)
}

// tempDir is a fresh folder for one contender's files: in an ext4 block
// group of its own (its parent is marked with store.MarkTop, the
// placement Lightbox's store gives its own folders), and kept until the
// run ends. Why: on a file system without a journal, ext4 skips the
// inodes freed in the last minutes one by one each time it creates a file
// in their group, so removing one contender's 1000 files before the next
// contender runs would tax the next one, whoever it is.
//
// Before the folder is made, what the previous contenders wrote is flushed
// to the disk (syncfs, not timed): kept files would otherwise be written
// back while the next contender runs, competing with its own writes and
// syncs.
func tempDir(tb testing.TB) string {
	if f, err := os.Open(runRoot); err == nil {
		unix.Syncfs(int(f.Fd()))
		f.Close()
	}
	d, err := os.MkdirTemp(runRoot, "r")
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func startOrthanc(tb testing.TB, httpPort, dicomPort int, viewerAET string, viewerPort int) *orthanc {
	dir := tempDir(tb)
	script := fmt.Sprintf(`. %q && peers_start_orthanc %q >&2 && echo $ORTHANC_PID`, filepath.Join(sharedDir(), "testdata", "peers.sh"), dir)
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "ORTHANC_HTTP="+strconv.Itoa(httpPort), "ORTHANC_DICOM="+strconv.Itoa(dicomPort),
		"VIEWER_AET="+viewerAET, "VIEWER_PORT="+strconv.Itoa(viewerPort))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("starting Orthanc: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		tb.Fatalf("Orthanc pid %q", out)
	}
	o := &orthanc{pid: pid, http: httpPort, dcm: dicomPort, dir: dir}
	tb.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	})
	return o
}
