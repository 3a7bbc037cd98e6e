package pins

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/lock"
	"github.com/lambdapack/lambdapack/internal/target"
)

// fromLock reads a lockfile (lock.SelectFile picks the format by its name)
// and finds where each selected wheel is.
func (p *Pinner) fromLock(ctx context.Context, t target.Target, path string) ([]Pin, error) {
	sel, err := lock.SelectFile(path, t, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Pin, 0, len(sel))
	var errs []error
	for _, s := range sel {
		pin, err := p.locate(ctx, t, path, s)
		if err == nil && s.Sdist {
			pin.Sdist = true
			err = p.lockBuildAllowed(path, pin)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, pin)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Pin) int { return strings.Compare(a.Name, b.Name) })
	p.log.Info(fmt.Sprintf("Read %s for %s from %s", human.Count(len(out), "package"), t, path))
	return out, nil
}

// locate turns a lock's selection into a downloadable file: its URL or path
// as recorded, or found on the index by file name or by hash.
func (p *Pinner) locate(ctx context.Context, t target.Target, lockPath string, s lock.Selected) (Pin, error) {
	w := s.Wheel
	switch {
	case w.URL != "":
		return Pin{Name: s.Name, Version: s.Version, SHA256: w.SHA256(),
			File: index.File{Filename: w.Name, URL: w.URL, Size: sizeOrUnknown(w.Size), Hashes: w.Hashes}}, nil
	case w.Path != "":
		path := w.Path
		if !filepath.IsAbs(path) {
			path = filepath.Join(s.Dir, filepath.FromSlash(path))
		}
		return Pin{Name: s.Name, Version: s.Version, SHA256: w.SHA256(),
			File: index.File{Filename: w.Name, URL: path, Size: sizeOrUnknown(w.Size), Hashes: w.Hashes}}, nil
	}
	if w.Name == "" && len(s.ByHash) == 0 {
		return Pin{}, fmt.Errorf("%s: %s %s records no file to install", lockPath, s.Name, s.Version)
	}
	cl, err := p.Index(index.Settings{})
	if err != nil {
		return Pin{}, err
	}
	proj, err := cl.Project(ctx, s.Name)
	if err != nil {
		return Pin{}, fmt.Errorf("%s: finding %s %s on the index: %w", lockPath, s.Name, s.Version, err)
	}
	if w.Name != "" {
		f, ok := fileByName(proj.Files, w.Name)
		if !ok {
			return Pin{}, fmt.Errorf("%s: %s is not on %s: is the lock from another index? pass --index-url", lockPath, w.Name, index.Redact(proj.Index))
		}
		want := w.SHA256()
		if want == "" {
			return Pin{}, fmt.Errorf("%s: %s has no sha256 hash in the lock", lockPath, w.Name)
		}
		return Pin{Name: s.Name, Version: s.Version, File: f, SHA256: want}, nil
	}
	allowed := map[string]bool{}
	for _, h := range s.ByHash {
		allowed[h] = true
	}
	f, ok := bestByHash(proj.Files, allowed, t)
	if !ok {
		var have []string
		for _, f := range proj.Files {
			if allowed[f.Hashes["sha256"]] {
				have = append(have, f.Filename)
			}
		}
		return Pin{}, &lock.NoWheelError{Lock: lockPath, Name: s.Name, Version: s.Version, Target: t, Have: have}
	}
	return Pin{Name: s.Name, Version: s.Version, File: f, SHA256: f.Hashes["sha256"]}, nil
}

// bestByHash returns the best wheel for t among the files whose sha256 is
// allowed.
func bestByHash(files []index.File, allowed map[string]bool, t target.Target) (index.File, bool) {
	var cands []lock.File
	for _, f := range files {
		if allowed[f.Hashes["sha256"]] {
			cands = append(cands, lock.File{Name: f.Filename, URL: f.URL, Hashes: f.Hashes, Size: f.Size})
		}
	}
	best, ok := lock.BestWheel(cands, t)
	if !ok {
		return index.File{}, false
	}
	return fileByName(files, best.Name)
}

func fileByName(files []index.File, name string) (index.File, bool) {
	i := slices.IndexFunc(files, func(f index.File) bool { return f.Filename == name })
	if i < 0 {
		return index.File{}, false
	}
	return files[i], true
}

func sizeOrUnknown(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}
