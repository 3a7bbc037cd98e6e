package app

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lambdapack/lambdapack/internal/target"
)

// TargetsOptions are the inputs of `lambdapack targets`.
type TargetsOptions struct {
	JSON bool
	// Tags prints the ordered wheel tag list of one target instead of the
	// runtime table: Runtime (and Arch), or a custom Python + Glibc.
	Tags    bool
	Runtime string // "python3.12"
	Arch    string // "arm64", "x86_64" (aliases accepted); "" = x86_64
	Python  string // custom target: "3.11" (with Glibc; not with Runtime)
	Glibc   string // custom target: "2.36"
	// Now dates the "(passed)" marks of the text table; zero means time.Now.
	Now time.Time
}

// TargetRow is one runtime in `lambdapack targets --json`.
type TargetRow struct {
	Runtime       string   `json:"runtime"`
	Python        string   `json:"python"`
	OS            string   `json:"os"`
	Glibc         string   `json:"glibc"`
	Architectures []string `json:"architectures"`
	Deprecated    string   `json:"deprecated"`
}

// TargetRows is the runtime table as `targets --json` prints it.
func TargetRows() []TargetRow {
	var rows []TargetRow
	for _, r := range target.Runtimes() {
		archs := make([]string, len(r.Architectures))
		for i, a := range r.Architectures {
			archs[i] = string(a)
		}
		rows = append(rows, TargetRow{r.Name, r.Python, r.OS, r.Glibc, archs, r.Deprecated})
	}
	return rows
}

// Targets writes the runtime table (or, with o.Tags, one target's ordered
// tag list) to out, as text or JSON.
func Targets(o TargetsOptions, out io.Writer) error {
	if o.Tags {
		return targetTags(o, out)
	}
	if o.Runtime != "" || o.Python != "" || o.Glibc != "" {
		return fmt.Errorf("targets: --runtime, --python and --glibc select a target for --tags; add --tags")
	}
	rows := TargetRows()
	if o.JSON {
		return targetsJSON(out, rows)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	today := now.UTC().Format("2006-01-02")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUNTIME\tPYTHON\tOS\tGLIBC\tARCHITECTURES\tDEPRECATED")
	for _, r := range rows {
		dep := r.Deprecated
		if dep <= today {
			dep += " (passed)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Runtime, r.Python, r.OS, r.Glibc, strings.Join(r.Architectures, ", "), dep)
	}
	return tw.Flush()
}

func targetTags(o TargetsOptions, out io.Writer) error {
	var (
		t   target.Target
		err error
	)
	switch {
	case o.Runtime != "" && (o.Python != "" || o.Glibc != ""):
		return fmt.Errorf("targets --tags: give either --runtime or --python with --glibc, not both")
	case o.Runtime != "":
		t, err = target.New(o.Runtime, o.Arch)
	case o.Python != "" && o.Glibc != "":
		arch := o.Arch
		if arch == "" {
			arch = string(target.X86_64)
		}
		t, err = target.Custom(o.Python, o.Glibc, arch)
	default:
		return fmt.Errorf("targets --tags: say which target: --runtime python3.12 [--arch arm64], or --python 3.11 --glibc 2.36 [--arch arm64]")
	}
	if err != nil {
		return fmt.Errorf("targets --tags: %w", err)
	}
	ts := t.Tags()
	strs := make([]string, len(ts))
	for i, x := range ts {
		strs[i] = x.String()
	}
	if o.JSON {
		return targetsJSON(out, strs)
	}
	_, err = io.WriteString(out, strings.Join(strs, "\n")+"\n")
	return err
}

func targetsJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
