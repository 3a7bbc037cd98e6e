package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// VerifyOptions are the inputs of `lambdapack verify`.
type VerifyOptions struct {
	// Path is a layer zip, a function zip or a folder.
	Path    string
	Runtime string // "python3.12"
	Arch    string // "arm64", "x86_64" (aliases accepted); "" = x86_64
	// Kind is "layer", "function" or "" (inferred).
	Kind string
	// With are the other parts of the deployment for the size budget: each
	// a size ("12345", "40MB", "12.5MiB") or a zip file or folder.
	With   []string
	JSON   bool
	Strict bool
}

// Verify checks an artifact, writes the report (text or JSON) to out, and
// returns it; the caller turns rep.Failed(opts.Strict) into the exit code.
func Verify(ctx context.Context, opts VerifyOptions, out io.Writer) (*verify.Report, error) {
	if opts.Runtime == "" {
		return nil, fmt.Errorf("verify: --runtime is required (for example --runtime python3.12)")
	}
	t, err := target.New(opts.Runtime, opts.Arch)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	kind, err := verify.ParseKind(opts.Kind)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	var with []verify.Extra
	for _, w := range opts.With {
		e, err := ParseWith(ctx, w)
		if err != nil {
			return nil, err
		}
		with = append(with, e)
	}
	rep, err := verify.Check(ctx, verify.PathSource(opts.Path), t, verify.Options{Kind: kind, With: with})
	if err != nil {
		return nil, err
	}
	if opts.JSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return nil, fmt.Errorf("writing the report: %w", err)
		}
		return rep, nil
	}
	if err := rep.WriteText(out); err != nil {
		return nil, fmt.Errorf("writing the report: %w", err)
	}
	return rep, nil
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
