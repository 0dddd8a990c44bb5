package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"

	"lightbox/app"
	"lightbox/backend/importer"
	"lightbox/backend/store"
)

func runImport(args []string) int {
	fs := newFlags("import")
	data := dataFlag(fs)
	quiet := fs.Bool("q", false, "no progress line")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return 2
	}
	if len(paths) == 0 {
		fs.Usage()
		return 2
	}
	a, err := openApp(*data, "cli")
	if err != nil {
		return fail("%v", err)
	}
	defer app.Shutdown(a)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tty := !*quiet
	sum := importer.Run(ctx, app.StoreOf(a), paths, importer.Options{Progress: func(s importer.Summary) {
		if tty {
			rate := float64(s.Done()) / s.Elapsed.Seconds()
			fmt.Fprintf(os.Stderr, "\rimporting %d/%d files (%.0f files/s, %.1f MB/s)   ", s.Done(), s.Total, rate,
				float64(s.Bytes)/1e6/s.Elapsed.Seconds())
		}
	}})
	if tty {
		fmt.Fprintln(os.Stderr)
	}
	for _, f := range sum.Failed {
		fmt.Fprintf(os.Stderr, "failed: %s: %s\n", f.Item, oneLine(f.Reason))
	}
	fmt.Fprintf(os.Stderr, "imported %d, duplicates %d, skipped (not DICOM) %d, failed %d in %.1fs\n",
		sum.Imported, sum.Duplicates, sum.Skipped, len(sum.Failed), sum.Elapsed.Seconds())
	if sum.Imported == 0 && sum.Duplicates > 0 {
		fmt.Fprintln(os.Stderr, "nothing new: every object was already in the store")
	}
	if sum.Cancelled {
		fmt.Fprintln(os.Stderr, "cancelled")
		return 130
	}
	if len(sum.Failed) > 0 {
		return 1
	}
	return 0
}

func runStudies(args []string) int {
	fs := newFlags("studies")
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print a JSON array")
	if _, err := parseArgs(fs, args); err != nil {
		return 2
	}
	a, err := openApp(*data, "cli")
	if err != nil {
		return fail("%v", err)
	}
	defer app.Shutdown(a)
	studies, err := a.ListStudies(store.StudyQuery{Sort: "patientName"})
	if err != nil {
		return fail("%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(studies); err != nil {
			return fail("%v", err)
		}
		return 0
	}
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATIENT\tID\tDATE\tMODALITIES\tDESCRIPTION\tSERIES\tIMAGES\tSTUDY UID")
	for _, s := range studies {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.PatientName, s.PatientID, s.StudyDate,
			strings.Join(s.Modalities, ","), s.StudyDescription, s.NumberOfSeries, s.NumberOfInstances, s.StudyInstanceUID)
	}
	tw.Flush()
	return 0
}
