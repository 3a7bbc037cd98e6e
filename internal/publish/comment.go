package publish

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
)

// CommentPrefix starts the archive comment lambdapack writes into the zips it
// builds; the rest of the comment is one line of JSON (see ZipComment).
const CommentPrefix = "lambdapack: "

// maxZipComment is the zip format's limit on the archive comment's length.
const maxZipComment = 65535

// ZipComment is the record of what an artifact was built for, kept in the
// zip's archive comment (not in a file, which would land in /opt or
// /var/task). Publishing reads it to default the compatible runtimes and
// architectures.
type ZipComment struct {
	// Runtime is the Lambda runtime the artifact was built for ("python3.12").
	Runtime string `json:"runtime,omitempty"`
	// Runtimes lists further runtimes it is compatible with, Runtime included
	// or not (publishing takes the union).
	Runtimes []string `json:"runtimes,omitempty"`
	// Architecture is the architecture it was built for ("x86_64" or "arm64").
	Architecture string `json:"architecture,omitempty"`
	// Architectures lists every architecture it fits, when more than one
	// (a layer of pure-Python wheels fits both).
	Architectures []string `json:"architectures,omitempty"`
	// Python is the Python version ("3.12").
	Python string `json:"python,omitempty"`
	// RequirementsSHA256 is the hex sha256 of the resolved requirements (the
	// lock), when the builder knows it.
	RequirementsSHA256 string `json:"requirements_sha256,omitempty"`
	// Version is the lambdapack version that built the artifact.
	Version string `json:"version,omitempty"`
}

// FormatZipComment returns the archive comment for c: CommentPrefix followed
// by c as compact JSON, fields in a fixed order, so equal records give equal
// bytes (the zip stays reproducible).
func FormatZipComment(c ZipComment) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding the zip comment: %w", err)
	}
	s := CommentPrefix + string(b)
	if len(s) > maxZipComment {
		return "", fmt.Errorf("encoding the zip comment: %d bytes is over the zip format's %d", len(s), maxZipComment)
	}
	return s, nil
}

// ErrNoZipComment means the archive comment is empty or is not lambdapack's.
var ErrNoZipComment = errors.New("the zip has no lambdapack record in its comment")

// ParseZipComment parses an archive comment written by FormatZipComment. It
// returns ErrNoZipComment when the comment does not start with CommentPrefix.
func ParseZipComment(s string) (ZipComment, error) {
	var c ZipComment
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, CommentPrefix)
	if !ok {
		// Be lenient about the space after the colon.
		rest, ok = strings.CutPrefix(s, strings.TrimSpace(CommentPrefix))
		if !ok {
			return c, ErrNoZipComment
		}
	}
	if err := json.Unmarshal([]byte(rest), &c); err != nil {
		return c, fmt.Errorf("parsing the zip's lambdapack record %q: %w", truncate(rest, 120), err)
	}
	return c, nil
}

// ReadZipComment reads and parses the lambdapack record of the zip at path.
func ReadZipComment(path string) (ZipComment, error) {
	r, err := zip.OpenReader(path)
	if err != nil {
		return ZipComment{}, fmt.Errorf("opening %s as a zip: %w", path, err)
	}
	defer r.Close()
	c, err := ParseZipComment(r.Comment)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// CompatibleRuntimes returns the union of Runtime and Runtimes, sorted.
func (c ZipComment) CompatibleRuntimes() []string {
	return union(append([]string{c.Runtime}, c.Runtimes...))
}

// CompatibleArchitectures returns the union of Architecture and
// Architectures, sorted.
func (c ZipComment) CompatibleArchitectures() []string {
	return union(append([]string{c.Architecture}, c.Architectures...))
}

func union(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// readReport reads the runtime and architectures of the artifact at zipPath
// (matched by sha256, then by file name, then the only layer) from a report
// written by `lambdapack layer --json`:
// {"artifacts": [{"kind", "path", "sha256", "runtime", "architecture", "python", "pure", ...}]}.
// A pure artifact fits both architectures.
func readReport(reportPath, zipPath, sha256hex string) (ZipComment, error) {
	data, err := os.ReadFile(reportPath)
	if err != nil {
		return ZipComment{}, fmt.Errorf("reading the build report: %w", err)
	}
	var rep struct {
		Artifacts []struct {
			Kind               string   `json:"kind"`
			Path               string   `json:"path"`
			SHA256             string   `json:"sha256"`
			Runtime            string   `json:"runtime"`
			Runtimes           []string `json:"runtimes"`
			Architecture       string   `json:"architecture"`
			Architectures      []string `json:"architectures"`
			Python             string   `json:"python"`
			Pure               bool     `json:"pure"`
			RequirementsSHA256 string   `json:"requirements_sha256"`
		} `json:"artifacts"`
		RequirementsSHA256 string `json:"requirements_sha256"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		return ZipComment{}, fmt.Errorf("parsing the build report %s: %w", reportPath, err)
	}
	pick := -1
	for i, a := range rep.Artifacts {
		if strings.EqualFold(a.SHA256, sha256hex) {
			pick = i
			break
		}
	}
	if pick < 0 {
		for i, a := range rep.Artifacts {
			if a.Path != "" && baseName(a.Path) == baseName(zipPath) {
				pick = i
				break
			}
		}
	}
	if pick < 0 {
		layers := 0
		for i, a := range rep.Artifacts {
			if a.Kind == "" || a.Kind == "layer" {
				layers++
				pick = i
			}
		}
		if layers != 1 {
			pick = -1
		}
	}
	if pick < 0 {
		return ZipComment{}, fmt.Errorf("the build report %s names no artifact with sha256 %s or file name %s: pass --runtime and --arch", reportPath, sha256hex, baseName(zipPath))
	}
	a := rep.Artifacts[pick]
	c := ZipComment{Runtime: a.Runtime, Runtimes: a.Runtimes, Architecture: a.Architecture,
		Architectures: a.Architectures, Python: a.Python, RequirementsSHA256: a.RequirementsSHA256}
	if c.RequirementsSHA256 == "" {
		c.RequirementsSHA256 = rep.RequirementsSHA256
	}
	if a.Pure {
		c.Architectures = union(append(c.Architectures, "x86_64", "arm64"))
	}
	return c, nil
}

func baseName(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
