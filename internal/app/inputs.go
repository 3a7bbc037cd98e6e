package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/lock"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/reqfile"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/target"
)

// ReadRequirements reads requirement strings, requirement files and
// constraint files into one set.
func ReadRequirements(in Inputs) (*reqfile.Set, error) {
	var opts []reqfile.Option
	if in.Stdin != nil {
		opts = append(opts, reqfile.WithStdin(in.Stdin))
	}
	set := &reqfile.Set{}
	if len(in.Requirements) > 0 {
		s, err := reqfile.ParseArgs(in.Requirements, opts...)
		if err != nil {
			return nil, err
		}
		set.Merge(s)
	}
	for _, f := range in.RequirementFiles {
		s, err := reqfile.ParseFile(f, opts...)
		if err != nil {
			return nil, err
		}
		set.Merge(s)
	}
	for _, f := range in.ConstraintFiles {
		s, err := reqfile.ParseFile(f, opts...)
		if err != nil {
			return nil, err
		}
		set.Constraints = append(set.Constraints, s.Requirements...)
		set.Constraints = append(set.Constraints, s.Constraints...)
	}
	if in.Pre {
		set.Options.Pre = true
	}
	return set, nil
}

// ResolveRequirements resolves a requirement set for t on the env's index.
func (env *Env) ResolveRequirements(ctx context.Context, t target.Target, set *reqfile.Set) (*resolve.Result, error) {
	if _, err := env.index(set.Options.Index); err != nil {
		return nil, err
	}
	reqs := make([]pep508.Requirement, len(set.Requirements))
	for i, r := range set.Requirements {
		reqs[i] = r.Requirement
	}
	var cons []pep508.Requirement
	for _, c := range set.Constraints {
		cons = append(cons, c.Requirement)
	}
	ro := resolve.Options{Constraints: cons, NoBinary: set.Options.NoBinary, OnlyBinary: set.Options.OnlyBinary}
	if set.Options.Pre {
		ro.Prerelease = resolve.PrereleaseAllow
	}
	start := time.Now()
	res, err := resolve.Resolve(ctx, env.Source, t, reqs, ro)
	if err != nil {
		return nil, err
	}
	env.log().Printf("Resolved %s for %s in %s", plural(len(res.Packages), "package"), t, roundDur(time.Since(start)))
	return res, nil
}

// packagesFor decides the wheels to install for t: from a lock, or by
// resolving requirements. The notes say what the user should know.
func (env *Env) packagesFor(ctx context.Context, t target.Target, in Inputs) ([]chosen, []string, error) {
	key, err := inputsKey(t, in)
	if err != nil {
		return nil, nil, err
	}
	// One resolution per distinct (requirements, target) in a run: the
	// artifacts of a project that share both share the answer.
	v, _ := env.resolutions.LoadOrStore(key, &resolution{})
	r := v.(*resolution)
	r.once.Do(func() { r.pkgs, r.notes, r.err = env.packagesForOnce(ctx, t, in) })
	return append([]chosen(nil), r.pkgs...), r.notes, r.err
}

type resolution struct {
	once  sync.Once
	pkgs  []chosen
	notes []string
	err   error
}

// inputsKey identifies what packagesFor depends on.
func inputsKey(t target.Target, in Inputs) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d.%d|%s|lock=%s|pre=%v\n", t, t.GlibcMajor, t.GlibcMinor, t.PythonFull, in.Lock, in.Pre)
	if in.Lock == "" && !in.Empty() {
		if slices.Contains(in.RequirementFiles, "-") {
			// Standard input can be read once: never shared.
			return fmt.Sprintf("stdin-%p", &in), nil
		}
		set, err := ReadRequirements(in)
		if err != nil {
			return "", err
		}
		for _, r := range set.Requirements {
			fmt.Fprintf(&b, "r %s %q\n", r.String(), r.Hashes)
		}
		for _, r := range set.Constraints {
			fmt.Fprintf(&b, "c %s\n", r.String())
		}
		fmt.Fprintf(&b, "%+v\n", set.Options)
	}
	return b.String(), nil
}

func (env *Env) packagesForOnce(ctx context.Context, t target.Target, in Inputs) ([]chosen, []string, error) {
	if in.Lock != "" {
		if len(in.Requirements) > 0 || len(in.RequirementFiles) > 0 {
			return nil, nil, errors.New("give either a lock (--lock) or requirements (-r, arguments), not both")
		}
		pkgs, err := env.fromLock(ctx, t, in.Lock)
		return pkgs, nil, err
	}
	if in.Empty() {
		return nil, nil, nil
	}
	set, err := ReadRequirements(in)
	if err != nil {
		return nil, nil, err
	}
	if len(set.Requirements) == 0 {
		return nil, nil, nil
	}
	res, err := env.ResolveRequirements(ctx, t, set)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	for _, s := range res.Skipped {
		notes = append(notes, s.String())
	}
	// res.Notes (files the index lists that are not distributions, and
	// the like) are for -v output, not for every build.
	pkgs := make([]chosen, len(res.Packages))
	for i, p := range res.Packages {
		pkgs[i] = chosen{Name: p.Name, Version: p.Version.String(), File: p.File, SHA256: p.File.Hashes["sha256"]}
	}
	if set.Options.RequireHashes {
		if pkgs, err = env.enforceHashes(ctx, t, set, res, pkgs); err != nil {
			return nil, nil, err
		}
	}
	return pkgs, notes, nil
}

// enforceHashes applies pip's hash-checking mode: every installed package
// must be named with --hash, and the wheel used must have one of its hashes
// (another wheel of the same version is taken when the best one is not
// listed).
func (env *Env) enforceHashes(ctx context.Context, t target.Target, set *reqfile.Set, res *resolve.Result, pkgs []chosen) ([]chosen, error) {
	allowed := map[string]map[string]bool{}
	where := map[string]string{}
	for _, r := range set.Requirements {
		n := names.Canonical(r.Name)
		if allowed[n] == nil {
			allowed[n] = map[string]bool{}
		}
		where[n] = r.Source
		for _, h := range r.Hashes {
			alg, hex, _ := strings.Cut(h, ":")
			if strings.EqualFold(alg, "sha256") {
				allowed[n][strings.ToLower(hex)] = true
			}
		}
	}
	var errs []error
	for i, p := range pkgs {
		hs := allowed[p.Name]
		if len(hs) == 0 {
			errs = append(errs, fmt.Errorf("hash-checking mode: %s %s has no --hash (%s): add %s==%s --hash=sha256:%s (the wheel %s), or use a lock (lambdapack lock writes pylock.toml)", p.Name, p.Version, neededBy(res, set, p.Name), p.Name, p.Version, p.SHA256, p.File.Filename))
			continue
		}
		if hs[p.SHA256] {
			continue
		}
		files, err := env.Index.Project(ctx, p.Name)
		if err != nil {
			return nil, err
		}
		var cands []lock.File
		for _, f := range files.Files {
			if hs[f.Hashes["sha256"]] {
				cands = append(cands, lock.File{Name: f.Filename, URL: f.URL, Hashes: f.Hashes, Size: f.Size})
			}
		}
		w, ok := lock.BestWheel(cands, t)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: none of the hashes given for %s matches a wheel for %s (the resolver chose %s, sha256 %s)", where[p.Name], p.Name, t, p.File.Filename, p.SHA256))
			continue
		}
		pkgs[i].File = fileByName(files.Files, w.Name)
		pkgs[i].SHA256 = w.SHA256()
	}
	return pkgs, errors.Join(errs...)
}

// neededBy says why a package is installed, for hash-checking errors.
func neededBy(res *resolve.Result, set *reqfile.Set, name string) string {
	for _, r := range set.Requirements {
		if names.Canonical(r.Name) == name {
			return "required at " + r.Source
		}
	}
	return "a dependency of " + dependents(res, name)
}

func dependents(res *resolve.Result, name string) string {
	var out []string
	for _, p := range res.Packages {
		for _, d := range p.Dependencies {
			if d == name {
				out = append(out, p.Name)
			}
		}
	}
	if len(out) == 0 {
		return "a requirement"
	}
	return strings.Join(out, ", ")
}

func fileByName(files []index.File, name string) index.File {
	for _, f := range files {
		if f.Filename == name {
			return f
		}
	}
	return index.File{}
}

// fromLock reads a lockfile and finds each selected wheel's location.
func (env *Env) fromLock(ctx context.Context, t target.Target, path string) ([]chosen, error) {
	sel, err := lock.SelectFile(path, t, nil)
	if err != nil {
		return nil, err
	}
	out := make([]chosen, 0, len(sel))
	var errs []error
	for _, s := range sel {
		c, err := env.locate(ctx, t, path, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	env.log().Printf("Read %s for %s from %s", plural(len(out), "package"), t, path)
	return out, nil
}

// locate turns a lock's selection into a downloadable file: its URL or path
// as recorded, or found on the index by file name or by hash.
func (env *Env) locate(ctx context.Context, t target.Target, lockPath string, s lock.Selected) (chosen, error) {
	w := s.Wheel
	switch {
	case w.URL != "":
		return chosen{Name: s.Name, Version: s.Version, SHA256: w.SHA256(),
			File: index.File{Filename: w.Name, URL: w.URL, Size: sizeOrUnknown(w.Size), Hashes: w.Hashes}}, nil
	case w.Path != "":
		p := w.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(s.Dir, filepath.FromSlash(p))
		}
		return chosen{Name: s.Name, Version: s.Version, SHA256: w.SHA256(),
			File: index.File{Filename: w.Name, URL: p, Size: sizeOrUnknown(w.Size), Hashes: w.Hashes}}, nil
	}
	if w.Name == "" && len(s.ByHash) == 0 {
		return chosen{}, fmt.Errorf("%s: %s %s records no file to install", lockPath, s.Name, s.Version)
	}
	cl, err := env.index(index.Settings{})
	if err != nil {
		return chosen{}, err
	}
	proj, err := cl.Project(ctx, s.Name)
	if err != nil {
		return chosen{}, fmt.Errorf("%s: finding %s %s on the index: %w", lockPath, s.Name, s.Version, err)
	}
	if w.Name != "" {
		f := fileByName(proj.Files, w.Name)
		if f.URL == "" {
			return chosen{}, fmt.Errorf("%s: %s is not on %s: is the lock from another index? pass --index-url", lockPath, w.Name, index.Redact(proj.Index))
		}
		want := w.SHA256()
		if want == "" {
			return chosen{}, fmt.Errorf("%s: %s has no sha256 hash in the lock", lockPath, w.Name)
		}
		return chosen{Name: s.Name, Version: s.Version, File: f, SHA256: want}, nil
	}
	allowed := map[string]bool{}
	for _, h := range s.ByHash {
		allowed[h] = true
	}
	var cands []lock.File
	for _, f := range proj.Files {
		if allowed[f.Hashes["sha256"]] {
			cands = append(cands, lock.File{Name: f.Filename, URL: f.URL, Hashes: f.Hashes})
		}
	}
	best, ok := lock.BestWheel(cands, t)
	if !ok {
		var have []lock.File
		for _, c := range cands {
			have = append(have, c)
		}
		return chosen{}, &lock.NoWheelError{Lock: lockPath, Name: s.Name, Version: s.Version, Target: t, Have: fileNames(have)}
	}
	f := fileByName(proj.Files, best.Name)
	return chosen{Name: s.Name, Version: s.Version, File: f, SHA256: best.SHA256()}, nil
}

func fileNames(fs []lock.File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func sizeOrUnknown(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}
