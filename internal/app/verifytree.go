package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// CheckOptions say how a planned tree is verified.
type CheckOptions struct {
	// Name is where the artifact is going (a zip's path, an image
	// reference), for messages.
	Name string
	// Strict fails on warnings too; Force lets a failing tree through with
	// a note (its findings are returned); NoVerify skips the checks
	// (WriteTree only).
	Strict, Force, NoVerify bool
	// Layers are the built layers a function runs with, in order: the
	// handler may be in one, their files count toward the function's
	// budget and the libraries its binaries find, and each is verified for
	// the function's own target unless it was built for it.
	Layers []UsedLayer
	// ExternalLayers name the function's layers lambdapack cannot see (an
	// ARN, a parameter): a handler found nowhere is then a warning that
	// names them.
	ExternalLayers []string
}

// WriteTree hands a planned tree to any sink the way BuildArtifact does:
// verified first (unless o.NoVerify), and written only when verification
// passes (or o.Force), so a failed check writes nothing whatever the sink.
// The sink's summary goes to the run's log.
func WriteTree(ctx context.Context, env *Env, t *tree.Tree, sink tree.Sink, o CheckOptions) (*tree.Written, []verify.Finding, error) {
	var findings []verify.Finding
	if !o.NoVerify {
		var err error
		if findings, err = VerifyTree(ctx, env, t, o); err != nil {
			return nil, nil, err
		}
	}
	w, err := sink.Write(ctx, t)
	if err != nil {
		return nil, findings, err
	}
	if w.Summary != "" {
		env.logf("%s", w.Summary)
	}
	return w, findings, nil
}

// VerifyTree checks a planned tree before any sink writes it: each part's
// files against every target the part serves (ELF machine, glibc and
// symbol versions, libraries, Python ABI, wheel tags, sizes, layout), and
// for a function, with the layers it uses (o.Layers): its handler is in the
// tree or a layer (the handler rule), and each layer suits the function's
// target. A failure is a *VerifyError, unless o.Force, which notes it in
// the tree.
// It returns the problems found.
func VerifyTree(ctx context.Context, env *Env, t *tree.Tree, o CheckOptions) ([]verify.Finding, error) {
	name := filepath.Base(o.Name)
	if o.Name == "" {
		name = "artifact"
	}
	vopts := verify.Options{Kind: t.Record.Kind}
	if facts := env.factsFor(t); facts != nil {
		vopts.Facts = facts
	}
	var extras []verify.Extra
	if t.Record.Kind == KindFunction && len(o.Layers) > 0 {
		var err error
		if extras, err = layerExtras(ctx, o.Layers); err != nil {
			return nil, err
		}
		vopts.With = extras
	}
	var findings []verify.Finding
	for i, p := range t.Parts {
		entries := verifyEntries(t.PartFiles(i))
		for _, tg := range p.Targets {
			rep, err := verify.Check(ctx, verify.EntriesSource(name, entries), tg, vopts)
			if err != nil {
				return nil, fmt.Errorf("verifying %s: %w", o.Name, err)
			}
			if rep.Failed(o.Strict) && !o.Force {
				var b strings.Builder
				_ = rep.WriteText(&b)
				return nil, &VerifyError{Output: o.Name, Target: tg, Report: b.String(), Part: i, Findings: failing(rep.Findings, o.Strict)}
			}
			findings = append(findings, rep.Problems()...)
		}
	}
	// The checks of a function with its layers: the handler is there, and
	// the layers' files suit the function's own target. An image's
	// handler (its CMD) must be in it too, or Lambda fails at import.
	if t.Record.Kind == KindFunction || t.Record.Kind == record.KindImage {
		fs, err := env.checkFunction(ctx, t, o, extras)
		if err != nil {
			return nil, err
		}
		findings = append(findings, fs...)
	}
	if o.Force && hasErrors(findings, o.Strict) {
		t.Notes = append(t.Notes, "verification failed; written anyway because of --force")
	}
	return findings, nil
}

// verifyEntries are a tree's files as verify reads them. A zip member
// that no RECORD vouches for (a prebuilt zip's; a wheel's were checked
// against its RECORD by install, or are by the sink) is read whole, its
// CRC-32 and size checked, so a damaged or lying member is never copied
// into an artifact.
func verifyEntries(files []*tree.File) []verify.Entry {
	out := make([]verify.Entry, len(files))
	for i, f := range files {
		if f.Origin == tree.FromWheel && f.Member != nil && f.Digest == "" {
			out[i] = verify.MemberEntry(f.Path, f.Member)
			continue
		}
		out[i] = verify.Entry{Path: f.Path, Size: f.Size, Open: f.Open, Digest: f.Digest}
	}
	return out
}

func failing(fs []verify.Finding, strict bool) []verify.Finding {
	var out []verify.Finding
	for _, f := range fs {
		if f.Severity == verify.Error || strict && f.Severity == verify.Warning {
			out = append(out, f)
		}
	}
	return out
}

func hasErrors(fs []verify.Finding, strict bool) bool {
	for _, f := range fs {
		if f.Severity == verify.Error || strict && f.Severity == verify.Warning {
			return true
		}
	}
	return false
}

// VerifyError is an artifact that failed verification and was not written.
type VerifyError struct {
	Output string
	Target target.Target
	Report string
	// Part is the tree's part that failed for Target, and Findings what
	// failed (errors, and warnings when strict).
	Part     int
	Findings []verify.Finding
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("%s was not written: verification for %s found errors (fix them, or pass --force to write it anyway, --no-verify to skip the checks)\n%s", e.Output, e.Target, strings.TrimRight(e.Report, "\n"))
}
