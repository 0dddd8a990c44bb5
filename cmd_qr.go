package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"lightbox/app"
	"lightbox/backend/nodes"
)

type keyFlags map[string]string

func (k keyFlags) String() string { return "" }
func (k keyFlags) Set(s string) error {
	key, val, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return fmt.Errorf("%q: want KEY=VALUE", s)
	}
	k[key] = val
	return nil
}

// nodeFlags parses "--node NAME" or "--aec AET HOST PORT" (HOST and PORT
// are the first two positional arguments).
type nodeFlags struct {
	node, aec, aet, data *string
}

func addNodeFlags(fs *flag.FlagSet) nodeFlags {
	return nodeFlags{node: fs.String("node", "", "a node of nodes.xml, by name"), aec: fs.String("aec", "", "called AE title (with HOST PORT)"),
		aet: fs.String("aet", "", "our AE title (default: the setting, LIGHTBOX)"), data: dataFlag(fs)}
}

// resolve returns the app (opened on --data) and the node name to use,
// adding an ad-hoc node for --aec HOST PORT.
func (f nodeFlags) resolve(pos []string, port int) (*app.App, string, []string, error) {
	a, err := app.Open(app.Config{DataDir: *f.data, Mode: "cli", AETitle: *f.aet, Port: port})
	if err != nil {
		return nil, "", nil, err
	}
	switch {
	case *f.node != "":
		return a, *f.node, pos, nil
	case *f.aec != "":
		if len(pos) < 2 {
			app.Shutdown(a)
			return nil, "", nil, errors.New("--aec needs HOST PORT")
		}
		p, err := strconv.Atoi(pos[1])
		if err != nil {
			app.Shutdown(a)
			return nil, "", nil, fmt.Errorf("port %q is not a number", pos[1])
		}
		n := nodes.Node{Name: "cli:" + *f.aec, AETitle: *f.aec, Host: pos[0], Port: p, Retrieve: nodes.CGet}
		if err := app.AddTransientNode(a, n); err != nil {
			app.Shutdown(a)
			return nil, "", nil, err
		}
		return a, n.Name, pos[2:], nil
	}
	app.Shutdown(a)
	return nil, "", nil, errors.New("say which node: --node NAME or --aec AET HOST PORT")
}

func runFind(args []string) int {
	fs := newFlags("find")
	nf := addNodeFlags(fs)
	level := fs.String("level", "study", "study, series or image")
	asJSON := fs.Bool("json", false, "print a JSON array")
	limit := fs.Int("limit", 1000, "at most this many matches (C-CANCEL after)")
	keys := keyFlags{}
	fs.Var(keys, "k", "matching key KEY=VALUE (repeatable), e.g. -k PatientName=Smith* -k StudyDate=20240101-")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 2
	}
	a, node, _, err := nf.resolve(pos, 0)
	if err != nil {
		return fail("%v", err)
	}
	defer app.Shutdown(a)
	matches, ev, err := app.FindSync(a, app.FindRequest{Node: node, Level: *level, Keys: keys, Limit: *limit})
	if err != nil {
		return fail("%v", err)
	}
	if ev.Error != "" {
		return fail("C-FIND failed: %s", ev.Error)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(matches)
	} else {
		for i, m := range matches {
			ks := make([]string, 0, len(m))
			for k := range m {
				ks = append(ks, k)
			}
			sort.Strings(ks)
			fmt.Printf("# match %d\n", i+1)
			for _, k := range ks {
				fmt.Printf("  %-32s %s\n", k, m[k])
			}
		}
	}
	fmt.Fprintf(os.Stderr, "%d matches; final status %s\n", len(matches), ev.Status)
	if !strings.HasPrefix(ev.Status, "0x0000") && !strings.HasPrefix(ev.Status, "0xFE00") {
		return 1
	}
	return 0
}

func runGet(args []string) int  { return runRetrieve("get", args) }
func runMove(args []string) int { return runRetrieve("move", args) }

func runRetrieve(mode string, args []string) int {
	fs := newFlags(mode)
	nf := addNodeFlags(fs)
	study := fs.String("study", "", "Study Instance UID")
	series := fs.String("series", "", "Series Instance UID (optional)")
	port := fs.Int("port", 0, "move: port of our own listener when no Lightbox serves this data directory")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 2
	}
	if *study == "" {
		return fail("--study UID is required")
	}
	a, node, _, err := nf.resolve(pos, *port)
	if err != nil {
		return fail("%v", err)
	}
	defer app.Shutdown(a)
	if err := app.SetRetrieveMode(a, node, mode); err != nil {
		return fail("%v", err)
	}
	if mode == "move" {
		if running, p := app.ServingElsewhere(a); running {
			fmt.Fprintf(os.Stderr, "a running Lightbox receives on port %d\n", p)
		} else if err := app.StartDICOM(a); err != nil {
			return fail("%v", err)
		}
	}
	id, err := a.Retrieve(app.RetrieveRequest{Node: node, StudyUID: *study, SeriesUID: *series})
	if err != nil {
		return fail("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		a.CancelJob(id)
	}()
	var j app.Job
	for {
		j = jobState(a, id)
		if j.State != "running" {
			break
		}
		fmt.Fprintf(os.Stderr, "\r%s: %d/%d received, %d failed   ", mode, j.Done, j.Total, j.Failed)
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "\r%s %s: %d/%d received, %d failed. %s\n", mode, j.State, j.Done, j.Total, j.Failed, j.Message)
	if j.State != "done" {
		return 1
	}
	return 0
}

func jobState(a *app.App, id string) app.Job {
	for _, j := range a.Jobs() {
		if j.ID == id {
			return j
		}
	}
	return app.Job{State: "failed", Message: "job vanished"}
}
