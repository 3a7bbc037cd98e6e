package publish

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/record"
)

// The artifact's record (what it was built for) is internal/record's: this
// file reads the other source of the same facts, a build report.

// union returns the distinct non-empty strings of in, sorted.
func union(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// readReport reads the runtime and architectures of the artifact at zipPath
// (matched by sha256, then by file name, then the only layer) from a report
// written by `lambdapack layer --json`:
// {"artifacts": [{"kind", "path", "sha256", "runtime", "architecture", "python", "pure", ...}]}.
// A pure artifact fits both architectures.
func readReport(reportPath, zipPath, sha256hex string) (record.Record, error) {
	data, err := os.ReadFile(reportPath)
	if err != nil {
		return record.Record{}, fmt.Errorf("reading the build report: %w", err)
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
		return record.Record{}, fmt.Errorf("parsing the build report %s: %w", reportPath, err)
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
		return record.Record{}, fmt.Errorf("the build report %s names no artifact with sha256 %s or file name %s: pass --runtime and --arch", reportPath, sha256hex, baseName(zipPath))
	}
	a := rep.Artifacts[pick]
	c := record.Record{Runtime: a.Runtime, Runtimes: a.Runtimes, Architecture: a.Architecture,
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
