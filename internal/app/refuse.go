package app

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// maxRefusalRounds bounds how often an artifact is planned again after
// verification refused wheels (each round refuses at least one more file).
const maxRefusalRounds = 8

// wheelRules are the verification rules that condemn a distribution's own
// files: when one of them fails, another file of the package may load.
var wheelRules = map[string]bool{
	"arch": true, "foreign-binary": true, "glibc": true, "symbol-versions": true,
	"missing-library": true, "python-abi": true, "wheel-tag": true, "unreadable": true, "corrupt": true,
}

// PlanVerified plans the tree and verifies it as BuildArtifact does, before
// any sink: pins, fetch, plan, verify. When verification refuses files of
// packages that were resolved (not read from a lock), each refused wheel
// (or the sdist a refused wheel was built from) is never chosen again for
// that target: the requirements are resolved again, taking the next file of
// the same version the target accepts, else another version, with a note
// naming what was refused and why. It fails only when what fails is not a
// package's file (a size limit, the function's code), the packages come
// from a lock, or no other choice is left. With o.NoVerify it plans
// without checking. Close the tree when its sink is done.
func PlanVerified(ctx context.Context, env *Env, o ArtifactOptions) (*tree.Tree, []verify.Finding, error) {
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	targets, err := env.targets(o)
	if err != nil {
		return nil, nil, err
	}
	return env.planVerified(ctx, o, targets, o.checkOptions())
}

// planVerified is PlanVerified on options already checked, verifying with
// co (a function's layers, an image's name); o.NoVerify skips the checks.
func (env *Env) planVerified(ctx context.Context, o ArtifactOptions, targets []target.Target, co CheckOptions) (*tree.Tree, []verify.Finding, error) {
	var refusedBy *VerifyError // the verification that refused files last
	for round := 0; ; round++ {
		parts, err := env.pinParts(ctx, o, targets)
		var ns *resolve.NoSolutionError
		if refusedBy != nil && errors.As(err, &ns) {
			// Nothing can replace what was refused: its report says most.
			return nil, nil, fmt.Errorf("%w\nno other file or version can replace what verification refused on %s", refusedBy, refusedBy.Target)
		}
		if err != nil {
			return nil, nil, err
		}
		budget, err := env.checkSizes(o, parts)
		if err != nil {
			return nil, nil, err
		}
		wheels, err := env.fetchParts(ctx, parts, budget...)
		if err != nil {
			return nil, nil, err
		}
		tr, err := env.planTree(ctx, o, parts, wheels)
		if err != nil {
			return nil, nil, err
		}
		if o.NoVerify {
			return tr, nil, nil
		}
		findings, err := VerifyTree(ctx, env, tr, co)
		if err == nil {
			return tr, findings, nil
		}
		tr.Close()
		var ve *VerifyError
		if !errors.As(err, &ve) || round+1 >= maxRefusalRounds {
			return nil, nil, err
		}
		refused := refusable(tr, parts, ve)
		if len(refused) == 0 {
			return nil, nil, err
		}
		refusedBy = ve
		for _, r := range refused {
			env.Pins.Refuse(ve.Target, r.file, r.why)
			// The resolver's notes say what is used instead.
			env.logf("%s: %s was refused for %s by verification (%s); resolving again without it", r.pkg, r.file, ve.Target, r.why)
		}
	}
}

type refused struct{ pkg, file, why string }

// refusable returns the files to refuse for a failed verification: every
// failing finding must belong to a resolved package's file by a rule about
// the file itself; otherwise nil (refusing would not help).
func refusable(tr *tree.Tree, parts []*partPins, ve *VerifyError) []refused {
	if ve.Part < 0 || ve.Part >= len(parts) || len(ve.Findings) == 0 {
		return nil
	}
	part := parts[ve.Part]
	if part.set.Resolution == nil {
		return nil // a lock says exactly what to install
	}
	distOf := map[string]string{}
	for _, f := range tr.PartFiles(ve.Part) {
		distOf[f.Path] = f.Dist
	}
	var out []refused
	seen := map[string]bool{}
	for _, f := range ve.Findings {
		if !wheelRules[f.Rule] {
			return nil
		}
		dist := distOf[f.File]
		if dist == "" && f.Package != "" {
			n, _, _ := strings.Cut(f.Package, "==")
			dist = names.Canonical(n)
		}
		if dist == "" {
			return nil
		}
		i := -1
		for j, p := range part.set.Pins {
			if names.Canonical(p.Name) == dist {
				i = j
				break
			}
		}
		if i < 0 {
			return nil
		}
		pin := part.set.Pins[i]
		file := pin.File.Filename
		if pin.Source != nil {
			file = pin.Source.Filename
		}
		if seen[file] {
			continue // its first finding says why
		}
		seen[file] = true
		out = append(out, refused{pkg: pin.Name + " " + pin.Version, file: file, why: findingWhy(f)})
	}
	return out
}

// findingWhy says in a clause why verification refused a file.
func findingWhy(f verify.Finding) string {
	msg := f.Message
	if i := strings.Index(msg, " ("); i > 0 {
		msg = msg[:i]
	}
	if i := strings.Index(msg, "; "); i > 0 {
		msg = msg[:i]
	}
	if len(msg) > 160 {
		msg = msg[:157] + "..."
	}
	if f.File != "" && f.Rule != "wheel-tag" {
		msg = path.Base(f.File) + " " + msg
	}
	return f.Rule + ": " + msg
}
