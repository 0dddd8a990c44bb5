package jpeg2k

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestGeneratedPassesUpToDate regenerates t1_passes.go from gen_t1.go and
// requires the checked-in file to be identical.
func TestGeneratedPassesUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test runs the generator with go run; make test runs it (no -short)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go command not found")
	}
	out := filepath.Join(t.TempDir(), "t1_passes.go")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if msg, err := exec.CommandContext(ctx, goBin, "run", "gen_t1.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run gen_t1.go: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("t1_passes.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("t1_passes.go differs from what gen_t1.go writes: run go generate")
	}
}
