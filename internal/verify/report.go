package verify

import (
	"fmt"
	"io"
	"strings"
)

// Severity grades a finding.
type Severity string

const (
	// Error: the artifact will fail on Lambda (or be refused by it).
	Error Severity = "error"
	// Warning: likely wrong; fails verification only when strict.
	Warning Severity = "warning"
	// Info: a fact worth knowing (boto3 bundled, upload through S3).
	Info Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Error:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Rules name what a finding checked.
const (
	RuleArch           = "arch"            // ELF machine or class not the target's
	RuleForeignBinary  = "foreign-binary"  // Mach-O or PE where Linux loads code
	RuleGlibc          = "glibc"           // needs a newer GLIBC_x.y than the runtime has
	RuleSymbolVersions = "symbol-versions" // GLIBCXX / CXXABI / GCC beyond the manylinux policy
	RuleMissingLibrary = "missing-library" // DT_NEEDED neither provided nor shipped
	RulePythonABI      = "python-abi"      // extension module suffix for another Python or machine
	RuleWheelTag       = "wheel-tag"       // installed from a wheel the target doesn't accept
	RuleSize           = "size"            // unzipped budget
	RuleZipSize        = "zip-size"        // over the direct-upload limit
	RuleLayout         = "layout"          // python/ folders
	RuleBoto3          = "boto3"           // bundled or not
	RuleUnreadable     = "unreadable"      // a binary that could not be parsed
	RuleCorrupt        = "corrupt"         // a zip member whose bytes fail its CRC-32 or size
	RuleEmpty          = "empty"           // a layer or function with no file at all
)

// Finding is one problem or fact about one file.
type Finding struct {
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"`
	// File is the path inside the artifact ("" for the artifact as a whole).
	File string `json:"file"`
	// Package is the distribution the file came from ("MarkupSafe==2.1.5"),
	// from the dist-info RECORD files; "" when no RECORD lists it.
	Package string `json:"package"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// PackageSize is one distribution's share of the unzipped size.
type PackageSize struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Files   int    `json:"files"`
	Bytes   int64  `json:"bytes"`
}

// Report is the outcome of Check.
type Report struct {
	// Findings are sorted: errors, warnings, info; then by file.
	Findings []Finding `json:"findings"`
	Source   string    `json:"source"`
	Target   string    `json:"target"`
	// Kind is the artifact's kind, given or inferred (KindInferred).
	Kind         Kind   `json:"kind"`
	KindInferred bool   `json:"kind_inferred"`
	Policy       string `json:"policy"` // the manylinux policy binaries are held to
	Files        int    `json:"files"`
	Binaries     int    `json:"binaries"`
	// UnzippedBytes is the artifact's own files; WithBytes what --with
	// adds; TotalBytes their sum, held to LimitBytes.
	UnzippedBytes int64 `json:"unzipped_bytes"`
	WithBytes     int64 `json:"with_bytes"`
	TotalBytes    int64 `json:"total_bytes"`
	LimitBytes    int64 `json:"limit_bytes"`
	// ZipBytes is the compressed size, -1 when not known.
	ZipBytes    int64 `json:"zip_bytes"`
	BotoBundled bool  `json:"boto3_bundled"`
	// Packages are the largest distributions, largest first.
	Packages []PackageSize `json:"largest_packages"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
	Infos    int           `json:"infos"`
}

// Failed reports whether verification fails: on any error, or with strict
// on any warning too.
func (r *Report) Failed(strict bool) bool {
	return r.Errors > 0 || (strict && r.Warnings > 0)
}

// Problems returns the errors and warnings (info findings left out).
func (r *Report) Problems() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Severity != Info {
			out = append(out, f)
		}
	}
	return out
}

// TextOptions tune WriteTextWith.
type TextOptions struct {
	// Verbose lists every finding on its own. Otherwise findings of one
	// severity, rule and package (102 x86_64 binaries of numpy in an arm64
	// layer) are one entry with their count and the first file.
	Verbose bool
}

// WriteText writes the report for people: findings first (grouped by
// rule and package, see TextOptions), then sizes.
func (r *Report) WriteText(w io.Writer) error { return r.WriteTextWith(w, TextOptions{}) }

// groupKey is what grouped findings share.
type groupKey struct {
	sev       Severity
	rule, pkg string
}

// WriteTextWith writes the report for people, as WriteText, with options.
func (r *Report) WriteTextWith(w io.Writer, o TextOptions) error {
	var b strings.Builder
	kind := string(r.Kind)
	if r.KindInferred {
		kind += ", inferred; --kind to override"
	}
	fmt.Fprintf(&b, "verify %s for %s (%s)\n", r.Source, r.Target, kind)
	count := map[groupKey]int{}
	if !o.Verbose {
		for _, f := range r.Findings {
			count[groupKey{f.Severity, f.Rule, f.Package}]++
		}
	}
	done := map[groupKey]bool{}
	grouped := false
	for _, f := range r.Findings {
		k := groupKey{f.Severity, f.Rule, f.Package}
		if done[k] {
			continue
		}
		loc := f.File
		if loc == "" {
			loc = "(artifact)"
		}
		if n := count[k]; n > 1 {
			done[k] = true
			grouped = true
			of := ""
			if f.Package != "" {
				of = " of " + f.Package
			}
			loc = fmt.Sprintf("%d files%s, first %s", n, of, loc)
		} else if f.Package != "" {
			loc += " [" + f.Package + "]"
		}
		fmt.Fprintf(&b, "%-7s %s: %s\n", f.Severity, f.Rule, loc)
		fmt.Fprintf(&b, "        %s\n", f.Message)
		if f.Fix != "" {
			fmt.Fprintf(&b, "        fix: %s\n", f.Fix)
		}
	}
	if grouped {
		b.WriteString("(findings of one rule and package are grouped, with the first file's message; lambdapack verify -v lists every file)\n")
	}
	fmt.Fprintf(&b, "size: %s unzipped", bytesText(r.UnzippedBytes))
	if r.WithBytes > 0 {
		fmt.Fprintf(&b, " + %s from --with = %s", bytesText(r.WithBytes), bytesText(r.TotalBytes))
	}
	fmt.Fprintf(&b, " of %s (%.1f%%)", bytesText(r.LimitBytes), 100*float64(r.TotalBytes)/float64(r.LimitBytes))
	if r.ZipBytes >= 0 {
		fmt.Fprintf(&b, "; zip %s", bytesText(r.ZipBytes))
	}
	fmt.Fprintf(&b, "; %d %s, %d %s checked against %s\n", r.Files, plural(r.Files, "file"), r.Binaries, plural(r.Binaries, "binary"), r.Policy)
	if len(r.Packages) > 0 {
		b.WriteString("largest packages:")
		for i, p := range r.Packages {
			sep := ","
			if i == 0 {
				sep = ""
			}
			name := p.Name
			if p.Version != "" {
				name += " " + p.Version
			}
			fmt.Fprintf(&b, "%s %s %s", sep, name, mib(p.Bytes))
		}
		b.WriteString("\n")
	}
	verdict := "ok"
	if r.Errors > 0 {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "%s: %d %s, %d %s, %d info\n", verdict, r.Errors, plural(r.Errors, "error"), r.Warnings, plural(r.Warnings, "warning"), r.Infos)
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, s string) string {
	switch {
	case n == 1:
		return s
	case strings.HasSuffix(s, "y"):
		return strings.TrimSuffix(s, "y") + "ies"
	}
	return s + "s"
}

// bytesText prints a byte count with thousands separators.
func bytesText(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out) + " bytes"
	}
	return string(out) + " bytes"
}

func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
