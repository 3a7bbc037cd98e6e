package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/lock"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/pins"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/target"
)

// LockOptions describe one `lambdapack lock`.
type LockOptions struct {
	Deps Inputs
	// Runtime and Arch name a Lambda target; Python and Glibc (both) a
	// custom one instead (for example distroless: 3.11 and 2.36).
	Runtime, Arch string
	Python, Glibc string
	// Output is the pylock.toml to write ("-" writes it to the writer
	// given to Lock instead). When it exists, its versions are kept where
	// they still fit, unless Upgrade is set.
	Output  string
	Upgrade bool
}

// LockReport is what `lambdapack lock --json` prints.
type LockReport struct {
	Target   LockTarget    `json:"target"`
	Packages []LockPackage `json:"packages"`
}

// LockTarget names the target a lock is for.
type LockTarget struct {
	Runtime      string `json:"runtime"`
	Architecture string `json:"architecture"`
	Python       string `json:"python"`
	Glibc        string `json:"glibc"`
}

// LockPackage is one locked wheel.
type LockPackage struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Filename string `json:"filename"`
	URL      string `json:"url"`
	SHA256   string `json:"sha256"`
	Size     int64  `json:"size"`
}

func (o LockOptions) target() (target.Target, error) {
	if o.Python != "" || o.Glibc != "" {
		if o.Python == "" || o.Glibc == "" {
			return target.Target{}, errors.New("a custom target needs both --python and --glibc")
		}
		if o.Runtime != "" {
			return target.Target{}, errors.New("give either --runtime or --python/--glibc, not both")
		}
		return target.Custom(o.Python, o.Glibc, o.Arch)
	}
	if o.Runtime == "" {
		return target.Target{}, errors.New("--runtime is required (e.g. --runtime python3.12; lambdapack targets lists them)")
	}
	return target.New(o.Runtime, o.Arch)
}

// LockResult is a resolution turned into a lock.
type LockResult struct {
	Target  target.Target
	Lock    *lock.Lock
	Report  *LockReport
	Resolve *resolve.Result
	// Notes are what the user should know (versions passed over and why).
	Notes []string
}

// Lock resolves the requirements for the target and builds the PEP 751 lock
// (written to o.Output unless it is "-", in which case the caller prints
// it). A *resolve.NoSolutionError says why nothing fits.
func Lock(ctx context.Context, env *Env, o LockOptions) (*LockResult, error) {
	t, err := o.target()
	if err != nil {
		return nil, err
	}
	if note := deprecationNote(t); note != "" {
		env.log.Warn(note)
	}
	if o.Deps.Lock != "" {
		return nil, errors.New("lambdapack lock resolves requirements; it does not take --lock")
	}
	if o.Deps.Empty() {
		return nil, errors.New("nothing to lock: give requirements as arguments or with -r FILE (\"-r -\" reads stdin)")
	}
	reqs, err := o.Deps.Read()
	if err != nil {
		return nil, err
	}
	if len(reqs.Requirements) == 0 {
		return nil, errors.New("nothing to lock: the requirement files hold no requirement")
	}
	// Re-locking keeps the versions of the existing lock where they still
	// fit (uv pip compile does the same with its output file), but only a
	// lock made for this same target may steer the resolution.
	var prefs map[string]pep440.Version
	var reuse *lock.Reuse
	var reuseNote string
	if !o.Upgrade && o.Output != "" && o.Output != "-" {
		old, err := lock.ReadPylockFile(o.Output)
		switch {
		case err == nil:
			r := lock.CheckReuse(old, t)
			reuse, prefs = &r, r.Prefs
		case !errors.Is(err, fs.ErrNotExist):
			reuseNote = fmt.Sprintf("ignored the versions in %s: %v; resolved afresh", o.Output, err)
		}
	}
	set, err := env.Pins.Resolve(ctx, t, reqs, prefs)
	if err != nil {
		return nil, err
	}
	if reuse != nil {
		chosen := map[string]string{}
		for _, p := range set.Pins {
			chosen[names.Canonical(p.Name)] = p.Version
		}
		reuseNote = reuse.Note(o.Output, chosen)
	}
	res, ps := set.Resolution, set.Pins
	// A direct reference to a remote wheel without a #sha256= fragment has
	// no hash yet: download it once to hash it (a lock needs one).
	for i, p := range ps {
		if p.SHA256 != "" {
			continue
		}
		sum, size, err := env.Pins.HashRemote(ctx, p.File)
		if err != nil {
			return nil, err
		}
		ps[i].SHA256 = sum
		ps[i].File.Hashes = map[string]string{"sha256": sum}
		ps[i].File.Size = size
	}
	out := &LockResult{Target: t, Resolve: res}
	dir := "."
	if o.Output != "" && o.Output != "-" {
		dir = filepath.Dir(o.Output)
	}
	out.Lock = BuildPylock(t, res, ps, dir)
	out.Report = &LockReport{Target: LockTarget{Runtime: t.Runtime, Architecture: string(t.Arch), Python: t.Python(), Glibc: t.Glibc()}, Packages: []LockPackage{}}
	for _, p := range ps {
		out.Report.Packages = append(out.Report.Packages, LockPackage{
			Name: p.Name, Version: p.Version, Filename: p.File.Filename, URL: p.File.URL, SHA256: p.SHA256, Size: p.File.Size,
		})
	}
	for _, s := range res.Skipped {
		out.Notes = append(out.Notes, "passed over "+s.String())
	}
	out.Notes = append(out.Notes, res.Notes...)
	if reuseNote != "" {
		out.Notes = append(out.Notes, reuseNote)
	}
	if o.Output != "-" {
		path := o.Output
		if path == "" {
			path = "pylock.toml"
		}
		if !lock.PylockFileName(filepath.Base(path)) {
			env.logf("Note: %s is not a PEP 751 name (pylock.toml or pylock.NAME.toml); installers may not find it", filepath.Base(path))
		}
		if err := lock.WritePylockFile(path, out.Lock); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TargetMarker is the PEP 508 marker that holds exactly on the target's
// interpreter (for pylock.toml's environments).
func TargetMarker(t target.Target) string {
	return fmt.Sprintf(`sys_platform == "linux" and platform_machine == %q and implementation_name == "cpython" and python_version == %q`, t.Arch.Machine(), t.Python())
}

// BuildPylock turns a resolution into a PEP 751 lock: one wheel per
// package, local files as paths relative to dir (the lock's folder).
func BuildPylock(t target.Target, res *resolve.Result, ps []pins.Pin, dir string) *lock.Lock {
	l := &lock.Lock{
		LockVersion:    "1.0",
		CreatedBy:      "lambdapack",
		RequiresPython: "==" + t.Python() + ".*",
		Environments:   []string{TargetMarker(t)},
		Tool: map[string]any{"lambdapack": map[string]any{
			"target": t.String(), "runtime": t.Runtime, "architecture": string(t.Arch),
			"python": t.Python(), "glibc": t.Glibc(),
		}},
	}
	byName := map[string]pins.Pin{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	for _, rp := range res.Packages {
		c := byName[rp.Name]
		f := c.File
		lf := lock.File{Name: f.Filename, UploadTime: f.UploadTime.UTC(), Hashes: map[string]string{}}
		if f.Size > 0 {
			lf.Size = f.Size
		}
		for k, v := range f.Hashes {
			lf.Hashes[k] = v
		}
		if u, err := url.Parse(f.URL); err == nil && u.Scheme == "file" {
			p := u.Path
			if rel, err := filepath.Rel(mustAbs(dir), p); err == nil {
				p = rel
			}
			lf.Path = filepath.ToSlash(p)
		} else {
			lf.URL = f.URL
		}
		var deps []lock.Dependency
		for _, d := range rp.Dependencies {
			deps = append(deps, lock.Dependency{Name: d})
		}
		pkg := lock.Package{
			Name: rp.Name, Version: rp.Version.String(), RequiresPython: rp.RequiresPython,
			Dependencies: deps, Wheels: []lock.File{lf},
		}
		if c.Sdist { // built for the target when installed
			pkg.Wheels, pkg.Sdist = nil, &lf
		}
		if f.Index != "" && !strings.HasPrefix(f.Index, "file:") && strings.Contains(f.Index, "://") {
			pkg.Index = f.Index
		}
		l.Packages = append(l.Packages, pkg)
	}
	sort.Slice(l.Packages, func(i, j int) bool { return l.Packages[i].Name < l.Packages[j].Name })
	return l
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// WriteLockText prints the short table of what was chosen.
func WriteLockText(w io.Writer, r *LockResult, output string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "PACKAGE\tVERSION\tWHEEL\tSIZE\n")
	for _, p := range r.Report.Packages {
		size := "?"
		if p.Size > 0 {
			size = human.Bytes(p.Size)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Filename, size)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if output == "" {
		output = "pylock.toml"
	}
	_, err := fmt.Fprintf(w, "Locked %d packages for %s in %s\n", len(r.Report.Packages), r.Target, output)
	return err
}
