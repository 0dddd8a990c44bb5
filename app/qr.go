package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"lightbox/backend/dimse"
	"lightbox/backend/nodes"
	"lightbox/backend/qr"
	"lightbox/backend/storage"
)

// FindRequest is a query of a node. Keys are attribute keywords with DICOM
// matching values (UTF-8): PatientName (with * and ?), PatientID,
// StudyDate ("20240101-20241231"), ModalitiesInStudy, AccessionNumber,
// StudyDescription, ReferringPhysicianName, StudyInstanceUID...
type FindRequest struct {
	Node  string            `json:"node"`
	Level string            `json:"level"` // study, series, image
	Keys  map[string]string `json:"keys"`
	Limit int               `json:"limit"` // 0: 500
}

// FindEvent is the data of a "find" event: a batch of matches of a running
// query, and at the end its outcome.
type FindEvent struct {
	ID      string     `json:"id"`
	Matches []qr.Match `json:"matches"`
	Done    bool       `json:"done"`
	Count   int        `json:"count"`
	Status  string     `json:"status,omitempty"` // the final DIMSE status
	Error   string     `json:"error,omitempty"`  // a transport error, in words
	Limited bool       `json:"limited,omitempty"`
}

type queries struct {
	mu      sync.Mutex
	seq     int
	running map[string]context.CancelFunc
}

func (a *App) target(n nodes.Node) qr.Target {
	return qr.Target{CallingAE: a.GetSettings().AETitle, CalledAE: n.AETitle, Addr: n.Addr(), Encoding: n.Encoding,
		AssumeCharset: n.AssumeCharset, Timeout: 10 * time.Second, Logger: a.log}
}

// StartFind starts a C-FIND on a node and returns its ID; matches arrive as
// "find" events while they stream in. Starting a query does not stop the
// others: call CancelFind (C-CANCEL) for that.
func (a *App) StartFind(req FindRequest) (string, error) {
	n, err := a.node(req.Node)
	if err != nil {
		return "", err
	}
	level, err := qr.ParseLevel(req.Level)
	if err != nil {
		return "", err
	}
	if req.Limit <= 0 {
		req.Limit = 500
	}
	keys := map[string]string{}
	for k, v := range req.Keys {
		if v = strings.TrimSpace(v); v != "" {
			keys[k] = v
		}
	}
	a.q.mu.Lock()
	if a.q.running == nil {
		a.q.running = map[string]context.CancelFunc{}
	}
	a.q.seq++
	id := "find-" + strconv.Itoa(a.q.seq)
	ctx, cancel := context.WithCancel(a.ctx)
	a.q.running[id] = cancel
	a.q.mu.Unlock()
	go func() {
		defer func() {
			a.q.mu.Lock()
			delete(a.q.running, id)
			a.q.mu.Unlock()
			cancel()
		}()
		var mu sync.Mutex
		var batch []qr.Match
		flush := func(final FindEvent) {
			mu.Lock()
			ev := final
			ev.ID, ev.Matches = id, batch
			if ev.Matches == nil {
				ev.Matches = []qr.Match{}
			}
			batch = nil
			mu.Unlock()
			a.emit("find", ev)
		}
		tick := time.NewTicker(150 * time.Millisecond)
		stopTick := make(chan struct{})
		go func() {
			for {
				select {
				case <-tick.C:
					mu.Lock()
					has := len(batch) > 0
					mu.Unlock()
					if has {
						flush(FindEvent{})
					}
				case <-stopTick:
					return
				}
			}
		}()
		count := 0
		res, err := qr.Find(ctx, a.target(n), qr.Query{Level: level, Keys: keys}, req.Limit, func(m qr.Match) error {
			if ctx.Err() != nil {
				return ctx.Err() // cancelled: C-CANCEL
			}
			mu.Lock()
			batch = append(batch, m)
			count++
			mu.Unlock()
			return nil
		})
		tick.Stop()
		close(stopTick)
		final := FindEvent{Done: true, Count: count, Limited: res.Limited}
		if err != nil {
			final.Error = err.Error()
		} else {
			final.Status = res.Status.String()
		}
		flush(final)
	}()
	return id, nil
}

// CancelFind cancels a running query (C-CANCEL).
func (a *App) CancelFind(id string) error {
	a.q.mu.Lock()
	cancel, ok := a.q.running[id]
	a.q.mu.Unlock()
	if ok {
		cancel()
	}
	return nil
}

// RetrieveRequest names what to retrieve from which node.
type RetrieveRequest struct {
	Node      string `json:"node"`
	StudyUID  string `json:"studyInstanceUID"`
	SeriesUID string `json:"seriesInstanceUID,omitempty"`
	Title     string `json:"title,omitempty"` // shown in the transfers panel
}

// Retrieve starts a retrieve job (C-GET or C-MOVE as the node says) and
// returns its ID. The study can be opened as soon as its first images are
// in the store.
func (a *App) Retrieve(req RetrieveRequest) (string, error) {
	n, err := a.node(req.Node)
	if err != nil {
		return "", err
	}
	if req.StudyUID == "" {
		return "", errors.New("no study to retrieve")
	}
	title := req.Title
	if title == "" {
		title = "Retrieve " + req.StudyUID
	}
	title += " from " + n.Name + " (" + n.Retrieve + ")"
	return a.jobs.start("retrieve", title, req.StudyUID, func(ctx context.Context, j *job) error {
		return a.runRetrieve(ctx, j, n, req)
	}), nil
}

// RetryRetrieve runs a finished retrieve job's request again (objects
// already stored arrive as duplicates and cost nothing).
func (a *App) RetryRetrieve(jobID string) (string, error) {
	a.rmu.Lock()
	req, ok := a.retrieves[jobID]
	a.rmu.Unlock()
	if !ok {
		return "", fmt.Errorf("no retrieve job %q", jobID)
	}
	return a.Retrieve(req)
}

func (a *App) runRetrieve(ctx context.Context, j *job, n nodes.Node, req RetrieveRequest) error {
	a.rmu.Lock()
	if a.retrieves == nil {
		a.retrieves = map[string]RetrieveRequest{}
	}
	a.retrieves[j.v.ID] = req
	a.rmu.Unlock()
	cancel := make(chan struct{})
	go func() {
		<-ctx.Done()
		close(cancel)
	}()
	// ctx cancellation must reach the peer as C-CANCEL, not as a dropped
	// association: the exchange itself runs on a context that outlives it.
	xctx := context.WithoutCancel(ctx)
	// Bytes come from one aggregate query of the store, at most 4 times a
	// second (a pending response may come per instance).
	var bytesAt time.Time
	var bytes int64
	onPending := func(p qr.Progress) {
		if time.Since(bytesAt) > 250*time.Millisecond {
			bytesAt = time.Now()
			if t, err := a.store.Count(a.ctx, req.StudyUID, req.SeriesUID); err == nil {
				bytes = t.Bytes
			}
		}
		j.update(func(v *Job) {
			v.Total = p.Remaining + p.Completed + p.Failed + p.Warning
			v.Done = p.Completed + p.Warning
			v.Failed = p.Failed
			v.Bytes = bytes
		})
	}
	r := qr.RetrieveRequest{StudyUID: req.StudyUID, SeriesUID: req.SeriesUID}
	var res qr.RetrieveResult
	var err error
	t := a.target(n)
	if n.Retrieve == nodes.CMove {
		if err := a.ensureMoveListener(n.LocalPort); err != nil {
			return err
		}
		res, err = qr.Move(xctx, t, r, a.GetSettings().AETitle, onPending, cancel)
	} else {
		scp := storage.NewSCP(a.store, nil, a.log)
		scp.PeerIsCalled = true // sub-operations come from the PACS we called
		res, err = qr.Get(xctx, t, r, a.sopClassesOf(xctx, t, req), scp, onPending, cancel)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errStopped, err)
	}
	if t, err := a.store.Count(a.ctx, req.StudyUID, req.SeriesUID); err == nil {
		bytes = t.Bytes
	}
	j.update(func(v *Job) {
		v.Bytes = bytes
		v.Done, v.Failed = res.Completed+res.Warning, res.Failed
		if v.Total < v.Done+v.Failed {
			v.Total = v.Done + v.Failed
		}
		v.Message = "PACS answered " + res.Status.String()
		if res.ErrorComment != "" {
			v.Message += ": " + res.ErrorComment
		}
	})
	switch {
	case res.Status == dimse.StatusCancel:
		return context.Canceled
	case res.Status == dimse.StatusMoveDestinationUnknown || (n.Retrieve == nodes.CMove && res.Status.Class() == dimse.ClassFailure && res.Completed == 0):
		return fmt.Errorf("the PACS would not send to %q (%s). It must know Lightbox as a DICOM node: AE title %q, this computer's address, port %d",
			a.GetSettings().AETitle, res.Status, a.GetSettings().AETitle, a.movePort(n))
	case res.Status.Class() == dimse.ClassFailure:
		return fmt.Errorf("the PACS answered %s (%s)", res.Status, res.ErrorComment)
	}
	// Orthanc may answer before the last C-STORE has arrived: wait for the
	// store to hold what the PACS says it sent.
	if n.Retrieve == nodes.CMove && res.Completed > 0 {
		deadline := time.Now().Add(15 * time.Second)
		for wait := 2 * time.Millisecond; a.studyCount(req) < res.Completed+res.Warning && time.Now().Before(deadline); wait = min(2*wait, 100*time.Millisecond) {
			time.Sleep(wait) // the last objects are usually a few ms away
		}
		if got := a.studyCount(req); got < res.Completed+res.Warning {
			return fmt.Errorf("the PACS reports %d instances sent, but only %d are in the local store", res.Completed+res.Warning, got)
		}
	}
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d instances failed", res.Failed, res.Failed+res.Completed+res.Warning)
	}
	return nil
}

// sopClassesOf asks the node which storage classes the study holds (see
// qr.StorageClasses), so that C-GET proposes exactly those; nil on any
// failure (Get then proposes its default set).
func (a *App) sopClassesOf(ctx context.Context, t qr.Target, req RetrieveRequest) []string {
	qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := qr.StorageClasses(qctx, t, qr.RetrieveRequest{StudyUID: req.StudyUID, SeriesUID: req.SeriesUID})
	if err != nil {
		return nil
	}
	return out
}

// studyCount is how many instances of what req retrieves are in the store.
func (a *App) studyCount(req RetrieveRequest) int {
	t, _ := a.store.Count(a.ctx, req.StudyUID, req.SeriesUID)
	return t.Instances
}

func (a *App) movePort(n nodes.Node) int {
	if n.LocalPort != 0 {
		return n.LocalPort
	}
	return a.GetSettings().Port
}

// ensureMoveListener makes sure a Storage SCP listens on a node's local
// port (0 or the main port: the main listener).
func (a *App) ensureMoveListener(port int) error {
	if port == 0 || port == a.GetSettings().Port {
		if a.dicom == nil {
			return errors.New("the DICOM listener is not running, so C-MOVE results cannot arrive")
		}
		return nil
	}
	a.rmu.Lock()
	defer a.rmu.Unlock()
	if a.extra == nil {
		a.extra = map[int]bool{}
	}
	if a.extra[port] {
		return nil
	}
	if a.dicom == nil {
		return errors.New("the DICOM listener is not running, so C-MOVE results cannot arrive")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("C-MOVE results cannot arrive on port %d: %w", port, err)
	}
	a.extra[port] = true
	go a.dicom.srv.Serve(a.ctx, ln)
	a.log.Info("dicom: extra listener for C-MOVE results", "port", port)
	return nil
}
