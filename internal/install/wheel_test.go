package install

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// member is one file of a test wheel.
type member struct {
	name  string
	data  []byte
	mode  uint32 // unix mode with type bits; 0 means a 0644 regular file
	store bool
	flags uint16
}

// spec describes a test wheel, hostile or not.
type spec struct {
	name, version         string
	filename              string // default {name}-{version}-py3-none-any.whl
	metaName, metaVersion string // METADATA's; default name, version
	distInfo              string // default {name}-{version}.dist-info
	pure                  bool   // Root-Is-Purelib (default false here; set by pureSpec)
	members               []member
	// editRecord changes RECORD's rows (without the RECORD row) before
	// they are written.
	editRecord func(rows []string) []string
	// noRecord leaves RECORD out.
	noRecord bool
}

func (s spec) dist() string { return strings.ReplaceAll(s.name, "-", "_") }

func (s spec) fileName() string {
	if s.filename != "" {
		return s.filename
	}
	return s.dist() + "-" + s.version + "-py3-none-any.whl"
}

func (s spec) bytes(t testing.TB) []byte {
	t.Helper()
	di := s.distInfo
	if di == "" {
		di = s.dist() + "-" + s.version + ".dist-info"
	}
	mn, mv := s.metaName, s.metaVersion
	if mn == "" {
		mn = s.name
	}
	if mv == "" {
		mv = s.version
	}
	ms := append([]member{}, s.members...)
	has := func(n string) bool {
		for _, m := range ms {
			if m.name == n {
				return true
			}
		}
		return false
	}
	if !has(di + "/METADATA") {
		ms = append(ms, member{name: di + "/METADATA", data: fmt.Appendf(nil, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n\nDescription body: ignored\n", mn, mv)})
	}
	if !has(di + "/WHEEL") {
		ms = append(ms, member{name: di + "/WHEEL", data: fmt.Appendf(nil, "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: %v\nTag: py3-none-any\n", s.pure)})
	}
	var rows []string
	for _, m := range ms {
		if strings.HasSuffix(m.name, "/") {
			continue
		}
		sum := sha256.Sum256(m.data)
		rows = append(rows, fmt.Sprintf("%s,sha256=%s,%d", m.name, base64.RawURLEncoding.EncodeToString(sum[:]), len(m.data)))
	}
	if s.editRecord != nil {
		rows = s.editRecord(rows)
	}
	if !s.noRecord {
		rows = append(rows, di+"/RECORD,,")
		ms = append(ms, member{name: di + "/RECORD", data: []byte(strings.Join(rows, "\n") + "\n")})
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		fh := &zip.FileHeader{Name: m.name, Method: zip.Deflate, Flags: m.flags}
		if m.store || strings.HasSuffix(m.name, "/") {
			fh.Method = zip.Store
		}
		mode := m.mode
		if mode == 0 {
			mode = 0o100644
		}
		fh.CreatorVersion = 3 << 8
		fh.ExternalAttrs = mode << 16
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (s spec) write(t testing.TB, dir string) Wheel {
	t.Helper()
	p := filepath.Join(dir, s.fileName())
	if err := os.WriteFile(p, s.bytes(t), 0o644); err != nil {
		t.Fatal(err)
	}
	return Wheel{Path: p}
}

func file(name, data string) member { return member{name: name, data: []byte(data)} }
