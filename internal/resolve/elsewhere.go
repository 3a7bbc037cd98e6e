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

// elsewhereSource is implemented by sources whose Files leave out wheels no
// Lambda target can install.
type elsewhereSource interface {
	Elsewhere(ctx context.Context, name string) []index.Elsewhere
}

// Elsewhere implements elsewhereSource.
func (s IndexSource) Elsewhere(ctx context.Context, name string) []index.Elsewhere {
	p, err := s.Client.Project(ctx, name) // memoised by the client
	if err != nil {
		return nil
	}
	return p.Elsewhere
}

// Elsewhere implements elsewhereSource when the wrapped source does.
func (c *cachedSource) Elsewhere(ctx context.Context, name string) []index.Elsewhere {
	if es, ok := c.src.(elsewhereSource); ok {
		return es.Elsewhere(ctx, name)
	}
	return nil
}

// elsewhere asks src for its summary of a project, if it keeps one.
func elsewhere(ctx context.Context, src Source, name string) []index.Elsewhere {
	if es, ok := src.(elsewhereSource); ok {
		return es.Elsewhere(ctx, name)
	}
	return nil
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
