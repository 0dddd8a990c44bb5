package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"lightbox/backend/nodes"
	"lightbox/backend/qr"
)

// Helpers for the CLI shell. They are functions, not methods, so that they
// are not part of the API that Wails binds.

// AddTransientNode adds a node for this process only (CLI --aec).
func AddTransientNode(a *App, n nodes.Node) error {
	if err := n.Normalize(); err != nil {
		return err
	}
	a.tmu.Lock()
	defer a.tmu.Unlock()
	if a.transient == nil {
		a.transient = map[string]nodes.Node{}
	}
	a.transient[strings.ToLower(n.Name)] = n
	return nil
}

// SetRetrieveMode forces C-GET ("get") or C-MOVE ("move") for a node in this process.
func SetRetrieveMode(a *App, name, mode string) error {
	n, err := a.node(name)
	if err != nil {
		return err
	}
	if mode == "move" {
		n.Retrieve = nodes.CMove
	} else {
		n.Retrieve = nodes.CGet
	}
	n.Name = name
	return AddTransientNode(a, n)
}

// FindSync runs a query to the end and returns every match and the final event.
func FindSync(a *App, req FindRequest) ([]qr.Match, FindEvent, error) {
	var mu sync.Mutex
	var all []qr.Match
	done := make(chan FindEvent, 1)
	var id string
	idReady := make(chan struct{})
	prev := a.swapEmitter(EmitterFunc(func(name string, data any) {
		ev, ok := data.(FindEvent)
		if name != "find" || !ok {
			return
		}
		<-idReady
		if ev.ID != id {
			return
		}
		mu.Lock()
		all = append(all, ev.Matches...)
		mu.Unlock()
		if ev.Done {
			done <- ev
		}
	}))
	defer a.swapEmitter(prev)
	id, err := a.StartFind(req)
	close(idReady)
	if err != nil {
		return nil, FindEvent{}, err
	}
	select {
	case ev := <-done:
		mu.Lock()
		defer mu.Unlock()
		return all, ev, nil
	case <-a.ctx.Done():
		return nil, FindEvent{}, context.Canceled
	}
}

func (a *App) swapEmitter(e Emitter) Emitter {
	a.emu.Lock()
	defer a.emu.Unlock()
	prev := a.emitter
	a.emitter = e
	return prev
}

// pidFile records the process serving a data directory and its DICOM port.
func pidFile(a *App) string { return filepath.Join(a.cfg.DataDir, "serving.pid") }

// MarkServing records that this process serves the data directory.
func MarkServing(a *App) func() {
	p := pidFile(a)
	os.WriteFile(p, []byte(fmt.Sprintf("%d %d\n", os.Getpid(), a.GetSettings().Port)), 0o644)
	return func() { os.Remove(p) }
}

// ServingElsewhere reports whether another live process serves the data
// directory (its listener then receives C-MOVE results), and its port.
func ServingElsewhere(a *App) (bool, int) {
	b, err := os.ReadFile(pidFile(a))
	if err != nil {
		return false, 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return false, 0
	}
	pid, _ := strconv.Atoi(f[0])
	port, _ := strconv.Atoi(f[1])
	if pid <= 0 || pid == os.Getpid() || syscall.Kill(pid, 0) != nil {
		return false, 0
	}
	return true, port
}
