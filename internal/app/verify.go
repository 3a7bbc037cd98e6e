package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// VerifyOptions are the inputs of `lambdapack verify`.
type VerifyOptions struct {
	// Path is a layer zip, a function zip or a folder.
	Path string
	// Runtime is the Lambda runtime ("python3.12"). "" takes the runtimes
	// from the zip's lambdapack record (its archive comment), every one it
	// lists; without a record it is an error.
	Runtime string
	// Arch is "arm64" or "x86_64" (aliases accepted). "" takes the record's
	// architecture, else x86_64.
	Arch string
	// Kind is "layer", "function" or "" (inferred).
	Kind string
	// With are the other parts of the deployment for the size budget: each
	// a size ("12345", "40MB", "12.5MiB") or a zip file or folder.
	With []string
	JSON bool
	// Verbose lists every finding in the text report; otherwise findings
	// of one rule and package are grouped.
	Verbose bool
	Strict  bool
}

// VerifyResult is what Verify found: one report per target.
type VerifyResult struct {
	Reports []*verify.Report
	// FromRecord says the runtime or architecture came from the zip's
	// lambdapack record rather than flags.
	FromRecord bool
}

// Failed reports whether any target's verification fails.
func (r *VerifyResult) Failed(strict bool) bool {
	for _, rep := range r.Reports {
		if rep.Failed(strict) {
			return true
		}
	}
	return false
}

// verifyTargets picks the targets: flags first, then the zip's record
// (internal/record), then x86_64 for the architecture. notes are lines
// for the text report saying where the target came from. kind is the
// record's layer or function kind ("" without one), which verify checks
// against unless --kind says otherwise: a function whose code is a package
// (app/handler.py, no top-level .py file) would be inferred a layer.
func verifyTargets(opts VerifyOptions) (ts []target.Target, kind verify.Kind, fromRecord bool, notes []string, err error) {
	var rec record.Record
	recErr := record.ErrNone
	if fi, statErr := os.Stat(opts.Path); statErr == nil && fi.Mode().IsRegular() {
		rec, recErr = record.ReadZip(opts.Path)
	}
	hasRec := recErr == nil
	if hasRec && (rec.Kind == record.KindLayer || rec.Kind == record.KindFunction) {
		kind = verify.Kind(rec.Kind)
	}
	runtimes := []string{opts.Runtime}
	rtFromRec, archFromRec := false, false
	if opts.Runtime == "" {
		if hasRec {
			runtimes = rec.CompatibleRuntimes()
		}
		if len(runtimes) == 0 || runtimes[0] == "" {
			why := "it carries no lambdapack record of the runtime it was built for"
			switch {
			case hasRec:
				why = "its lambdapack record names no runtime"
			case !errors.Is(recErr, record.ErrNone):
				why = fmt.Sprintf("its lambdapack record could not be read (%v)", recErr)
			}
			return nil, "", false, nil, fmt.Errorf("verify %s: --runtime is required: %s; pass the runtime to check against, for example --runtime python3.12", opts.Path, why)
		}
		rtFromRec = true
	}
	archs := []string{opts.Arch}
	if opts.Arch == "" {
		switch {
		case hasRec && rec.Architecture != "":
			archs = []string{rec.Architecture}
			archFromRec = true
		case hasRec && len(rec.CompatibleArchitectures()) > 0:
			archs = rec.CompatibleArchitectures()
			archFromRec = true
		default:
			archs = []string{string(target.X86_64)}
		}
	}
	fromRecord = rtFromRec || archFromRec
	for _, rt := range runtimes {
		for _, a := range archs {
			t, err := target.New(rt, a)
			if err != nil {
				if fromRecord {
					return nil, "", false, nil, fmt.Errorf("verify %s: the zip's lambdapack record names %s/%s: %w; pass --runtime and --arch", opts.Path, rt, a, err)
				}
				return nil, "", false, nil, fmt.Errorf("verify: %w", err)
			}
			ts = append(ts, t)
		}
	}
	switch {
	case rtFromRec && archFromRec:
		var names []string
		for _, t := range ts {
			names = append(names, t.String())
		}
		what := "target"
		if len(ts) > 1 {
			what = "targets"
		}
		notes = append(notes, fmt.Sprintf("%s from the zip's record: %s", what, strings.Join(names, ", ")))
	case rtFromRec:
		notes = append(notes, fmt.Sprintf("runtime from the zip's record: %s", strings.Join(runtimes, ", ")))
	case archFromRec:
		notes = append(notes, fmt.Sprintf("architecture from the zip's record: %s", strings.Join(archs, ", ")))
	}
	if hasRec && opts.Runtime != "" {
		if rts := rec.CompatibleRuntimes(); len(rts) > 0 && !slices.Contains(rts, opts.Runtime) {
			notes = append(notes, fmt.Sprintf("note: the zip's record says it was built for %s; checking %s as asked", strings.Join(rts, ", "), opts.Runtime))
		}
	}
	if hasRec && opts.Arch != "" && len(ts) > 0 {
		if as := rec.CompatibleArchitectures(); len(as) > 0 && !slices.Contains(as, string(ts[0].Arch)) {
			notes = append(notes, fmt.Sprintf("note: the zip's record says it was built for %s; checking %s as asked", strings.Join(as, ", "), ts[0].Arch))
		}
	}
	return ts, kind, fromRecord, notes, nil
}

// Verify checks an artifact for each target (the flags', or those the zip's
// record names) and writes the reports (text or JSON) to out; the caller
// turns res.Failed(opts.Strict) into the exit code. JSON is the report
// object for one target and an array of them for several.
func Verify(ctx context.Context, opts VerifyOptions, out io.Writer) (*VerifyResult, error) {
	ts, recKind, fromRecord, notes, err := verifyTargets(opts)
	if err != nil {
		return nil, err
	}
	kind, err := verify.ParseKind(opts.Kind)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if kind == verify.KindAuto && recKind != verify.KindAuto {
		kind = recKind
		notes = append(notes, fmt.Sprintf("kind from the zip's record: %s (--kind to override)", kind))
	}
	var with []verify.Extra
	for _, w := range opts.With {
		e, err := ParseWith(ctx, w)
		if err != nil {
			return nil, err
		}
		with = append(with, e)
	}
	res := &VerifyResult{FromRecord: fromRecord}
	for _, t := range ts {
		rep, err := verify.Check(ctx, verify.PathSource(opts.Path), t, verify.Options{Kind: kind, With: with})
		if err != nil {
			return nil, err
		}
		res.Reports = append(res.Reports, rep)
	}
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		var v any = res.Reports
		if len(res.Reports) == 1 {
			v = res.Reports[0]
		}
		if err := enc.Encode(v); err != nil {
			return nil, fmt.Errorf("writing the report: %w", err)
		}
		return res, nil
	}
	var b strings.Builder
	for _, n := range notes {
		b.WriteString(n + "\n")
	}
	for i, rep := range res.Reports {
		if i > 0 {
			b.WriteString("\n")
		}
		if err := rep.WriteTextWith(&b, verify.TextOptions{Verbose: opts.Verbose}); err != nil {
			return nil, fmt.Errorf("writing the report: %w", err)
		}
	}
	if len(res.Reports) > 1 {
		var parts []string
		for _, rep := range res.Reports {
			v := "ok"
			if rep.Failed(opts.Strict) {
				v = "FAILED"
			}
			parts = append(parts, rep.Target+" "+v)
		}
		fmt.Fprintf(&b, "\nverified for %d targets: %s\n", len(res.Reports), strings.Join(parts, ", "))
	}
	if _, err := io.WriteString(out, b.String()); err != nil {
		return nil, fmt.Errorf("writing the report: %w", err)
	}
	return res, nil
}

var sizeRE = regexp.MustCompile(`^(?i)\s*([0-9]+(?:\.[0-9]+)?)\s*(b|kb|mb|gb|kib|mib|gib|k|m|g)?\s*$`)

// ParseSize reads a byte count: "262144000", "40MB" (10^6), "12.5MiB"
// (2^20), "1G" (10^9).
func ParseSize(s string) (int64, bool) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}[strings.ToLower(m[2])]
	return int64(n * mult), true
}

// ParseWith reads one --with value: an existing zip file or folder (its
// unzipped size, and its files for the library search) or a size.
func ParseWith(ctx context.Context, s string) (verify.Extra, error) {
	if _, err := os.Stat(s); err == nil {
		x, err := verify.ExtraFrom(ctx, s)
		if err != nil {
			return verify.Extra{}, fmt.Errorf("--with %s: %w", s, err)
		}
		return x, nil
	}
	if n, ok := ParseSize(s); ok {
		return verify.Extra{Name: s, Size: n}, nil
	}
	return verify.Extra{}, fmt.Errorf("--with %q: not a zip file or folder here, nor a size (like 40MB or 12345)", s)
}
