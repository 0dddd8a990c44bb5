package app

import (
	"context"
	"errors"
	"fmt"
	"lightbox/backend/charset"
	"net"
	"net/url"
	"strings"

	"lightbox/backend/importer"
	"lightbox/backend/store"
)

// VersionInfo answers Version.
type VersionInfo struct {
	Version string `json:"version"`
	DataDir string `json:"dataDir"`
	Mode    string `json:"mode"`
	// What a PACS administrator needs to configure Lightbox as a node:
	// our AE title, the port the DICOM listener is bound to (0: not
	// listening, ListenerError says why) and this computer's addresses.
	AETitle       string   `json:"aeTitle"`
	DICOMPort     int      `json:"dicomPort"`
	ListenerError string   `json:"listenerError,omitempty"`
	Addresses     []string `json:"addresses"`
}

// Version reports the version, data directory, shell, and where the DICOM
// listener can be reached.
func (a *App) Version() VersionInfo {
	v := VersionInfo{Version: Version, DataDir: a.cfg.DataDir, Mode: a.cfg.Mode, AETitle: a.GetSettings().AETitle, Addresses: hostAddresses()}
	if l := a.dicom; l != nil {
		l.mu.Lock()
		v.DICOMPort = l.port
		if l.err != nil {
			v.ListenerError = l.err.Error()
		}
		l.mu.Unlock()
	} else {
		v.ListenerError = "the DICOM listener is not running"
	}
	return v
}

// hostAddresses lists this computer's unicast IP addresses, non-loopback
// first (loopback only when there is nothing else).
func hostAddresses() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return []string{}
	}
	var out, loop []string
	for _, ad := range addrs {
		ipn, ok := ad.(*net.IPNet)
		if !ok || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsMulticast() {
			continue
		}
		if ipn.IP.IsLoopback() {
			loop = append(loop, ipn.IP.String())
			continue
		}
		out = append(out, ipn.IP.String())
	}
	if len(out) == 0 {
		out = loop
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// ListStudies lists the studies of the local store matching q.
func (a *App) ListStudies(q store.StudyQuery) ([]store.StudyView, error) {
	v, err := a.store.Studies(a.ctx, q)
	a.log.Debug("studies listed", "count", len(v), "err", err)
	return v, err
}

// ListSeries lists the series of a study, each with its thumbnail URL.
func (a *App) ListSeries(studyUID string) ([]store.SeriesView, error) {
	series, err := a.store.Series(a.ctx, studyUID)
	if err != nil {
		return nil, err
	}
	for i := range series {
		series[i].ThumbnailURL = "/files/thumbnail/" + url.PathEscape(series[i].SeriesInstanceUID) + ".png"
	}
	return series, nil
}

// ListInstances lists the instances of a series in display order.
func (a *App) ListInstances(seriesUID string) ([]store.InstanceView, error) {
	rows, err := a.store.Instances(a.ctx, seriesUID)
	if err != nil {
		return nil, err
	}
	out := make([]store.InstanceView, len(rows))
	for i := range rows {
		out[i] = rows[i].View()
	}
	return out, nil
}

// DeleteStudy deletes a study and its files from the local store.
func (a *App) DeleteStudy(studyUID string) error {
	return a.store.DeleteStudy(a.ctx, studyUID)
}

// DeleteSeries deletes a series and its files from the local store.
func (a *App) DeleteSeries(seriesUID string) error {
	return a.store.DeleteSeries(a.ctx, seriesUID)
}

// ImportPaths starts an import job for files, folders, DICOMDIRs and zips
// on this machine, and returns the job ID.
func (a *App) ImportPaths(paths []string) (string, error) {
	if len(paths) == 0 {
		return "", errors.New("nothing to import")
	}
	title := "Import " + paths[0]
	if len(paths) > 1 {
		title = fmt.Sprintf("Import %s and %d more", paths[0], len(paths)-1)
	}
	j := a.jobs.start("import", title, "", func(ctx context.Context, j *job) error {
		sum := importer.Run(ctx, a.store, paths, importer.Options{Progress: func(s importer.Summary) {
			j.update(func(v *Job) {
				v.Done, v.Total, v.Bytes = s.Done(), s.Total, s.Bytes
				v.Failed = len(s.Failed)
				v.Errors = v.Errors[:0]
				for _, f := range s.Failed {
					if len(v.Errors) >= 200 {
						break
					}
					v.Errors = append(v.Errors, JobError{Item: f.Item, Reason: f.Reason})
				}
				v.Message = importMessage(s)
			})
		}})
		j.update(func(v *Job) { v.Message = importMessage(sum) })
		if sum.Cancelled {
			return context.Canceled
		}
		return nil
	})
	return j, nil
}

func importMessage(s importer.Summary) string {
	return fmt.Sprintf("%d imported, %d duplicates, %d skipped (not DICOM), %d failed", s.Imported, s.Duplicates, s.Skipped, len(s.Failed))
}

// ChooseAndImport opens a native folder dialog and imports what is chosen
// (desktop only). It returns the job ID, or "" when the dialog was cancelled.
func (a *App) ChooseAndImport() (string, error) {
	if a.cfg.ChooseDirectory == nil {
		return "", fmt.Errorf("%w: the folder dialog exists only in the desktop app; type a path instead", ErrNotAvailable)
	}
	dir, err := a.cfg.ChooseDirectory()
	if err != nil || dir == "" {
		return "", err
	}
	return a.ImportPaths([]string{dir})
}

// Jobs lists the jobs of this session (newest first).
func (a *App) Jobs() []Job { return a.jobs.list() }

// CancelJob cancels a running job.
func (a *App) CancelJob(id string) error { return a.jobs.cancel(id) }

// SaveAnnotations stores the viewer's measurements of a study (JSON).
func (a *App) SaveAnnotations(studyUID, json string) error {
	if strings.TrimSpace(studyUID) == "" {
		return errors.New("no study")
	}
	if len(json) > 16<<20 {
		return errors.New("annotations larger than 16 MiB")
	}
	return a.store.SaveAnnotations(studyUID, json)
}

// LoadAnnotations returns the viewer's measurements of a study ("" if none).
func (a *App) LoadAnnotations(studyUID string) string {
	return a.store.Annotations(studyUID)
}

// CharacterSets lists the character sets Lightbox reads (for the fallback
// setting and a node's assumed character set) and which of them it can
// write (a node's query Encoding).
func (a *App) CharacterSets() []charset.TermInfo { return charset.Describe() }
