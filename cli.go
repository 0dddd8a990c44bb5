package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"lightbox/app"
)

// parseArgs parses flags wherever they stand among the positional
// arguments ("decode FILE -o OUT" as well as "decode -o OUT FILE").
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("lightbox "+name, flag.ContinueOnError)
	fs.Usage = func() {
		if c, ok := commands()[name]; ok {
			fmt.Fprintln(os.Stderr, "usage: lightbox "+c.usage)
		}
		fs.PrintDefaults()
	}
	return fs
}

func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", "", "data directory (default $LIGHTBOX_DATA or the per-user data directory)")
}

func openApp(data string, mode string) (*app.App, error) {
	return app.Open(app.Config{DataDir: data, Mode: mode})
}

func fail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "lightbox: "+format+"\n", a...)
	return 1
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
