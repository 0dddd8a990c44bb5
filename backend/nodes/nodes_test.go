package nodes

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const example = `<?xml version="1.0" encoding="UTF-8"?>
<nodes>
  <node>
    <name>Hospital PACS</name>
    <aeTitle>PACS</aeTitle>
    <host>127.0.0.1</host>
    <port>4242</port>
    <encoding>ISO 2022 IR 87</encoding>
    <retrieve>C-MOVE</retrieve>
    <localPort>11113</localPort>
    <maxAssociations>4</maxAssociations>
    <description>main archive &amp; worklist</description>
  </node>
  <node>
    <aeTitle>ORTHANC</aeTitle>
    <host>localhost</host>
    <port>104</port>
  </node>
</nodes>
`

func TestParseExample(t *testing.T) {
	list, err := Parse(strings.NewReader(example))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("%d nodes", len(list))
	}
	p := list[0]
	if p.Name != "Hospital PACS" || p.AETitle != "PACS" || p.Port != 4242 || p.Encoding != "ISO 2022 IR 87" || p.Retrieve != CMove ||
		p.LocalPort != 11113 || p.MaxAssociations != 4 || p.Description != "main archive & worklist" {
		t.Errorf("node 1: %+v", p)
	}
	o := list[1]
	if o.Name != "ORTHANC" || o.Retrieve != CGet || o.Encoding != "ISO_IR 192" || o.MaxAssociations != 2 {
		t.Errorf("defaults: %+v", o)
	}
	again, err := Parse(strings.NewReader(string(Marshal(list))))
	if err != nil || len(again) != 2 || again[0] != list[0] || again[1] != list[1] {
		t.Errorf("round trip: %v %+v", err, again)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct {
		xml, want string
	}{
		{"<nodes>\n<node>\n<aeTitle>A</aeTitle>\n<host>h</host>\n<port>99999</port>\n</node>\n</nodes>", "line 6"},
		{"<nodes>\n<node>\n<aeTitle>A</aeTitle>\n<colour>red</colour>\n</node></nodes>", "line 4: unknown element <colour>"},
		{"<nodes>\n<node>\n<aeTitle>A\\B</aeTitle>\n<host>h</host><port>1</port></node></nodes>", "may not contain"},
		{"<nodes>\n<node>\n<aeTitle>SEVENTEEN_CHARS_X</aeTitle>\n<host>h</host><port>1</port></node></nodes>", "1 to 16"},
		{"<nodes>\n<node>\n<aeTitle>    </aeTitle>\n<host>h</host><port>1</port></node></nodes>", "1 to 16"},
		{"<nodes><node><aeTitle>A</aeTitle><host>h</host><port>x</port></node></nodes>", "not a number"},
		{"<nodes><node><aeTitle>A</aeTitle><host>h</host><port>1</port><encoding>EBCDIC</encoding></node></nodes>", "not a known character set"},
		{"<nodes><node><aeTitle>A</aeTitle><host>h</host><port>1</port><encoding>Windows-1251</encoding></node></nodes>", "can be read but not written"},
		{"<nodes><node><aeTitle>A</aeTitle><host>h</host><port>1</port><retrieve>FTP</retrieve></node></nodes>", "neither C-GET nor C-MOVE"},
		{"<nodes><node><aeTitle>A</aeTitle><port>1</port></node></nodes>", "without <host>"},
		{"<nodes><node><aeTitle>A</aeTitle><host>h</host><port>1</port></node><node><aeTitle>A</aeTitle><host>h</host><port>2</port></node></nodes>", "two nodes"},
		{"<nodes><node><aeTitle>A</aeTitle>", "unexpected EOF"},
		{"<pacs/>", "root element"},
	} {
		_, err := Parse(strings.NewReader(c.xml))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.xml, err, c.want)
		}
	}
}

func TestBookSavesAtomicallyAndKeepsOldFileOnBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nodes.xml")
	b, err := Open(path)
	if err != nil || len(b.List()) != 0 {
		t.Fatalf("empty book: %v", err)
	}
	if _, err := b.Put("", Node{AETitle: "ORTHANC", Host: "127.0.0.1", Port: 4242}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if _, err := b.Put("", Node{AETitle: "BAD\\AE", Host: "h", Port: 1}); err == nil {
		t.Fatal("a bad node was accepted")
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("a rejected node changed the file")
	}
	if _, err := b.Put("ORTHANC", Node{Name: "Orthanc", AETitle: "ORTHANC", Host: "127.0.0.1", Port: 4243}); err != nil {
		t.Fatal(err)
	}
	b2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if l := b2.List(); len(l) != 1 || l[0].Port != 4243 || l[0].Name != "Orthanc" {
		t.Errorf("reloaded %+v", l)
	}
	// A malformed file on disk is reported with its line, and not overwritten by Open.
	os.WriteFile(path, []byte("<nodes>\n<node>\n<oops/>\n</node>\n</nodes>\n"), 0o644)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("malformed file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temp files left: %d entries", len(entries))
	}
}

func FuzzParse(f *testing.F) {
	f.Add(example)
	f.Add("<nodes><node><aeTitle>A</aeTitle><host>h</host><port>1</port></node></nodes>")
	f.Fuzz(func(t *testing.T, s string) {
		list, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, n := range list {
			if ValidateAETitle(n.AETitle) != nil || n.Port < 1 || n.Port > 65535 {
				t.Fatalf("invalid node accepted: %+v", n)
			}
		}
	})
}
