package resolve

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// toy is a provider over a tiny semver world, to test the PubGrub core on
// the examples of pub's solver.md without any Python packaging.
type toy struct {
	s     *solver
	vers  map[string][]string          // name -> versions ascending
	deps  map[string]map[string]string // "name@ver" -> dep name -> spec
	root  map[string]string
	ids   map[string]pkgID
	names []string
}

func parseSemver(v string) [3]int {
	var out [3]int
	for i, p := range strings.SplitN(v, ".", 3) {
		out[i], _ = strconv.Atoi(p)
	}
	return out
}

func cmpSemver(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			return a[i] - b[i]
		}
	}
	return 0
}

func toyMatch(spec, v string) bool {
	x := parseSemver(v)
	switch {
	case spec == "*":
		return true
	case strings.HasPrefix(spec, "^"):
		y := parseSemver(spec[1:])
		return x[0] == y[0] && cmpSemver(x, y) >= 0
	case strings.HasPrefix(spec, ">="):
		return cmpSemver(x, parseSemver(spec[2:])) >= 0
	case strings.HasPrefix(spec, "<"):
		return cmpSemver(x, parseSemver(spec[1:])) < 0
	case strings.HasPrefix(spec, "=="):
		return cmpSemver(x, parseSemver(spec[2:])) == 0
	}
	panic(spec)
}

func (t *toy) id(name string) pkgID {
	if id, ok := t.ids[name]; ok {
		return id
	}
	vs := t.vers[name]
	sort.Slice(vs, func(i, j int) bool { return cmpSemver(parseSemver(vs[i]), parseSemver(vs[j])) < 0 })
	id := t.s.addPackage(name, len(vs)+1, true)
	t.ids[name] = id
	for len(t.names) <= int(id) {
		t.names = append(t.names, "")
	}
	t.names[id] = name
	inc := newIncompat(kindNoVersion, term{id, true, singleBit(len(vs)+1, len(vs))})
	inc.to = id
	inc.notFound = len(vs) == 0
	t.s.addIncompat(inc)
	return id
}

func (t *toy) specSet(name, spec string) bitset {
	id := t.id(name)
	vs := t.vers[name]
	b := singleBit(len(vs)+1, len(vs))
	for i, v := range vs {
		if toyMatch(spec, v) {
			b.set(i)
		}
	}
	_ = id
	return b
}

func (t *toy) choose(_ context.Context, p pkgID, allowed bitset) (int, *incompat, error) {
	if p == rootPkg {
		return 0, nil, nil
	}
	v := allowed.highest()
	if v < 0 || v >= len(t.vers[t.names[p]]) {
		return 0, newIncompat(kindUnusable, term{p, true, allowed}), nil
	}
	return v, nil, nil
}

func (t *toy) dependencies(_ context.Context, p pkgID, v int) ([]*incompat, error) {
	var deps map[string]string
	from := term{p, true, singleBit(t.s.pkgs[p].n, v)}
	label := "root"
	if p == rootPkg {
		deps = t.root
	} else {
		label = t.names[p] + " " + t.vers[t.names[p]][v]
		deps = t.deps[t.names[p]+"@"+t.vers[t.names[p]][v]]
	}
	var names []string
	for n := range deps {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*incompat
	for _, n := range names {
		to := t.id(n)
		inc := newIncompat(kindDependency, from, term{to, false, t.specSet(n, deps[n])})
		inc.from, inc.to, inc.fromLabel, inc.toLabel = p, to, label, n+" "+deps[n]
		out = append(out, inc)
	}
	return out, nil
}

func (t *toy) pkgName(p pkgID) string {
	if p == rootPkg {
		return "root"
	}
	return t.names[p]
}

func (t *toy) setString(p pkgID, set bitset) string {
	vs := t.vers[t.names[p]]
	var in []string
	for i, v := range vs {
		if set.has(i) {
			in = append(in, v)
		}
	}
	if len(in) == len(vs) {
		return ""
	}
	return " {" + strings.Join(in, ",") + "}"
}

func (t *toy) versionString(p pkgID, i int) string { return t.vers[t.names[p]][i] }

func (t *toy) listedSummary(p pkgID) string {
	return "only " + t.names[p] + " {" + strings.Join(t.vers[t.names[p]], ",") + "} exist"
}

func runToy(t *testing.T, vers map[string][]string, deps map[string]map[string]string, root map[string]string) (string, string) {
	t.Helper()
	s := newSolver()
	ty := &toy{s: s, vers: vers, deps: deps, root: root, ids: map[string]pkgID{}, names: []string{"root"}}
	sol, err := s.solve(context.Background(), ty)
	if err != nil {
		ns, ok := err.(*noSolution)
		if !ok {
			t.Fatal(err)
		}
		return "", explain(ty, s.listed, simplify(ty, s.listed, ns.inc))
	}
	var parts []string
	for p, v := range sol {
		parts = append(parts, ty.names[p]+" "+vers[ty.names[p]][v])
	}
	sort.Strings(parts)
	return strings.Join(parts, ", "), ""
}

func TestSolverExamples(t *testing.T) {
	cases := []struct {
		name string
		vers map[string][]string
		deps map[string]map[string]string
		root map[string]string
		want string
		why  string // the explanation, for unsatisfiable cases
	}{
		{
			name: "no conflicts",
			vers: map[string][]string{"foo": {"1.0.0"}, "bar": {"1.0.0", "2.0.0"}},
			deps: map[string]map[string]string{"foo@1.0.0": {"bar": "^1.0.0"}},
			root: map[string]string{"foo": "^1.0.0"},
			want: "bar 1.0.0, foo 1.0.0",
		},
		{
			name: "avoiding conflict during decision making",
			vers: map[string][]string{"foo": {"1.0.0", "1.1.0"}, "bar": {"1.0.0", "1.1.0", "2.0.0"}},
			deps: map[string]map[string]string{"foo@1.1.0": {"bar": "^2.0.0"}},
			root: map[string]string{"foo": "^1.0.0", "bar": "^1.0.0"},
			want: "bar 1.1.0, foo 1.0.0",
		},
		{
			name: "performing conflict resolution",
			vers: map[string][]string{"foo": {"1.0.0", "2.0.0"}, "bar": {"1.0.0"}},
			deps: map[string]map[string]string{"foo@2.0.0": {"bar": "^1.0.0"}, "bar@1.0.0": {"foo": "^1.0.0"}},
			root: map[string]string{"foo": ">=1.0.0"},
			want: "foo 1.0.0",
		},
		{
			name: "conflict resolution with a partial satisfier",
			vers: map[string][]string{"foo": {"1.0.0", "1.1.0"}, "left": {"1.0.0"}, "right": {"1.0.0"},
				"shared": {"1.0.0", "2.0.0"}, "target": {"1.0.0", "2.0.0"}},
			deps: map[string]map[string]string{
				"foo@1.1.0":    {"left": "^1.0.0", "right": "^1.0.0"},
				"left@1.0.0":   {"shared": ">=1.0.0"},
				"right@1.0.0":  {"shared": "<2.0.0"},
				"shared@1.0.0": {"target": "^1.0.0"},
			},
			root: map[string]string{"foo": "^1.0.0", "target": "^2.0.0"},
			want: "foo 1.0.0, target 2.0.0",
		},
		{
			name: "linear error reporting",
			vers: map[string][]string{"foo": {"1.0.0"}, "bar": {"2.0.0"}, "baz": {"1.0.0", "3.0.0"}},
			deps: map[string]map[string]string{"foo@1.0.0": {"bar": "^2.0.0"}, "bar@2.0.0": {"baz": "^3.0.0"}},
			root: map[string]string{"foo": "^1.0.0", "baz": "^1.0.0"},
			why: `Because foo 1.0.0 depends on bar ^2.0.0 and bar 2.0.0 depends on baz ^3.0.0, we can conclude that foo depends on baz {3.0.0}.
And because you require baz ^1.0.0 and you require foo ^1.0.0, we can conclude that your requirements are unsatisfiable.`,
		},
		{
			name: "branching error reporting",
			vers: map[string][]string{"foo": {"1.0.0", "1.1.0"}, "a": {"1.0.0"}, "b": {"1.0.0", "2.0.0"}, "x": {"1.0.0"}, "y": {"1.0.0", "2.0.0"}},
			deps: map[string]map[string]string{
				"foo@1.0.0": {"a": "^1.0.0", "b": "^1.0.0"},
				"foo@1.1.0": {"x": "^1.0.0", "y": "^1.0.0"},
				"a@1.0.0":   {"b": "^2.0.0"},
				"x@1.0.0":   {"y": "^2.0.0"},
			},
			root: map[string]string{"foo": "^1.0.0"},
			why: `Because a 1.0.0 depends on b ^2.0.0 and foo 1.0.0 depends on a ^1.0.0, we can conclude that foo {1.0.0} depends on b {2.0.0}.
And because foo 1.0.0 depends on b ^1.0.0, we can conclude that foo==1.0.0 cannot be used. (1)

Because x 1.0.0 depends on y ^2.0.0 and foo 1.1.0 depends on x ^1.0.0, we can conclude that foo {1.1.0} depends on y {2.0.0}.
And because foo 1.1.0 depends on y ^1.0.0, we can conclude that foo==1.1.0 cannot be used.
And because foo==1.0.0 cannot be used (1), we can conclude that all versions of foo cannot be used.
And because you require foo ^1.0.0, we can conclude that your requirements are unsatisfiable.`,
		},
		{
			name: "missing package",
			vers: map[string][]string{"a": {"1.0.0"}},
			deps: map[string]map[string]string{"a@1.0.0": {"nope": "*"}},
			root: map[string]string{"a": "*"},
			why: `Because a 1.0.0 depends on nope * and nope was not found in the package index, we can conclude that a==1.0.0 cannot be used.
And because you require a *, we can conclude that your requirements are unsatisfiable.`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, why := runToy(t, c.vers, c.deps, c.root)
			if c.want == "" {
				if why == "" {
					t.Fatalf("solved %q, want no solution", got)
				}
				if why != c.why {
					t.Fatalf("explanation:\n%s\nwant:\n%s", why, c.why)
				}
				return
			}
			if got != c.want {
				t.Fatalf("got %q, want %q\n%s", got, c.want, why)
			}
		})
	}
}

var _ = fmt.Sprint

// TestTermAlgebra checks the allocation-free subset and disjoint against
// their definitions through intersect, on every pair of terms over a
// 3-version domain.
func TestTermAlgebra(t *testing.T) {
	var terms []term
	for mask := 0; mask < 8; mask++ {
		b := newBitset(3)
		for i := 0; i < 3; i++ {
			if mask&(1<<i) != 0 {
				b.set(i)
			}
		}
		terms = append(terms, term{1, true, b}, term{1, false, b})
	}
	for _, a := range terms {
		for _, b := range terms {
			if got, want := subset(a, b), intersect(a, b).equal(a); got != want {
				t.Errorf("subset(%v, %v) = %v, want %v", a, b, got, want)
			}
			if got, want := disjoint(a, b), intersect(a, b).isEmpty(); got != want {
				t.Errorf("disjoint(%v, %v) = %v, want %v", a, b, got, want)
			}
			if u := union(a, b); !subset(a, u) || !subset(b, u) {
				t.Errorf("union(%v, %v) = %v does not contain both", a, b, u)
			}
		}
	}
}
