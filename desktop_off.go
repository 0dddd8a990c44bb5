//go:build !desktop

package main

import (
	"fmt"
	"os"

	"lightbox/app"
)

// runDesktop is the no-argument mode. This build has no desktop window
// (build with -tags desktop,production,webkit2_41 for one).
func runDesktop(app.Config) int {
	fmt.Fprintln(os.Stderr, "lightbox: this build has no desktop window; run `lightbox serve` and open the address it prints, or see `lightbox help`")
	return 2
}
