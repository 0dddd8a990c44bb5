// Package nodes holds the remote DICOM nodes (AEs) of the conformance
// statement, kept in nodes.xml in the data directory.
//
// Loading is strict: an unknown element, a missing or bad value is an error
// that names the line. Saving is atomic (temp file, fsync, rename): a failed
// save leaves the previous file as it was. A Book is safe for concurrent use.
package nodes

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"lightbox/backend/charset"
)

// Retrieve modes.
const (
	CGet  = "C-GET"
	CMove = "C-MOVE"
)

// Node is one remote AE.
type Node struct {
	Name            string `json:"name" xml:"name"`
	AETitle         string `json:"aeTitle" xml:"aeTitle"`
	Host            string `json:"host" xml:"host"`
	Port            int    `json:"port" xml:"port"`
	Encoding        string `json:"encoding" xml:"encoding"`               // character set of query keys
	Retrieve        string `json:"retrieve" xml:"retrieve"`               // C-GET or C-MOVE
	LocalPort       int    `json:"localPort" xml:"localPort"`             // where C-MOVE results arrive (0: the main listener)
	MaxAssociations int    `json:"maxAssociations" xml:"maxAssociations"` // parallel associations to this node
	AssumeCharset   string `json:"assumeCharset" xml:"assumeCharset"`     // for its objects without (0008,0005)
	Description     string `json:"description" xml:"description"`
}

// Addr is host:port.
func (n Node) Addr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

// ErrInvalid wraps every validation and parse error.
var ErrInvalid = errors.New("invalid node list")

// ValidateAETitle checks an AE title: 1-16 characters of the default
// repertoire, no backslash or control characters, not all spaces.
func ValidateAETitle(ae string) error {
	if len(ae) == 0 || len(ae) > 16 {
		return fmt.Errorf("AE title %q must have 1 to 16 characters", ae)
	}
	if strings.TrimSpace(ae) == "" {
		return errors.New("an AE title must not be all spaces")
	}
	for _, r := range ae {
		if r < 0x20 || r > 0x7E || r == '\\' {
			return fmt.Errorf("AE title %q may not contain %q", ae, r)
		}
	}
	return nil
}

// Normalize fills defaults and validates a node.
func (n *Node) Normalize() error {
	n.Name, n.AETitle, n.Host = strings.TrimSpace(n.Name), strings.TrimSpace(n.AETitle), strings.TrimSpace(n.Host)
	if n.Name == "" {
		n.Name = n.AETitle
	}
	if err := ValidateAETitle(n.AETitle); err != nil {
		return err
	}
	if n.Host == "" || strings.ContainsAny(n.Host, " /\\") {
		return fmt.Errorf("host %q is not an IP address or host name", n.Host)
	}
	if n.Port < 1 || n.Port > 65535 {
		return fmt.Errorf("port %d is not between 1 and 65535", n.Port)
	}
	if n.LocalPort < 0 || n.LocalPort > 65535 {
		return fmt.Errorf("local port %d is not between 0 and 65535", n.LocalPort)
	}
	if n.Encoding == "" {
		n.Encoding = "ISO_IR 192"
	}
	if !charset.Known(n.Encoding) {
		return fmt.Errorf("encoding %q is not a known character set", n.Encoding)
	}
	if _, _, err := charset.Encode(n.Encoding, ""); err != nil {
		return fmt.Errorf("encoding %q can be read but not written: query keys need a DICOM term such as ISO_IR 192", n.Encoding)
	}
	if n.AssumeCharset != "" && !charset.Known(n.AssumeCharset) {
		return fmt.Errorf("assumed character set %q is not known", n.AssumeCharset)
	}
	switch strings.ToUpper(strings.ReplaceAll(n.Retrieve, "_", "-")) {
	case "", "C-GET", "CGET", "GET":
		n.Retrieve = CGet
	case "C-MOVE", "CMOVE", "MOVE":
		n.Retrieve = CMove
	default:
		return fmt.Errorf("retrieve mode %q is neither C-GET nor C-MOVE", n.Retrieve)
	}
	if n.MaxAssociations == 0 {
		n.MaxAssociations = 2
	}
	if n.MaxAssociations < 1 || n.MaxAssociations > 32 {
		return fmt.Errorf("max associations %d is not between 1 and 32", n.MaxAssociations)
	}
	return nil
}

// Parse reads a node list strictly.
func Parse(r io.Reader) ([]Node, error) {
	d := xml.NewDecoder(r)
	line := func() int { l, _ := d.InputPos(); return l }
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: line %d: %s", ErrInvalid, line(), fmt.Sprintf(format, a...))
	}
	var out []Node
	depth := 0
	var cur *Node
	var field string
	var text strings.Builder
	seen := map[string]bool{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fail("%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				if t.Name.Local != "nodes" {
					return nil, fail("the root element must be <nodes>, not <%s>", t.Name.Local)
				}
			case 2:
				if t.Name.Local != "node" {
					return nil, fail("unknown element <%s> (expected <node>)", t.Name.Local)
				}
				cur = &Node{}
				seen = map[string]bool{}
			case 3:
				if !knownField(t.Name.Local) {
					return nil, fail("unknown element <%s> in <node>", t.Name.Local)
				}
				if seen[t.Name.Local] {
					return nil, fail("<%s> given twice", t.Name.Local)
				}
				seen[t.Name.Local] = true
				field = t.Name.Local
				text.Reset()
			default:
				return nil, fail("unexpected element <%s>", t.Name.Local)
			}
		case xml.CharData:
			if depth == 3 {
				text.Write(t)
			} else if strings.TrimSpace(string(t)) != "" {
				return nil, fail("unexpected text %q", strings.TrimSpace(string(t)))
			}
		case xml.EndElement:
			switch depth {
			case 3:
				if err := setField(cur, field, strings.TrimSpace(text.String())); err != nil {
					return nil, fail("<%s>: %v", field, err)
				}
			case 2:
				for _, req := range []string{"aeTitle", "host", "port"} {
					if !seen[req] {
						return nil, fail("<node> without <%s>", req)
					}
				}
				if err := cur.Normalize(); err != nil {
					return nil, fail("node %q: %v", cur.Name, err)
				}
				for _, o := range out {
					if strings.EqualFold(o.Name, cur.Name) {
						return nil, fail("two nodes are named %q", cur.Name)
					}
				}
				out = append(out, *cur)
			}
			depth--
		}
	}
	return out, nil
}

func knownField(name string) bool {
	switch name {
	case "name", "aeTitle", "host", "port", "encoding", "retrieve", "localPort", "maxAssociations", "assumeCharset", "description":
		return true
	}
	return false
}

func setField(n *Node, field, v string) error {
	num := func() (int, error) {
		i, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", v)
		}
		return i, nil
	}
	var err error
	switch field {
	case "name":
		n.Name = v
	case "aeTitle":
		n.AETitle = v
	case "host":
		n.Host = v
	case "port":
		n.Port, err = num()
	case "encoding":
		n.Encoding = v
	case "retrieve":
		n.Retrieve = v
	case "localPort":
		n.LocalPort, err = num()
	case "maxAssociations":
		n.MaxAssociations, err = num()
	case "assumeCharset":
		n.AssumeCharset = v
	case "description":
		n.Description = v
	}
	return err
}

// Marshal writes a node list as XML.
func Marshal(list []Node) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<nodes>\n")
	for _, n := range list {
		b.WriteString("  <node>\n")
		field := func(name, v string) {
			if v == "" {
				return
			}
			b.WriteString("    <" + name + ">")
			xml.EscapeText(&b, []byte(v))
			b.WriteString("</" + name + ">\n")
		}
		field("name", n.Name)
		field("aeTitle", n.AETitle)
		field("host", n.Host)
		field("port", strconv.Itoa(n.Port))
		field("encoding", n.Encoding)
		field("retrieve", n.Retrieve)
		if n.LocalPort != 0 {
			field("localPort", strconv.Itoa(n.LocalPort))
		}
		field("maxAssociations", strconv.Itoa(n.MaxAssociations))
		field("assumeCharset", n.AssumeCharset)
		field("description", n.Description)
		b.WriteString("  </node>\n")
	}
	b.WriteString("</nodes>\n")
	return b.Bytes()
}

// Book is the node list of a data directory.
type Book struct {
	path string
	mu   sync.RWMutex
	list []Node
}

// Open loads path (a missing file is an empty list).
func Open(path string) (*Book, error) {
	b := &Book{path: path}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	list, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b.list = list
	return b, nil
}

// List returns the nodes, sorted by name.
func (b *Book) List() []Node {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := append([]Node(nil), b.list...)
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out
}

// Get finds a node by name (case-insensitive) or AE title.
func (b *Book) Get(name string) (Node, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, n := range b.list {
		if strings.EqualFold(n.Name, name) {
			return n, true
		}
	}
	for _, n := range b.list {
		if n.AETitle == name {
			return n, true
		}
	}
	return Node{}, false
}

// Put adds or replaces (by oldName, or by its own name) a node and saves.
func (b *Book) Put(oldName string, n Node) (Node, error) {
	if err := n.Normalize(); err != nil {
		return Node{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	list := make([]Node, 0, len(b.list)+1)
	for _, o := range b.list {
		if (oldName != "" && strings.EqualFold(o.Name, oldName)) || strings.EqualFold(o.Name, n.Name) {
			continue
		}
		list = append(list, o)
	}
	list = append(list, n)
	if err := b.save(list); err != nil {
		return Node{}, err
	}
	b.list = list
	return n, nil
}

// Delete removes a node and saves.
func (b *Book) Delete(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	list := make([]Node, 0, len(b.list))
	for _, o := range b.list {
		if !strings.EqualFold(o.Name, name) {
			list = append(list, o)
		}
	}
	if len(list) == len(b.list) {
		return fmt.Errorf("no node named %q", name)
	}
	if err := b.save(list); err != nil {
		return err
	}
	b.list = list
	return nil
}

// save writes the list atomically. Caller holds mu.
func (b *Book) save(list []Node) error {
	dir := filepath.Dir(b.path)
	tmp, err := os.CreateTemp(dir, ".nodes-*.xml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(Marshal(list)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), b.path)
}

// AETitles returns the AE titles of every node (for the SCP allow-list).
func (b *Book) AETitles() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]string, 0, len(b.list))
	for _, n := range b.list {
		out = append(out, n.AETitle)
	}
	return out
}
