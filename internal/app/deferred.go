package app

import (
	"strings"
	"sync"

	"github.com/lambdapack/lambdapack/internal/install"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// An image's dependency layer is hashed (for its diffID) as it is written,
// which inflates every wheel member once. On a cold build install would
// inflate every member a first time to check it against its wheel's RECORD;
// an image tree is planned with that check left to the image sink instead
// (install.Options.DeferCheck): the members the tree will not write are
// checked before anything is written (install.Plan.CheckUnwritten), the
// sink hashes every other one as it writes it and fails, writing nothing,
// on a mismatch. Only then (tree.Written.Checked) are the wheels
// remembered as checked (the memo a zip build trusts), and the facts
// verification learnt from the members' bytes stored under their digests:
// until the bytes are known to be what RECORD says, what was learnt from
// them is kept aside, so that a wheel whose RECORD lies cannot teach the
// cache wrong facts about the file its RECORD names.

// deferredTree is a tree whose members' RECORD checks were left to its
// sink. It is the verify.Facts the tree's checks use.
type deferredTree struct {
	plans     []*install.Plan
	unchecked map[string]bool // digests of the tree's Unchecked files
	store     *factsStore     // nil when the cache keeps no facts

	mu      sync.Mutex
	pending map[string][]byte
}

// deferChecks registers a tree whose plan left member checks to the sink.
func (env *Env) deferChecks(tr *tree.Tree, plan *install.Plan) {
	d := &deferredTree{plans: []*install.Plan{plan}, unchecked: map[string]bool{}, store: env.facts, pending: map[string][]byte{}}
	if prev, ok := env.deferred.Load(tr); ok {
		d = prev.(*deferredTree)
		d.plans = append(d.plans, plan)
	}
	env.deferred.Store(tr, d)
	tr.OnClose(closerFunc(func() error { env.deferred.Delete(tr); return nil }))
}

// noteUnchecked records the digests of the tree's Unchecked files, once its
// files are final.
func (env *Env) noteUnchecked(tr *tree.Tree) {
	v, ok := env.deferred.Load(tr)
	if !ok {
		return
	}
	d := v.(*deferredTree)
	for i := range tr.Files {
		if f := &tr.Files[i]; f.Unchecked {
			d.unchecked[f.Digest] = true
		}
	}
}

// factsFor is the facts store a tree's checks use: the cache's, or for a
// tree with unchecked members, one that keeps what it learns about them
// aside until the sink checked them.
func (env *Env) factsFor(tr *tree.Tree) verify.Facts {
	if env.facts == nil {
		return nil
	}
	if v, ok := env.deferred.Load(tr); ok {
		return v.(*deferredTree)
	}
	return env.facts
}

// written tells a tree's deferred checks what its sink did: when every
// unchecked member was hashed and matched (w.Checked), the wheels are
// remembered as checked and the facts learnt from them kept.
func (env *Env) written(tr *tree.Tree, w *tree.Written) {
	v, ok := env.deferred.Load(tr)
	if !ok || w == nil || !w.Checked {
		return
	}
	d := v.(*deferredTree)
	for _, p := range d.plans {
		p.Checked()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.store != nil {
		for k, val := range d.pending {
			d.store.Put(k, val)
		}
	}
	clear(d.pending)
}

func (d *deferredTree) Get(k string) ([]byte, bool) {
	if d.store == nil {
		return nil, false
	}
	return d.store.Get(k)
}

// Put keeps facts about an unchecked digest aside (keys end in the
// digest: "verify-facts-v1:<digest>", "native-v1:<digest>").
func (d *deferredTree) Put(k string, v []byte) {
	if d.unchecked[k[strings.LastIndexByte(k, ':')+1:]] {
		d.mu.Lock()
		d.pending[k] = append([]byte(nil), v...)
		d.mu.Unlock()
		return
	}
	if d.store != nil {
		d.store.Put(k, v)
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
