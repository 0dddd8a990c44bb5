package tagtree

import (
	"path/filepath"
	"testing"

	"lightbox/backend/dcm"
	"lightbox/backend/testcorpus"
)

func find(nodes []*Node, tag string) *Node {
	for _, n := range nodes {
		if n.Tag == tag {
			return n
		}
	}
	return nil
}

func TestTreeDecodesTextAndSummarisesBulk(t *testing.T) {
	dir := testcorpus.Dir(t)
	rows := testcorpus.Manifest(t)
	checked := 0
	for _, r := range rows {
		if r["kind"] != "charset" || r["patient_name_utf8"] == "" {
			continue
		}
		f, err := dcm.ParseFile(r["abspath"], dcm.Options{})
		if err != nil {
			t.Fatal(err)
		}
		n := find(Build(f.DataSet), "(0010,0010)")
		f.Close()
		if n == nil || n.Value != r["patient_name_utf8"] {
			t.Errorf("%s: PatientName node %+v, want %q", r["path"], n, r["patient_name_utf8"])
		}
		checked++
	}
	if checked < 25 {
		t.Fatalf("only %d charset files checked", checked)
	}
	f, err := dcm.ParseFile(filepath.Join(dir, "images/ct/ele/ct_ele_01.dcm"), dcm.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nodes := Build(f.DataSet)
	if n := find(nodes, "(7FE0,0010)"); n == nil || n.Value != "<OW, 32768 bytes>" {
		t.Errorf("pixel data node %+v", n)
	}
	if n := find(nodes, "(0028,0010)"); n == nil || n.Value != "128" || n.Keyword != "Rows" {
		t.Errorf("rows node %+v", n)
	}
}
