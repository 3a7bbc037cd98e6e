package testutil

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
)

// Wheel describes a wheel for a test to write. Name and Version are written
// as given; Tags default to ["py3-none-any"].
type Wheel struct {
	Name           string
	Version        string
	Tags           []string // e.g. "cp312-cp312-manylinux_2_17_x86_64"
	Build          string   // optional build tag
	RequiresDist   []string
	RequiresPython string
	ProvidesExtra  []string
	// Files maps paths inside the wheel (e.g. "pkg/__init__.py",
	// "pkg-1.0.data/scripts/tool") to their contents.
	Files map[string][]byte
	// ExtraMetadata is appended to METADATA verbatim.
	ExtraMetadata string
	// Raw, when set, replaces the generated RECORD handling: no RECORD is
	// written unless Files has one.
	NoRecord bool
}

// Filename returns the wheel's file name per PEP 427.
func (w Wheel) Filename() string {
	tags := w.Tags
	if len(tags) == 0 {
		tags = []string{"py3-none-any"}
	}
	// Compress tags sharing interpreter/abi/platform positions naively: the
	// caller passes one tag per wheel in most tests; several tags are joined
	// position-wise with '.'.
	var py, abi, plat []string
	seen := [3]map[string]bool{{}, {}, {}}
	for _, t := range tags {
		p := strings.SplitN(t, "-", 3)
		for i, part := range p {
			if !seen[i][part] {
				seen[i][part] = true
				switch i {
				case 0:
					py = append(py, part)
				case 1:
					abi = append(abi, part)
				case 2:
					plat = append(plat, part)
				}
			}
		}
	}
	dist := strings.ReplaceAll(w.Name, "-", "_")
	parts := []string{dist, w.Version}
	if w.Build != "" {
		parts = append(parts, w.Build)
	}
	parts = append(parts, strings.Join(py, "."), strings.Join(abi, "."), strings.Join(plat, "."))
	return strings.Join(parts, "-") + ".whl"
}

// DistInfo returns the wheel's .dist-info folder name.
func (w Wheel) DistInfo() string {
	return strings.ReplaceAll(w.Name, "-", "_") + "-" + w.Version + ".dist-info"
}

// Metadata returns the METADATA file's text.
func (w Wheel) Metadata() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n", w.Name, w.Version)
	if w.RequiresPython != "" {
		fmt.Fprintf(&b, "Requires-Python: %s\n", w.RequiresPython)
	}
	for _, e := range w.ProvidesExtra {
		fmt.Fprintf(&b, "Provides-Extra: %s\n", e)
	}
	for _, r := range w.RequiresDist {
		fmt.Fprintf(&b, "Requires-Dist: %s\n", r)
	}
	b.WriteString(w.ExtraMetadata)
	return b.String()
}

// Bytes returns the wheel as a zip, with METADATA, WHEEL and a correct
// RECORD (unless NoRecord or Files supplies its own).
func (w Wheel) Bytes() []byte {
	tags := w.Tags
	if len(tags) == 0 {
		tags = []string{"py3-none-any"}
	}
	files := map[string][]byte{}
	for k, v := range w.Files {
		files[k] = v
	}
	di := w.DistInfo()
	files[di+"/METADATA"] = []byte(w.Metadata())
	purelib := "true"
	for _, t := range tags {
		if !strings.HasSuffix(t, "-any") {
			purelib = "false"
		}
	}
	var wheel strings.Builder
	fmt.Fprintf(&wheel, "Wheel-Version: 1.0\nGenerator: lambdapack-testutil\nRoot-Is-Purelib: %s\n", purelib)
	for _, t := range tags {
		fmt.Fprintf(&wheel, "Tag: %s\n", t)
	}
	if w.Build != "" {
		fmt.Fprintf(&wheel, "Build: %s\n", w.Build)
	}
	files[di+"/WHEEL"] = []byte(wheel.String())
	recordPath := di + "/RECORD"
	if _, ok := files[recordPath]; !ok && !w.NoRecord {
		var rec strings.Builder
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			sum := sha256.Sum256(files[p])
			fmt.Fprintf(&rec, "%s,sha256=%s,%d\n", p, base64.RawURLEncoding.EncodeToString(sum[:]), len(files[p]))
		}
		fmt.Fprintf(&rec, "%s,,\n", recordPath)
		files[recordPath] = []byte(rec.String())
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range paths {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p, Method: zip.Deflate})
		if err != nil {
			panic(err)
		}
		if _, err := f.Write(files[p]); err != nil {
			panic(err)
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
