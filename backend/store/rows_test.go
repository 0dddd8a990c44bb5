package store

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"lightbox/backend/testcorpus"
)

// TestRowWriterMatchesGorm: the same objects indexed through the
// prepared-statement path (rows.go) and through gorm's give the same rows
// in every column but the row IDs, and the same counts; the fast path was
// taken for the objects of known series, and rows it wrote read back
// through gorm (time stamps included).
func TestRowWriterMatchesGorm(t *testing.T) {
	files := ctFiles(t)
	more, _ := filepath.Glob(filepath.Join(testcorpus.Dir(t), "images/mr/*/*.dcm"))
	files = append(files, more...)
	fast := mustOpen(t, t.TempDir(), Options{})
	slow := mustOpen(t, t.TempDir(), Options{})
	slow.rows.close()
	slow.rows = nil
	for _, s := range []*Store{fast, slow} {
		for _, f := range files {
			if _, err := put(t, s, f, &Expect{Indexed: true}); err != nil {
				t.Fatal(f, err)
			}
		}
		checkCounts(t, s)
	}
	if fast.rows.batches == 0 {
		t.Fatal("the prepared-statement path wrote no batch")
	}
	rows := func(s *Store) map[string]string {
		var insts []Instance
		if err := s.DB().Find(&insts).Error; err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, in := range insts {
			if d := time.Since(in.ReceivedAt); d < 0 || d > time.Minute {
				t.Errorf("%s: received at %v", in.SOPInstanceUID, in.ReceivedAt)
			}
			var se Series
			s.db.First(&se, in.SeriesRef)
			in.ID, in.SeriesRef, in.ReceivedAt = 0, 0, time.Time{}
			out[in.SOPInstanceUID] = fmt.Sprintf("%+v series=%s", in, se.SeriesInstanceUID)
		}
		return out
	}
	a, b := rows(fast), rows(slow)
	if len(a) != len(files) {
		t.Fatalf("%d rows for %d files", len(a), len(files))
	}
	if !reflect.DeepEqual(a, b) {
		for k := range a {
			if a[k] != b[k] {
				t.Errorf("%s\n fast %s\n gorm %s", k, a[k], b[k])
			}
		}
	}
	var nf, ns int64
	fast.db.Model(&Series{}).Select("sum(num_instances)").Scan(&nf)
	slow.db.Model(&Series{}).Select("sum(num_instances)").Scan(&ns)
	if nf != ns || nf != int64(len(files)) {
		t.Errorf("series counts %d and %d, want %d", nf, ns, len(files))
	}
}
