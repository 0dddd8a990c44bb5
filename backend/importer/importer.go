// Package importer brings files into the local store: single files, folders
// (recursively), DICOMDIR sets, and .zip archives.
//
// Contract: Run blocks until every path is done or ctx is cancelled, and
// until the index rows of what it imported are written; it reports
// progress through the callback (called from Run's goroutines, at most
// every 200 ms plus once at the end) and returns a Summary. Files are
// copied into the store's temp files by a few copiers (a kernel copy for
// plain files) and made durable in batches (store.CommitAll): one pass of
// syncs per batch of up to 64 files instead of a wait per file. Nothing in a
// bad file can stop the import: each file ends as imported, duplicate,
// skipped (not DICOM), or failed with a reason.
package importer

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"lightbox/backend/dcm"
	"lightbox/backend/store"
)

// Failure is one file that could not be imported.
type Failure struct {
	Item   string `json:"item"`
	Reason string `json:"reason"`
}

// Summary counts what happened.
type Summary struct {
	Total      int       `json:"total"`
	Imported   int       `json:"imported"`
	Duplicates int       `json:"duplicates"`
	Skipped    int       `json:"skipped"`
	Failed     []Failure `json:"failed"`
	Bytes      int64     `json:"bytes"`
	Elapsed    time.Duration
	Cancelled  bool `json:"cancelled"`
}

// Done is the number of files handled.
func (s Summary) Done() int { return s.Imported + s.Duplicates + s.Skipped + len(s.Failed) }

// Options for an import.
type Options struct {
	Workers  int                       // copiers; default 4 (measured best on 2 cores: copies overlap the batch syncs)
	Progress func(Summary)             // optional
	Source   string                    // recorded as the instances' source; default the path
	Skipped  func(item, reason string) // optional, each non-DICOM file
}

// item is one thing to import: a file, or an entry of a zip.
type item struct {
	name string
	open func() (io.ReadCloser, error)
}

// Run imports paths into st.
func Run(ctx context.Context, st *store.Store, paths []string, opt Options) Summary {
	start := time.Now()
	if opt.Workers <= 0 {
		opt.Workers = 4
	}
	var (
		mu   sync.Mutex
		sum  Summary
		last time.Time
	)
	report := func(force bool) {
		if opt.Progress == nil {
			return
		}
		if force || time.Since(last) > 200*time.Millisecond {
			last = time.Now()
			s := sum
			s.Failed = append([]Failure(nil), sum.Failed...)
			s.Elapsed = time.Since(start)
			opt.Progress(s)
		}
	}
	var items []item
	for _, p := range paths {
		items = append(items, collect(p, &sum)...)
	}
	sum.Total = len(items) + sum.Skipped + len(sum.Failed)
	count := func(name string, res store.Result, n int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil && res.Outcome == store.Duplicate:
			sum.Duplicates++
		case err == nil:
			sum.Imported++
			sum.Bytes += n
		case errors.Is(err, dcm.ErrNotDICOM) && !looksDICOM(name):
			sum.Skipped++
			if opt.Skipped != nil {
				opt.Skipped(name, err.Error())
			}
		default:
			sum.Failed = append(sum.Failed, Failure{Item: name, Reason: reason(err)})
		}
		report(false)
	}
	// Copiers bring files into the store's temp files (a kernel copy for
	// files); one committer makes them durable and indexes them in
	// batches, so that no copier waits for the disk per file.
	work := make(chan item)
	ready := make(chan copied, opt.Workers*batchMax)
	var wg sync.WaitGroup
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				c := copyOne(ctx, st, it, opt.Source)
				if c.err != nil {
					count(it.name, store.Result{}, 0, c.err)
					continue
				}
				ready <- c
			}
		}()
	}
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		for c := range ready {
			batch := []copied{c}
		gather:
			for len(batch) < batchMax {
				select {
				case c, ok := <-ready:
					if !ok {
						break gather
					}
					batch = append(batch, c)
				default:
					break gather
				}
			}
			pend := make([]store.Pending, len(batch))
			for i, c := range batch {
				pend[i] = store.Pending{In: c.in, Source: c.source}
			}
			for i, r := range st.CommitAll(ctx, pend) {
				count(batch[i].it.name, r.Result, batch[i].n, r.Err)
			}
		}
	}()
feed:
	for _, it := range items {
		select {
		case work <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(ready)
	<-committed
	// The summary counts what is in the index: wait for the last rows.
	st.Flush(context.WithoutCancel(ctx))
	mu.Lock()
	defer mu.Unlock()
	sum.Cancelled = ctx.Err() != nil
	sum.Elapsed = time.Since(start)
	report(true)
	return sum
}

// batchMax bounds the objects made durable together.
const batchMax = 64

// copied is a file brought into a store temp file, waiting for its commit.
type copied struct {
	it     item
	in     *store.Incoming
	n      int64
	source string
	err    error
}

func looksDICOM(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".dcm" || ext == ".dicom"
}

func reason(err error) string {
	switch {
	case errors.Is(err, dcm.ErrNotDICOM):
		return err.Error()
	case errors.Is(err, store.ErrNoSpace):
		return "disk full: " + err.Error()
	}
	return err.Error()
}

// copyOne copies an item into a new temp file of the store.
func copyOne(ctx context.Context, st *store.Store, it item, source string) copied {
	if source == "" {
		source = "import:" + it.name
	}
	c := copied{it: it, source: source}
	if c.err = ctx.Err(); c.err != nil {
		return c
	}
	rc, err := it.open()
	if err != nil {
		c.err = err
		return c
	}
	defer rc.Close()
	in, err := st.NewIncoming()
	if err != nil {
		c.err = err
		return c
	}
	if c.n, c.err = in.ReadFrom(rc); c.err != nil {
		in.Abort()
		return c
	}
	c.in = in
	return c
}

// collect expands a path into items. Unreadable paths become failures.
func collect(p string, sum *Summary) []item {
	fi, err := os.Stat(p)
	if err != nil {
		sum.Failed = append(sum.Failed, Failure{Item: p, Reason: err.Error()})
		return nil
	}
	if fi.IsDir() {
		var out []item
		filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				sum.Failed = append(sum.Failed, Failure{Item: q, Reason: err.Error()})
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			if strings.EqualFold(d.Name(), "DICOMDIR") {
				return nil // the folder walk finds the files it references
			}
			out = append(out, fileItems(q, sum)...)
			return nil
		})
		return out
	}
	if strings.EqualFold(filepath.Base(p), "DICOMDIR") {
		return dicomdirItems(p, sum)
	}
	return fileItems(p, sum)
}

func fileItems(p string, sum *Summary) []item {
	if strings.EqualFold(filepath.Ext(p), ".zip") {
		return zipItems(p, sum)
	}
	return []item{{name: p, open: func() (io.ReadCloser, error) { return os.Open(p) }}}
}

func zipItems(p string, sum *Summary) []item {
	zr, err := zip.OpenReader(p)
	if err != nil {
		sum.Failed = append(sum.Failed, Failure{Item: p, Reason: "zip: " + err.Error()})
		return nil
	}
	// The reader stays open for the items; it is small (the central directory).
	var out []item
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.EqualFold(filepath.Base(f.Name), "DICOMDIR") {
			continue
		}
		f := f
		out = append(out, item{name: p + "!" + f.Name, open: func() (io.ReadCloser, error) { return f.Open() }})
	}
	return out
}

// dicomdirItems lists the files a DICOMDIR references (0004,1500).
func dicomdirItems(p string, sum *Summary) []item {
	f, err := dcm.ParseFile(p, dcm.Options{})
	if err != nil {
		sum.Failed = append(sum.Failed, Failure{Item: p, Reason: "DICOMDIR: " + err.Error()})
		return nil
	}
	defer f.Close()
	base := filepath.Dir(p)
	var out []item
	for _, rec := range f.DataSet.Seq(dcm.NewTag(0x0004, 0x1220)) {
		ids := rec.Texts(dcm.NewTag(0x0004, 0x1500))
		if len(ids) == 0 {
			continue
		}
		for i := range ids {
			ids[i] = filepath.Clean(ids[i])
			if ids[i] == ".." || strings.HasPrefix(ids[i], ".."+string(filepath.Separator)) || filepath.IsAbs(ids[i]) {
				ids = nil
				break
			}
		}
		if ids == nil {
			sum.Failed = append(sum.Failed, Failure{Item: p, Reason: "DICOMDIR: a record points outside its folder"})
			continue
		}
		q := filepath.Join(append([]string{base}, ids...)...)
		if _, err := os.Stat(q); err != nil {
			// File IDs are upper case on media; try the name as found on disk.
			sum.Failed = append(sum.Failed, Failure{Item: q, Reason: fmt.Sprintf("DICOMDIR references a missing file: %v", err)})
			continue
		}
		out = append(out, item{name: q, open: func() (io.ReadCloser, error) { return os.Open(q) }})
	}
	return out
}
