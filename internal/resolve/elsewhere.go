package resolve

import (
	"context"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/tags"
)

// The index client keeps only the files a Lambda target may install (see
// index.Elsewhere); what it left out comes as a summary per version, so that
// a hint can still say "wheels exist for macOS, Windows", and a version
// published only for other platforms is still known, and explained.

// projectSource is implemented by sources that list a project's files with
// the summary of what they left out (the index client's pages).
type projectSource interface {
	Project(ctx context.Context, name string) ([]index.File, []index.Elsewhere, error)
}

// Project implements projectSource.
func (s IndexSource) Project(ctx context.Context, name string) ([]index.File, []index.Elsewhere, error) {
	p, err := s.Client.Project(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	return p.Files, p.Elsewhere, nil
}

// Project implements projectSource. The index client memoises projects
// itself (and lets go of pages it can read again from its disk cache), so
// they are not memoised here too.
func (c *cachedSource) Project(ctx context.Context, name string) ([]index.File, []index.Elsewhere, error) {
	if ps, ok := c.src.(projectSource); ok {
		return ps.Project(ctx, name)
	}
	files, err := c.Files(ctx, name)
	return files, nil, err
}

// listProject lists a project's files and, when src keeps one, the summary
// of the wheels it left out.
func listProject(ctx context.Context, src Source, name string) ([]index.File, []index.Elsewhere, error) {
	if ps, ok := src.(projectSource); ok {
		return ps.Project(ctx, name)
	}
	files, err := src.Files(ctx, name)
	return files, nil, err
}

// addElsewhere gives each release the tags of the wheels left out of its
// files, adding the releases that had nothing but such wheels.
func (p *project) addElsewhere(pol *policy, els []index.Elsewhere) {
	for _, e := range els {
		v, err := pep440.Parse(e.Version)
		if err != nil {
			continue
		}
		var ts []tags.Tag
		for _, s := range e.Tags {
			if parts := strings.SplitN(s, "-", 3); len(parts) == 3 {
				ts = append(ts, tags.Tag{Interpreter: parts[0], ABI: parts[1], Platform: parts[2]})
			}
		}
		i := sort.Search(len(p.rels), func(i int) bool { return p.rels[i].version.Compare(v) >= 0 })
		if i < len(p.rels) && p.rels[i].version.Compare(v) == 0 {
			p.rels[i].other = append(p.rels[i].other, ts...)
			continue
		}
		r := &release{version: v, best: -1, pol: pol, proj: p, other: ts}
		p.rels = append(p.rels, nil)
		copy(p.rels[i+1:], p.rels[i:])
		p.rels[i] = r
	}
}
