// Command lightbox is the Lightbox DICOM workstation: with no arguments it
// opens the desktop window (desktop builds); its subcommands are a thin
// shell over the same services (see `lightbox help`).
package main

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"strings"

	"lightbox/app"
)

//go:embed all:frontend/dist
var assets embed.FS

// frontendFS is the built UI (frontend/dist).
func frontendFS() fs.FS {
	sub, err := fs.Sub(assets, "frontend/dist")
	if err != nil {
		panic(err) // the embed path is fixed at build time
	}
	return sub
}

type command struct {
	usage string
	run   func(args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"open":    {"open [--data DIR] STUDY   open the desktop window on a study of the local store (Study Instance UID or Accession Number)", runOpen},
		"serve":   {"serve [--data DIR] [--http ADDR] [--aet AET] [--port N] [--token T]   run headless: UI and API over HTTP, DICOM listener", runServe},
		"import":  {"import [--data DIR] PATH...   import files, folders, DICOMDIR sets and .zip archives", runImport},
		"studies": {"studies [--data DIR] [--json]   list the studies of the local store", runStudies},
		"decode":  {"decode FILE -o OUT   write the canonical samples of every frame", runDecode},
		"probe":   {"probe FILE X,Y,FRAME...   print modality values (or R,G,B) at points", runProbe},
		"render":  {"render FILE [--frame N] [--wc C --ww W] -o OUT.png   render a frame to PNG", runRender},
		"find":    {"find (--node NAME | --aec AET HOST PORT) [--level study|series|image] [-k KEY=VALUE]... [--json]   C-FIND", runFind},
		"get":     {"get (--node NAME | --aec AET HOST PORT) --study UID [--series UID] [--data DIR]   C-GET into the local store", runGet},
		"move":    {"move (--node NAME | --aec AET HOST PORT) --study UID [--series UID] [--port N] [--data DIR]   C-MOVE into the local store", runMove},
		"echo":    {"echo [--aet ME] [--aec THEM] [--timeout S] HOST PORT   C-ECHO a DICOM node", runEcho},
		"send":    {"send (--node NAME | --aec AET HOST PORT) [--aet ME] [--data DIR] [-j N] [--study UID|--series UID|FILE...]   C-STORE to a node", runSend},
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: lightbox [COMMAND [ARGS]]\n\nWith no command, opens the desktop window.\n\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(os.Stderr, "  lightbox "+cmds[n].usage)
	}
	fmt.Fprintln(os.Stderr, "\nThe data directory is --data DIR, else $LIGHTBOX_DATA, else the per-user data directory.")
}

func main() {
	setupLogging()
	if len(os.Args) < 2 {
		os.Exit(runDesktop(app.Config{Mode: "desktop"}))
	}
	name := os.Args[1]
	if name == "help" || name == "-h" || name == "--help" {
		usage()
		return
	}
	cmd, ok := commands()[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "lightbox: unknown command %q\n\n", name)
		usage()
		os.Exit(2)
	}
	os.Exit(cmd.run(os.Args[2:]))
}

func setupLogging() {
	level := slog.LevelInfo
	switch strings.ToLower(os.Getenv("LIGHTBOX_LOG")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
}

// runOpen opens the desktop window on one study (for a RIS or worklist
// that launches the viewer for a study).
func runOpen(args []string) int {
	fs := newFlags("open")
	data := dataFlag(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		fs.Usage()
		return 2
	}
	return runDesktop(app.Config{Mode: "desktop", DataDir: *data, Open: pos[0]})
}
