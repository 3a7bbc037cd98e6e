package resolve

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/target"
)

// fetcher reads project pages and metadata on goroutines, bounded, each at
// most once per resolution. When speculation is on, every project page that
// arrives starts the metadata of its likely version, and every metadata that
// arrives starts the pages of its dependencies: by the time the solver asks,
// the answer is usually there.
type fetcher struct {
	ctx       context.Context
	src       Source
	pol       *policy
	env       pep508.Environment
	tgt       target.Target
	sem       chan struct{}
	speculate bool
	wg        sync.WaitGroup

	mu       sync.Mutex
	projects map[string]*projEntry
	metas    map[string]*metaEntry

	nProjects, nMetadata atomic.Int64
}

type projEntry struct {
	done chan struct{}
	p    *project
	err  error
}

type metaEntry struct {
	done chan struct{}
	md   *metadata.Metadata
	err  error
}

func (f *fetcher) project(name string) *projEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.projects[name]; e != nil {
		return e
	}
	e := &projEntry{done: make(chan struct{})}
	f.projects[name] = e
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.loadProject(name, e)
	}()
	return e
}

func (f *fetcher) loadProject(name string, e *projEntry) {
	if err := f.acquire(); err != nil {
		e.err = err
		close(e.done)
		return
	}
	files, els, err := listProject(f.ctx, f.src, name)
	f.release()
	f.nProjects.Add(1)
	switch {
	case err == nil:
		e.p = f.pol.analyze(name, files)
		e.p.addElsewhere(f.pol, els)
	case errors.Is(err, index.ErrNotFound):
		e.p = &project{name: name, notFound: true}
	default:
		e.err = err
	}
	close(e.done)
	if f.speculate && e.p != nil {
		if r := e.p.likely(); r != nil {
			f.metadata(r)
		}
	}
}

func (f *fetcher) metadata(r *release) *metaEntry {
	file := r.ensure().file()
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.metas[file.URL]; e != nil {
		return e
	}
	e := &metaEntry{done: make(chan struct{})}
	f.metas[file.URL] = e
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if err := f.acquire(); err != nil {
			e.err = err
			close(e.done)
			return
		}
		e.md, e.err = f.readMetadata(file, r.build)
		f.release()
		f.nMetadata.Add(1)
		close(e.done)
		if f.speculate && e.md != nil {
			for _, req := range e.md.RequiresDist {
				if req.URL == "" && req.Marker.Evaluate(f.env) {
					f.project(names.Canonical(req.Name))
				}
			}
		}
	}()
	return e
}

func (f *fetcher) acquire() error {
	select {
	case f.sem <- struct{}{}:
		return nil
	case <-f.ctx.Done():
		return f.ctx.Err()
	}
}

func (f *fetcher) release() { <-f.sem }

// wait blocks until e is done or the resolution is cancelled.
func wait(ctx context.Context, done chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
