package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"lightbox/backend/dcm"
	"lightbox/backend/nodes"
	"lightbox/backend/storage"
	"lightbox/backend/store"
)

// SendRequest asks to send stored instances to a node: either a configured
// node by NodeName, or an address (AETitle, Host, Port, MaxAssociations).
// The instances are the union of whole studies, whole series and single
// instances (index IDs).
type SendRequest struct {
	NodeName        string   `json:"nodeName,omitempty"`
	AETitle         string   `json:"aeTitle,omitempty"`
	Host            string   `json:"host,omitempty"`
	Port            int      `json:"port,omitempty"`
	MaxAssociations int      `json:"maxAssociations,omitempty"` // parallel associations (0: the node's limit, else 1)
	StudyUIDs       []string `json:"studyUIDs,omitempty"`
	SeriesUIDs      []string `json:"seriesUIDs,omitempty"`
	InstanceIDs     []uint   `json:"instanceIDs,omitempty"`
	// CallingAE overrides our AE title (default: the AE title setting).
	CallingAE string `json:"callingAE,omitempty"`
}

// sendJob is what RetrySend needs of a finished send.
type sendJob struct {
	target storage.Target
	title  string
	left   []storage.Item
}

// maxJobErrors bounds the per-instance lines kept in Job.Errors.
const maxJobErrors = 500

// SendInstances starts a "send" job and returns its ID. The job carries the
// instances over one association (more when the node allows parallel
// associations or more than 128 presentation contexts are needed). Job.Done
// counts instances answered, Job.Failed those that were not sent; Job.Errors
// lists each failure ("Failure (0xA700): refused: out of resources"),
// warning ("Warning (0xB000): ...", sent) and, after a transport failure
// (state "stopped"), each instance left. RetrySend sends what is left.
func (a *App) SendInstances(req SendRequest) (string, error) {
	t, err := a.sendTarget(req)
	if err != nil {
		return "", err
	}
	items, err := a.sendItems(a.ctx, req)
	if err != nil {
		return "", err
	}
	if len(items) == 0 {
		return "", errors.New("nothing to send: no stored instance matches")
	}
	title := fmt.Sprintf("Send %d instance%s to %s", len(items), plural(len(items)), t.CalledAE)
	return a.startSend(title, t, items), nil
}

// RetrySend starts a new send job with what an earlier send job left or
// failed to send, to the same node, and returns the new job's ID.
func (a *App) RetrySend(jobID string) (string, error) {
	a.stg.mu.Lock()
	sj, ok := a.stg.sends[jobID]
	a.stg.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("no send job %q", jobID)
	}
	if j, ok := a.jobs.get(jobID); ok && j.snapshot().State == "running" {
		return "", fmt.Errorf("job %s is still running", jobID)
	}
	if len(sj.left) == 0 {
		return "", fmt.Errorf("job %s left nothing to send", jobID)
	}
	title := fmt.Sprintf("Retry: send %d instance%s to %s", len(sj.left), plural(len(sj.left)), sj.target.CalledAE)
	return a.startSend(title, sj.target, sj.left), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (a *App) startSend(title string, t storage.Target, items []storage.Item) string {
	var id string
	ready := make(chan struct{})
	id = a.jobs.start("send", title, "", func(ctx context.Context, j *job) error {
		<-ready
		j.update(func(v *Job) { v.Total = len(items) })
		rep := a.runSend(ctx, t, items, j)
		a.stg.mu.Lock()
		if a.stg.sends == nil {
			a.stg.sends = map[string]*sendJob{}
		}
		a.stg.sends[id] = &sendJob{target: t, title: title, left: rep.Remaining()}
		for k := range a.stg.sends {
			if _, ok := a.jobs.get(k); !ok { // pruned by the job manager
				delete(a.stg.sends, k)
			}
		}
		a.stg.mu.Unlock()
		j.update(func(v *Job) {
			v.Message = sendMessage(rep)
			for _, r := range rep.Results {
				if r.State == storage.Left && len(v.Errors) < maxJobErrors {
					v.Errors = append(v.Errors, JobError{Item: itemLabel(r.Item), Reason: "not sent: " + errText(rep.Err)})
				}
			}
		})
		switch {
		case rep.Err != nil && errors.Is(rep.Err, context.Canceled) && ctx.Err() != nil:
			return context.Canceled
		case rep.Err != nil:
			return fmt.Errorf("%w: %v", errStopped, rep.Err)
		}
		return nil
	})
	close(ready)
	return id
}

func (a *App) runSend(ctx context.Context, t storage.Target, items []storage.Item, j *job) storage.Report {
	return storage.Send(ctx, t, items, storage.Options{
		Limiter: &a.stg.limiter, LimitKey: t.CalledAE + "@" + t.Addr, Logger: a.log,
		Progress: func(r storage.ItemResult) {
			if j == nil {
				return
			}
			j.update(func(v *Job) {
				v.Done++
				v.Bytes += r.Bytes
				switch r.State {
				case storage.Failed:
					v.Failed++
					if len(v.Errors) < maxJobErrors {
						v.Errors = append(v.Errors, JobError{Item: itemLabel(r.Item), Reason: r.Reason})
					}
				case storage.Warning:
					if len(v.Errors) < maxJobErrors {
						v.Errors = append(v.Errors, JobError{Item: itemLabel(r.Item), Reason: r.Reason + " (sent)"})
					}
				}
			})
		},
	})
}

func itemLabel(it storage.Item) string {
	if it.ID != "" && !strings.Contains(it.ID, "/") {
		return it.SOPInstanceUID + " (#" + it.ID + ")"
	}
	return it.SOPInstanceUID
}

func errText(err error) string {
	if err == nil {
		return "stopped"
	}
	return err.Error()
}

func sendMessage(r storage.Report) string {
	s := fmt.Sprintf("%d sent", r.Sent+r.Warnings)
	if r.Warnings > 0 {
		s += fmt.Sprintf(" (%d with warnings)", r.Warnings)
	}
	s += fmt.Sprintf(", %d failed", r.Failed)
	if r.Left > 0 {
		s += fmt.Sprintf(", %d left: %v", r.Left, r.Err)
	}
	return s
}

// sendTarget resolves the node of a request.
func (a *App) sendTarget(req SendRequest) (storage.Target, error) {
	var n nodes.Node
	if req.NodeName != "" {
		var err error
		if n, err = a.node(req.NodeName); err != nil {
			return storage.Target{}, err
		}
	} else {
		n = nodes.Node{Name: req.AETitle, AETitle: strings.TrimSpace(req.AETitle), Host: req.Host, Port: req.Port, MaxAssociations: req.MaxAssociations}
		if err := nodes.ValidateAETitle(n.AETitle); err != nil {
			return storage.Target{}, fmt.Errorf("called AE title: %w", err)
		}
		if n.Host == "" || n.Port < 1 || n.Port > 65535 {
			return storage.Target{}, fmt.Errorf("node address %q port %d is not valid", n.Host, n.Port)
		}
	}
	if req.MaxAssociations > 0 {
		n.MaxAssociations = req.MaxAssociations
	}
	calling := req.CallingAE
	if calling == "" {
		calling = a.GetSettings().AETitle
	} else if err := nodes.ValidateAETitle(calling); err != nil {
		return storage.Target{}, fmt.Errorf("calling AE title: %w", err)
	}
	return storage.Target{CallingAE: calling, CalledAE: n.AETitle, Addr: n.Addr(), MaxAssociations: max(n.MaxAssociations, 1)}, nil
}

// sendItems resolves the instances of a request (each once, in study,
// series, instance order as asked).
func (a *App) sendItems(ctx context.Context, req SendRequest) ([]storage.Item, error) {
	seen := map[uint]bool{}
	var out []storage.Item
	add := func(rows []store.Instance) {
		for i := range rows {
			r := &rows[i]
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			out = append(out, storage.Item{ID: strconv.FormatUint(uint64(r.ID), 10), Path: a.store.ObjectPath(r),
				SOPClassUID: r.SOPClassUID, SOPInstanceUID: r.SOPInstanceUID, TransferSyntaxUID: r.TransferSyntaxUID})
		}
	}
	for _, uid := range req.StudyUIDs {
		rows, err := a.store.StudyInstances(ctx, uid)
		if err != nil {
			return nil, fmt.Errorf("study %s: %w", uid, err)
		}
		add(rows)
	}
	for _, uid := range req.SeriesUIDs {
		rows, err := a.store.Instances(ctx, uid)
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", uid, err)
		}
		add(rows)
	}
	for _, id := range req.InstanceIDs {
		r, err := a.store.Instance(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("instance %d: %w", id, err)
		}
		add([]store.Instance{*r})
	}
	return out, nil
}

// SendSync sends stored instances and files (not necessarily in the store)
// and waits; progress (optional) sees each instance's outcome. For the CLI;
// not part of the bound API.
func SendSync(ctx context.Context, a *App, req SendRequest, files []string, progress func(storage.ItemResult)) (storage.Report, error) {
	t, err := a.sendTarget(req)
	if err != nil {
		return storage.Report{}, err
	}
	items, err := a.sendItems(ctx, req)
	if err != nil {
		return storage.Report{}, err
	}
	for _, f := range files {
		it, err := fileItem(f)
		if err != nil {
			return storage.Report{}, err
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return storage.Report{}, errors.New("nothing to send")
	}
	return storage.Send(ctx, t, items, storage.Options{Limiter: &a.stg.limiter, LimitKey: t.CalledAE + "@" + t.Addr,
		Logger: a.log, Progress: progress}), nil
}

// fileItem describes a Part 10 file to send.
func fileItem(path string) (storage.Item, error) {
	f, err := dcm.ParseFile(path, dcm.Options{StopBeforePixels: true, MaxInline: 64 << 10})
	if err != nil {
		return storage.Item{}, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	if f.Meta == nil {
		return storage.Item{}, fmt.Errorf("%s: no File Meta Information: only Part 10 files can be sent", path)
	}
	it := storage.Item{ID: path, Path: path, SOPClassUID: f.DataSet.UID(dcm.TagSOPClassUID),
		SOPInstanceUID: f.DataSet.UID(dcm.TagSOPInstanceUID), TransferSyntaxUID: f.TransferSyntax.UID}
	if it.SOPClassUID == "" || it.SOPInstanceUID == "" {
		return storage.Item{}, fmt.Errorf("%s: no SOP Class or Instance UID", path)
	}
	return it, nil
}
