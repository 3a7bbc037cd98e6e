package app

import (
	"encoding/json"
	"fmt"
	"github.com/lambdapack/lambdapack/internal/human"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes a report as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteArtifactText writes what a person reads after a build: the packages by
// unpacked size, the totals against Lambda's limits, notes and findings.
func WriteArtifactText(w io.Writer, r *ArtifactReport) error {
	pk := append([]PackageReport(nil), r.Packages...)
	sort.SliceStable(pk, func(i, j int) bool { return pk[i].Size > pk[j].Size })
	if len(pk) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PACKAGE\tVERSION\tUNPACKED")
		for _, p := range pk {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, p.Version, human.Bytes(p.Size))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	label := r.Path
	if r.Name != "" {
		label = r.Name + " (" + r.Path + ")"
	}
	archs := r.Architecture
	if r.Pure {
		archs = "x86_64 and arm64 (pure Python)"
	}
	fmt.Fprintf(w, "%s %s for %s on %s\n", strings.ToUpper(string(r.Kind[:1]))+string(r.Kind[1:]), label, runtimeLabel(r), archs)
	zipNote := "fits a direct upload"
	if r.Size > DirectUploadLimit {
		zipNote = "over the 50 MiB direct-upload limit: upload it through S3 (publish --bucket)"
	}
	fmt.Fprintf(w, "  zipped   %10s  (%s)\n", human.Bytes(r.Size), zipNote)
	fmt.Fprintf(w, "  unzipped %10s  (%.1f%% of Lambda's 262,144,000-byte limit for a function and its layers)\n",
		human.Bytes(r.UnzippedSize), 100*float64(r.UnzippedSize)/UnzippedLimit)
	fmt.Fprintf(w, "  sha256   %s\n", r.SHA256)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %s [%s] %s: %s\n", f.Severity, f.Rule, f.File, f.Message)
	}
	if r.Unchanged != nil && *r.Unchanged {
		fmt.Fprintf(w, "  unchanged: inputs are the same as the last build, artifact reused\n")
	} else {
		fmt.Fprintf(w, "  built in %.1fs\n", r.Seconds)
	}
	return nil
}

func runtimeLabel(r *ArtifactReport) string {
	if len(r.Runtimes) > 1 {
		return strings.Join(r.Runtimes, ", ")
	}
	if r.Runtime == "" {
		return "Python " + r.Python
	}
	return r.Runtime
}
