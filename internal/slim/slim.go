package slim

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/names"
)

// File is one file of an artifact being slimmed.
type File struct {
	// Path is slash-separated, relative to the artifact's root
	// ("python/pkg/__init__.py").
	Path string
	Size int64
	// Open returns the content; needed for dist-info RECORD files (package
	// exclusion), .py files (the --slim import scan, --compile).
	Open func() (io.ReadCloser, error)
}

// Removed is a file slimming took out, and why.
type Removed struct {
	Path   string
	Size   int64
	Reason string
}

// Kept is a file or folder a pattern matched but slimming kept, and why.
type Kept struct {
	Path   string
	Reason string
}

// Result is what a slimming step did.
type Result struct {
	// Files are the files that stay, in their input order.
	Files   []File
	Removed []Removed
	Kept    []Kept
	// Notes are sentences for the user (what the runtime provides, names
	// that matched nothing).
	Notes []string
}

// Saved is the number of bytes the step removed.
func (r *Result) Saved() int64 {
	var n int64
	for _, x := range r.Removed {
		n += x.Size
	}
	return n
}

// FilesFromDir lists the regular files under root, sorted by path.
func FilesFromDir(root string) ([]File, error) {
	var out []File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("listing %s: %w", p, err)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("listing %s: %w", p, err)
		}
		out = append(out, File{Path: filepath.ToSlash(rel), Size: info.Size(), Open: func() (io.ReadCloser, error) { return os.Open(p) }})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func readFile(f File) ([]byte, error) {
	if f.Open == nil {
		return nil, fmt.Errorf("reading %s: no content", f.Path)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Path, err)
	}
	return b, nil
}

// RuntimeProvided are the distributions every Lambda Python runtime ships:
// a function that doesn't bundle them imports the runtime's copies.
var RuntimeProvided = []string{"boto3", "botocore", "s3transfer"}

// ExcludePackages removes the named distributions (any spelling; matched by
// canonical name): every file their dist-info RECORD lists, and the
// dist-info folder. Excluding one of RuntimeProvided adds a note that the
// runtime provides it (and that the others should go together). A name no
// installed distribution has gives a note, not an error; a distribution
// without a RECORD is an error (its files can't be told apart).
func ExcludePackages(files []File, exclude []string) (*Result, error) {
	want := map[string]string{} // canonical -> as given
	for _, n := range exclude {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !names.Valid(n) {
			return nil, fmt.Errorf("excluding package %q: not a valid distribution name", n)
		}
		want[names.Canonical(n)] = n
	}
	index := map[string]int{}
	for i, f := range files {
		index[f.Path] = i
	}
	drop := map[string]string{} // path -> reason
	found := map[string]bool{}
	for _, f := range files {
		dir, base := path.Split(f.Path)
		dir = strings.TrimSuffix(dir, "/")
		if base != "METADATA" || !strings.HasSuffix(dir, ".dist-info") {
			continue
		}
		stem := strings.TrimSuffix(path.Base(dir), ".dist-info")
		name, _, _ := strings.Cut(stem, "-")
		canon := names.Canonical(name)
		if _, ok := want[canon]; !ok {
			continue
		}
		found[canon] = true
		ri, ok := index[dir+"/RECORD"]
		if !ok {
			return nil, fmt.Errorf("excluding %s: %s has no RECORD, so its files can't be told apart; reinstall it from a wheel", want[canon], dir)
		}
		data, err := readFile(files[ri])
		if err != nil {
			return nil, fmt.Errorf("excluding %s: %w", want[canon], err)
		}
		root := path.Dir(dir)
		if root == "." {
			root = ""
		}
		reason := fmt.Sprintf("excluded package %s", want[canon])
		for _, p := range recordPaths(data) {
			drop[path.Clean(path.Join(root, p))] = reason
		}
		for _, g := range files {
			if strings.HasPrefix(g.Path, dir+"/") {
				drop[g.Path] = reason
			}
		}
	}
	// Bytecode caches of removed modules go with them.
	for _, f := range files {
		if _, ok := drop[f.Path]; ok {
			continue
		}
		if src, ok := pycSource(f.Path); ok {
			if r, ok := drop[src]; ok {
				drop[f.Path] = r
			}
		}
	}
	res := &Result{}
	for _, f := range files {
		if r, ok := drop[f.Path]; ok {
			res.Removed = append(res.Removed, Removed{Path: f.Path, Size: f.Size, Reason: r})
			continue
		}
		res.Files = append(res.Files, f)
	}
	var missing, provided []string
	for canon, given := range want {
		if !found[canon] {
			missing = append(missing, given)
		}
	}
	for _, n := range RuntimeProvided {
		if found[n] {
			provided = append(provided, n)
		}
	}
	sort.Strings(missing)
	if len(provided) > 0 {
		note := fmt.Sprintf("excluded %s: the Lambda runtime provides boto3, botocore and s3transfer, so the function imports the runtime's copies, whose versions AWS updates on its own schedule", strings.Join(provided, ", "))
		var left []string
		for _, n := range RuntimeProvided {
			if !found[n] && hasDist(files, n) {
				left = append(left, n)
			}
		}
		if len(left) > 0 {
			note += fmt.Sprintf("; %s stays bundled and will shadow the runtime's copy: exclude boto3,botocore,s3transfer together", strings.Join(left, ", "))
		}
		res.Notes = append(res.Notes, note)
	}
	if len(missing) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("nothing to exclude for %s: not installed in the artifact", strings.Join(missing, ", ")))
	}
	return res, nil
}

func hasDist(files []File, canon string) bool {
	for _, f := range files {
		dir, base := path.Split(f.Path)
		dir = strings.TrimSuffix(dir, "/")
		if base == "METADATA" && strings.HasSuffix(dir, ".dist-info") {
			name, _, _ := strings.Cut(strings.TrimSuffix(path.Base(dir), ".dist-info"), "-")
			if names.Canonical(name) == canon {
				return true
			}
		}
	}
	return false
}

// recordPaths reads the paths of a RECORD file (PEP 376 CSV).
func recordPaths(data []byte) []string {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rows, err := r.ReadAll()
	if err != nil {
		var out []string
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if p, _, _ := strings.Cut(sc.Text(), ","); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	var out []string
	for _, row := range rows {
		if len(row) > 0 && row[0] != "" {
			out = append(out, row[0])
		}
	}
	return out
}

// pycSource maps "pkg/__pycache__/mod.cpython-312.pyc" to "pkg/mod.py".
func pycSource(p string) (string, bool) {
	dir, base := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	if path.Base(dir) != "__pycache__" || !strings.HasSuffix(base, ".pyc") {
		return "", false
	}
	mod, _, _ := strings.Cut(base, ".")
	return path.Join(path.Dir(dir), mod+".py"), true
}
