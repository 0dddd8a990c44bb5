package app

import (
	"fmt"
	"path/filepath"
	"strings"

	"lightbox/backend/nodes"
)

// NodeList answers ListNodes: the nodes, or why nodes.xml could not be read
// (then the file is left untouched and saving is refused until it is fixed).
type NodeList struct {
	Nodes []nodes.Node `json:"nodes"`
	Path  string       `json:"path"`
	Error string       `json:"error,omitempty"`
}

func (a *App) openNodes() {
	path := filepath.Join(a.cfg.DataDir, "nodes.xml")
	b, err := nodes.Open(path)
	if err != nil {
		a.log.Error("nodes: cannot load the node list; it is kept as it is", "err", err)
		a.nodesErr = err
		b, _ = nodes.Open(filepath.Join(a.cfg.DataDir, "nodes.xml.missing-on-purpose"))
	}
	a.nodes = b
	a.knownAEs = b.AETitles
}

// ListNodes lists the remote nodes.
func (a *App) ListNodes() NodeList {
	l := NodeList{Nodes: a.nodes.List(), Path: filepath.Join(a.cfg.DataDir, "nodes.xml")}
	if a.nodesErr != nil {
		l.Error = a.nodesErr.Error()
	}
	if l.Nodes == nil {
		l.Nodes = []nodes.Node{}
	}
	return l
}

// SaveNode adds a node, or replaces the one named oldName.
func (a *App) SaveNode(oldName string, n nodes.Node) (nodes.Node, error) {
	if a.nodesErr != nil {
		return nodes.Node{}, fmt.Errorf("nodes.xml could not be read, so it is not overwritten: fix it first (%v)", a.nodesErr)
	}
	saved, err := a.nodes.Put(oldName, n)
	if err == nil {
		a.applySettings(a.GetSettings()) // the SCP allow-list follows the node list
	}
	return saved, err
}

// DeleteNode removes a node.
func (a *App) DeleteNode(name string) error {
	if a.nodesErr != nil {
		return fmt.Errorf("nodes.xml could not be read, so it is not overwritten: fix it first (%v)", a.nodesErr)
	}
	if err := a.nodes.Delete(name); err != nil {
		return err
	}
	a.applySettings(a.GetSettings())
	return nil
}

// EchoNode sends a C-ECHO to a configured node.
func (a *App) EchoNode(name string) (EchoResult, error) {
	n, ok := a.nodes.Get(name)
	if !ok {
		return EchoResult{}, fmt.Errorf("no node named %q", name)
	}
	return a.echo(n.AETitle, n.Addr(), 10), nil
}

// node resolves a node by name for the services.
func (a *App) node(name string) (nodes.Node, error) {
	a.tmu.Lock()
	t, ok := a.transient[strings.ToLower(name)]
	a.tmu.Unlock()
	if ok {
		return t, nil
	}
	n, ok := a.nodes.Get(name)
	if !ok {
		return nodes.Node{}, fmt.Errorf("no node named %q (see Nodes)", name)
	}
	return n, nil
}
