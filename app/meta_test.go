package app

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/testcorpus"
)

func us(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// Smallest/Largest Image Pixel Value are US or SS: an implicit VR file
// gives the dictionary's US, so a signed image's bits are reinterpreted.
func TestPixelValueSigned(t *testing.T) {
	implicit, _ := dcm.LookupTS(dcm.ImplicitVRLittleEndian)
	explicit, _ := dcm.LookupTS(dcm.ExplicitVRLittleEndian)
	build := func(impl bool, pr uint16, vr string, min, max uint16) []byte {
		var b []byte
		b = dcm.AppendElement(b, impl, dcm.TagBitsAllocated, "US", us(16))
		b = dcm.AppendElement(b, impl, dcm.TagPixelRepresentation, "US", us(pr))
		b = dcm.AppendElement(b, impl, tagSmallestImagePixelValue, vr, us(min))
		b = dcm.AppendElement(b, impl, tagLargestImagePixelValue, vr, us(max))
		return b
	}
	for _, c := range []struct {
		name     string
		data     []byte
		ts       dcm.TransferSyntax
		min, max int64
	}{
		{"implicit signed", build(true, 1, "US", 0xFC18, 3000), implicit, -1000, 3000},
		{"implicit unsigned", build(true, 0, "US", 0xFC18, 3000), implicit, 0xFC18, 3000},
		{"explicit SS", build(false, 1, "SS", 0xFFF6, 0x7FFF), explicit, -10, 32767},
		{"explicit US unsigned", build(false, 0, "US", 0, 0xFFFF), explicit, 0, 65535},
	} {
		ds, err := dcm.ParseDataSet(c.data, c.ts)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		signed := ds.IntOr(dcm.TagPixelRepresentation, 0) == 1
		lo, hi := pixelValue(ds, tagSmallestImagePixelValue, signed), pixelValue(ds, tagLargestImagePixelValue, signed)
		if lo == nil || hi == nil || *lo != c.min || *hi != c.max {
			t.Errorf("%s: got %v %v, want %d %d", c.name, lo, hi, c.min, c.max)
		}
	}
	ds, _ := dcm.ParseDataSet(dcm.AppendElement(nil, true, dcm.TagBitsAllocated, "US", us(16)), implicit)
	if pixelValue(ds, tagSmallestImagePixelValue, false) != nil {
		t.Error("absent attribute gave a value")
	}
}

// /meta carries Patient Orientation (markers on projection radiographs).
func TestMetaPatientOrientation(t *testing.T) {
	a, srv, _ := newTestApp(t)
	cr := filepath.Join(testcorpus.Dir(t), "images", "cr", "cr_jpeg-lossless.dcm")
	id, err := a.ImportPaths([]string{cr})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if j, err := a.jobs.waitJob(ctx, id); err != nil || j.Done != 1 {
		t.Fatalf("import: %+v %v", j, err)
	}
	studies, err := a.ListStudies(storeQuery())
	if err != nil || len(studies) != 1 {
		t.Fatalf("studies %v %v", studies, err)
	}
	series, _ := a.ListSeries(studies[0].StudyInstanceUID)
	insts, _ := a.ListInstances(series[0].SeriesInstanceUID)
	resp, err := http.Get(srv.URL + "/files/instance/" + strconv.Itoa(int(insts[0].ID)) + "/meta")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m InstanceMeta
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if len(m.PatientOrientation) != 2 || m.PatientOrientation[0] != "L" || m.PatientOrientation[1] != "F" || m.Modality != "CR" {
		t.Errorf("patientOrientation %q (modality %s)", m.PatientOrientation, m.Modality)
	}
}
