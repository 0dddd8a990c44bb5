package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"lightbox/app"
	"lightbox/backend/storage"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

// runSend: lightbox send (--node NAME | --aec AET HOST PORT) [--aet ME]
// [--data DIR] [--study UID|--series UID|FILE...]. Exits 1 when any
// instance was not sent.
func runSend(args []string) int {
	fs := newFlags("send")
	nf := addNodeFlags(fs)
	var studies, series multiFlag
	fs.Var(&studies, "study", "a stored study to send (repeatable)")
	fs.Var(&series, "series", "a stored series to send (repeatable)")
	par := fs.Int("j", 0, "parallel associations (default: the node's limit, else 1)")
	quiet := fs.Bool("q", false, "no progress line")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 2
	}
	a, node, files, err := nf.resolve(pos, 0)
	if err != nil {
		return fail("%v", err)
	}
	defer app.Shutdown(a)
	if len(studies)+len(series)+len(files) == 0 {
		return fail("nothing to send: give --study UID, --series UID or files")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	var done, failed int
	var bytes int64
	rep, err := app.SendSync(ctx, a, app.SendRequest{NodeName: node, StudyUIDs: studies, SeriesUIDs: series, MaxAssociations: *par},
		files, func(r storage.ItemResult) {
			done++
			bytes += r.Bytes
			if r.State == storage.Failed {
				failed++
			}
			if !*quiet {
				el := time.Since(start).Seconds()
				fmt.Fprintf(os.Stderr, "\rsent %d instances, %d failed (%.0f img/s, %.1f MB/s)   ", done-failed, failed, float64(done)/el, float64(bytes)/1e6/el)
			}
		})
	if !*quiet && done > 0 {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return fail("%v", err)
	}
	for _, r := range rep.Results {
		switch r.State {
		case storage.Failed:
			fmt.Fprintf(os.Stderr, "failed: %s %s: %s\n", r.Item.SOPInstanceUID, r.Item.Path, oneLine(r.Reason))
		case storage.Warning:
			fmt.Fprintf(os.Stderr, "warning: %s: %s\n", r.Item.SOPInstanceUID, oneLine(r.Reason))
		}
	}
	converted := 0
	for _, r := range rep.Results {
		if r.Converted && (r.State == storage.Sent || r.State == storage.Warning) {
			converted++
		}
	}
	el := time.Since(start).Seconds()
	fmt.Printf("sent %d of %d instances (%d with warnings, %d decompressed for the peer), %d failed, %d left; %.1f MB in %.2fs (%.0f img/s, %.1f MB/s, %d association%s)\n",
		rep.Sent+rep.Warnings, len(rep.Results), rep.Warnings, converted, rep.Failed, rep.Left, float64(rep.Bytes)/1e6, el,
		float64(rep.Sent+rep.Warnings)/el, float64(rep.Bytes)/1e6/el, rep.Associations, map[bool]string{true: "", false: "s"}[rep.Associations == 1])
	if rep.Err != nil {
		fmt.Fprintf(os.Stderr, "stopped: %v\n", rep.Err)
	}
	if rep.Failed > 0 || rep.Left > 0 {
		return 1
	}
	return 0
}
