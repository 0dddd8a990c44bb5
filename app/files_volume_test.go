package app

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"lightbox/backend/store"
)

type bulkRecord struct {
	pos, id uint32
	status  byte
	typ     string
	payload []byte
}

// readBulk parses a bulk frames response body.
func readBulk(t *testing.T, body io.Reader) []bulkRecord {
	t.Helper()
	var out []bulkRecord
	for {
		var head [bulkRecordHeader]byte
		if _, err := io.ReadFull(body, head[:]); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("record header %d: %v", len(out), err)
		}
		n := binary.LittleEndian.Uint32(head[8:])
		if n > 64<<20 {
			t.Fatalf("record %d: length %d", len(out), n)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(body, p); err != nil {
			t.Fatalf("record %d payload: %v", len(out), err)
		}
		if int(head[13]) >= len(FrameDataTypes) {
			t.Fatalf("record %d: type code %d", len(out), head[13])
		}
		out = append(out, bulkRecord{
			pos: binary.LittleEndian.Uint32(head[0:]), id: binary.LittleEndian.Uint32(head[4:]),
			status: head[12], typ: FrameDataTypes[head[13]], payload: p,
		})
	}
}

func getFrame0(t *testing.T, base string, id uint32) ([]byte, string) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/files/instance/%d/frame/0", base, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("frame 0 of %d: HTTP %d %s", id, resp.StatusCode, b)
	}
	return b, resp.Header.Get("X-Lightbox-Data-Type")
}

func TestSeriesFramesBulk(t *testing.T) {
	_, srv, _ := newTestApp(t)
	importCT(t, srv)
	var series []store.SeriesView
	var studies []store.StudyView
	call(t, srv, "ListStudies", &studies, store.StudyQuery{Limit: 10})
	if len(studies) != 1 {
		t.Fatalf("%d studies", len(studies))
	}
	call(t, srv, "ListSeries", &series, studies[0].StudyInstanceUID)
	if len(series) != 1 {
		t.Fatalf("%d series", len(series))
	}
	uid := series[0].SeriesInstanceUID
	var insts []store.InstanceView
	call(t, srv, "ListInstances", &insts, uid)
	if len(insts) != 20 {
		t.Fatalf("%d instances", len(insts))
	}
	ids := func(idx ...int) []uint32 {
		out := make([]uint32, len(idx))
		for i, k := range idx {
			out[i] = uint32(insts[k].ID)
		}
		return out
	}
	join := func(v []uint32) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.Itoa(int(x))
		}
		return strings.Join(s, ",")
	}
	all := make([]int, len(insts))
	for i := range all {
		all[i] = i
	}
	middle := []int{10, 9, 11, 8, 12, 7, 13, 6, 14, 5, 15, 4, 16, 3, 17, 2, 18, 1, 19, 0}
	for _, tc := range []struct {
		name  string
		query string
		want  []uint32 // instance id at each position
	}{
		{"explicit order", "?ids=" + join(ids(19, 0, 7, 3)), ids(19, 0, 7, 3)},
		{"one", "?ids=" + join(ids(5)), ids(5)},
		{"all, store order", "?ids=" + join(ids(all...)), ids(all...)},
		{"default: middle first", "", ids(middle...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + "/files/series/" + url.PathEscape(uid) + "/frames" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("HTTP %d %s", resp.StatusCode, b)
			}
			if got := resp.Header.Get("X-Lightbox-Count"); got != strconv.Itoa(len(tc.want)) {
				t.Fatalf("count %q, want %d", got, len(tc.want))
			}
			recs := readBulk(t, resp.Body)
			if len(recs) != len(tc.want) {
				t.Fatalf("%d records, want %d", len(recs), len(tc.want))
			}
			seen := make(map[uint32]bool)
			for _, r := range recs {
				if int(r.pos) >= len(tc.want) || seen[r.pos] {
					t.Fatalf("position %d repeated or out of range", r.pos)
				}
				seen[r.pos] = true
				if r.id != tc.want[r.pos] {
					t.Fatalf("position %d holds instance %d, want %d", r.pos, r.id, tc.want[r.pos])
				}
				if r.status != 0 {
					t.Fatalf("instance %d: error %s", r.id, r.payload)
				}
				// The same bytes and type as the single-frame endpoint.
				b, typ := getFrame0(t, srv.URL, r.id)
				if r.typ != typ || !bytes.Equal(r.payload, b) {
					t.Fatalf("instance %d: %s %d bytes, single frame %s %d bytes", r.id, r.typ, len(r.payload), typ, len(b))
				}
				if len(b) != 128*128*2 || typ != "int16" {
					t.Fatalf("instance %d: %d bytes of %s, want 128x128 int16", r.id, len(b), typ)
				}
			}
		})
	}

	// All metas in one response: the same as the single-instance endpoint, in ListInstances order.
	resp, err := http.Get(srv.URL + "/files/series/" + url.PathEscape(uid) + "/meta")
	if err != nil {
		t.Fatal(err)
	}
	var metas []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&metas); err != nil || resp.StatusCode != 200 {
		t.Fatalf("series meta: HTTP %d, %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if len(metas) != len(insts) {
		t.Fatalf("%d metas, want %d", len(metas), len(insts))
	}
	for i, m := range metas {
		one, err := http.Get(fmt.Sprintf("%s/files/instance/%d/meta", srv.URL, insts[i].ID))
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		json.NewDecoder(one.Body).Decode(&want)
		one.Body.Close()
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("meta %d differs from the single-instance one:\n%v\n%v", i, m, want)
		}
		if m["instanceNumber"] != float64(i+1) || m["rows"] != float64(128) {
			t.Fatalf("meta %d: instance %v, rows %v", i, m["instanceNumber"], m["rows"])
		}
	}

	for _, tc := range []struct {
		name, path string
		status     int
	}{
		{"meta of an unknown series", "/files/series/1.2.3.4/meta", 404},
		{"bad id", "/files/series/" + url.PathEscape(uid) + "/frames?ids=1,x", 400},
		{"negative id", "/files/series/" + url.PathEscape(uid) + "/frames?ids=-1", 400},
		{"id of no instance of the series", "/files/series/" + url.PathEscape(uid) + "/frames?ids=999999", 400},
		{"too many ids", "/files/series/" + url.PathEscape(uid) + "/frames?ids=" + strings.Repeat("1,", maxBulkFrames) + "1", 400},
		{"unknown series", "/files/series/1.2.3.4/frames", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
}

func TestParseBulkIDs(t *testing.T) {
	insts := []store.Instance{{ID: 4}, {ID: 9}, {ID: 2}}
	for _, tc := range []struct {
		raw     string
		want    []uint
		notIn   bool
		wantErr bool
	}{
		{"", []uint{9, 4, 2}, false, false},
		{"2,4", []uint{2, 4}, false, false},
		{" 9 ,9", []uint{9, 9}, false, false},
		{"5", nil, true, true},
		{"4,", nil, false, true},
		{"4294967296", nil, false, true},
	} {
		got, err := parseBulkIDs(tc.raw, insts)
		if (err != nil) != tc.wantErr || errors.Is(err, errNotInSeries) != tc.notIn {
			t.Fatalf("%q: err %v", tc.raw, err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%q: %d instances, want %d", tc.raw, len(got), len(tc.want))
		}
		for i := range got {
			if got[i].ID != tc.want[i] {
				t.Fatalf("%q: [%d] = %d, want %d", tc.raw, i, got[i].ID, tc.want[i])
			}
		}
	}
}

func FuzzParseBulkIDs(f *testing.F) {
	for _, s := range []string{"", "1,2,3", "3", "1,,2", "x", "4294967295", "-1", " 2 , 1 "} {
		f.Add(s)
	}
	insts := []store.Instance{{ID: 1}, {ID: 2}, {ID: 3}}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := parseBulkIDs(raw, insts)
		if err != nil {
			return
		}
		for _, in := range got {
			if in.ID < 1 || in.ID > 3 {
				t.Fatalf("%q: instance %d not of the series", raw, in.ID)
			}
		}
	})
}
