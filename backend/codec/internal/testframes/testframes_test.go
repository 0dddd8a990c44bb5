package testframes

import (
	"strconv"
	"strings"
	"testing"
)

func TestFramesOfEveryEncapsulatedCorpusFile(t *testing.T) {
	n := 0
	for _, r := range Manifest(t) {
		if r["expect"] != "ok" || r["lossy"] == "" || !strings.Contains(r["ts_uid"], ".4.") && !strings.HasSuffix(r["ts_uid"], ".2.5") {
			continue
		}
		frames, _ := strconv.Atoi(r["frames"])
		fr, err := Frames(r["abspath"], frames)
		if err != nil {
			t.Errorf("%s: %v", r["path"], err)
			continue
		}
		if want := max(frames, 1); len(fr) != want {
			t.Errorf("%s: %d frames, want %d", r["path"], len(fr), want)
		}
		n++
	}
	if n < 100 {
		t.Fatalf("only %d encapsulated files checked", n)
	}
}
