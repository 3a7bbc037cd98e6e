package pep440

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// TestDifferentialPackaging compares this package with pypa/packaging at the
// version scripts/setup-packaging.sh pins (testutil.PackagingPython) on a
// generated corpus: odd spellings of versions, specifier sets of every
// operator, and contains/filter under the three pre-release policies.

const packagingOracle = `
import json, sys
import packaging
from packaging.version import Version, InvalidVersion
from packaging.specifiers import SpecifierSet, InvalidSpecifier
d = json.load(sys.stdin)
out = {"packaging": packaging.__version__, "versions": [], "cmp": [], "sets": []}
parsed = {}
for s in d["versions"]:
    try:
        v = Version(s)
        parsed[s] = v
        out["versions"].append(str(v))
    except (InvalidVersion, ValueError):
        out["versions"].append(None)
for a, b in d["pairs"]:
    va, vb = parsed[a], parsed[b]
    out["cmp"].append((va > vb) - (va < vb))
pres = [None, True, False]
for s in d["sets"]:
    try:
        ss = SpecifierSet(s)
    except (InvalidSpecifier, ValueError):
        out["sets"].append(None)
        continue
    r = {"str": str(ss), "prereleases": bool(ss.prereleases),
         "unsat": [ss.is_unsatisfiable(), SpecifierSet(s, prereleases=False).is_unsatisfiable()],
         "contains": [[ss.contains(v, prereleases=p) for p in pres] for v in d["candidates"]],
         "filter": [list(ss.filter(d["candidates"], prereleases=p)) for p in pres]}
    out["sets"].append(r)
json.dump(out, sys.stdout)
`

type oracleIn struct {
	Versions   []string    `json:"versions"`
	Pairs      [][2]string `json:"pairs"`
	Sets       []string    `json:"sets"`
	Candidates []string    `json:"candidates"`
}

type oracleSet struct {
	Str         string      `json:"str"`
	Prereleases bool        `json:"prereleases"`
	Unsat       [2]bool     `json:"unsat"`
	Contains    [][3]bool   `json:"contains"`
	Filter      [3][]string `json:"filter"`
}

type oracleOut struct {
	Packaging string       `json:"packaging"`
	Versions  []*string    `json:"versions"`
	Cmp       []int        `json:"cmp"`
	Sets      []*oracleSet `json:"sets"`
}

// genVersion writes a version in a random legal (or occasionally broken)
// spelling, with small numbers so that equalities and neighbours are common.
func genVersion(r *rand.Rand) string {
	var b strings.Builder
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	num := func() string {
		if r.IntN(10) == 0 {
			return pick("00", "01", "10", "007")
		}
		return fmt.Sprint(r.IntN(3))
	}
	if r.IntN(12) == 0 {
		b.WriteString(pick("v", "V", " ", "\t"))
	}
	if r.IntN(8) == 0 {
		b.WriteString(num() + "!")
	}
	n := 1 + r.IntN(4)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(num())
	}
	sep := func() string { return pick("", "", ".", "-", "_") }
	if r.IntN(3) == 0 {
		b.WriteString(sep() + pick("a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC"))
		if r.IntN(4) > 0 {
			b.WriteString(sep() + num())
		}
	}
	if r.IntN(4) == 0 {
		if r.IntN(4) == 0 {
			b.WriteString("-" + num())
		} else {
			b.WriteString(sep() + pick("post", "r", "rev", "POST") + sep())
			if r.IntN(4) > 0 {
				b.WriteString(num())
			}
		}
	}
	if r.IntN(4) == 0 {
		b.WriteString(sep() + pick("dev", "DEV"))
		if r.IntN(4) > 0 {
			b.WriteString(sep() + num())
		}
	}
	if r.IntN(6) == 0 {
		b.WriteString("+" + pick("local", "1", "abc.2", "ABC-01", "a_b.c", "0", "z.0.a"))
	}
	if r.IntN(30) == 0 {
		b.WriteString(pick(".", "+", "..", "x", " 1", "-"))
	}
	if r.IntN(15) == 0 {
		b.WriteString(pick(" ", "\n"))
	}
	return b.String()
}

// genSpecifier writes one clause; genSet joins one to three of them.
func genSpecifier(r *rand.Rand) string {
	ops := []string{"==", "!=", "<=", ">=", "<", ">", "~=", "==="}
	op := ops[r.IntN(len(ops))]
	v := strings.TrimSpace(genVersion(r))
	switch r.IntN(6) {
	case 0:
		// release-only wildcard
		v = fmt.Sprintf("%d.%d.*", r.IntN(3), r.IntN(3))
	case 1:
		if op == "===" {
			v = []string{"foobar", "1.0", "1.01", "1.0a1"}[r.IntN(4)]
		}
	}
	sp := ""
	if r.IntN(5) == 0 {
		sp = " "
	}
	return op + sp + v
}

func genSet(r *rand.Rand) string {
	n := 1 + r.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = genSpecifier(r)
	}
	return strings.Join(parts, ",")
}

func TestDifferentialPackaging(t *testing.T) {
	py := testutil.PackagingPython(t)
	r := rand.New(rand.NewPCG(440, 26))
	var in oracleIn
	for i := 0; i < 3000; i++ {
		in.Versions = append(in.Versions, genVersion(r))
	}
	in.Versions = append(in.Versions, "\u202f1.0\t\u2029\n ", "\u0661.0", "1.0+\u0130", "1.0+\u0131", "1.0a.", "1.0-",
		"1!", "v", "1.0_a", "1.0.0.0.0a-1", "1.2+01.007", "00!1.2", "1.0-dev-", "1.0a.post1", "1.0.post.dev", "1.0+0a.00a",
		"\x1c1.0", "1.0\x1f", "\u00851.0", "1.0\u200b")
	var valid []string
	for _, s := range in.Versions {
		if _, err := Parse(s); err == nil {
			valid = append(valid, s)
		}
	}
	for i := 0; i < 20000 && len(valid) > 0; i++ {
		in.Pairs = append(in.Pairs, [2]string{valid[r.IntN(len(valid))], valid[r.IntN(len(valid))]})
	}
	for i := 0; i < 1000; i++ {
		in.Sets = append(in.Sets, genSet(r))
	}
	// Hand-picked edges of the specifier grammar.
	in.Sets = append(in.Sets, "===", "=== foo", "===foo)", "===foo;", "=== foo bar", "== 1.0", "==1.0.*.*",
		"==v1.*", "==V1.*", "==1.*+local", "!= 1.0.* ", "<=v1.0", "~=V1.0", "~= 1.0", " ==1.0 ", "==1.0+",
		"==1.0+a..b", "==1!1.*", "==1!.*", "==.*", "==1.", "~=1.0.*", ">=1.0a1.dev1", ">1.0-1", "<1.0_post1",
		"==1.0.post-1", "==1.0-1.dev1", "==1.0a1-1", "==1.0c.rev.dev", "=1.0", "==\t1.0\u00a0", "\u22651.0",
		"==\u0661.0", "==1.0+\u0131", ",,>=1,,", "<0", "<0.dev0", ">=1.0,<1.0.post0", "~=1.0a1,<1.0.post0",
		">1.0,<=1.0.post1", "!=0.dev0,<0.dev1", "===1.01,==1.1", "===FOOBAR,===foobar",
		"\x1c>=1.0\x1f", "===a\x1cb", "== \u00851.0", "==1.0\u200b")
	seen := map[string]bool{}
	for len(in.Candidates) < 45 {
		s := strings.TrimSpace(genVersion(r))
		if _, err := Parse(s); err == nil && !seen[s] {
			seen[s] = true
			in.Candidates = append(in.Candidates, s)
		}
	}
	in.Candidates = append(in.Candidates, "foobar", "1.01")

	payload, _ := json.Marshal(in)
	cmd := exec.Command(py, "-c", packagingOracle)
	cmd.Stdin = bytes.NewReader(payload)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("running packaging with %s: %v\n%s", py, err, stderr.String())
	}
	var want oracleOut
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("decoding packaging's answers: %v", err)
	}

	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 25 {
			t.Errorf("packaging %s: "+format, append([]any{want.Packaging}, args...)...)
		}
	}
	for i, s := range in.Versions {
		v, err := Parse(s)
		w := want.Versions[i]
		switch {
		case w == nil && err == nil:
			report("Parse(%q) = %s, packaging rejects it", s, v)
		case w != nil && err != nil:
			report("Parse(%q): %v, packaging gives %s", s, err, *w)
		case w != nil && v.String() != *w:
			report("Parse(%q) = %s, packaging gives %s", s, v, *w)
		}
	}
	for i, p := range in.Pairs {
		if got := MustParse(p[0]).Compare(MustParse(p[1])); got != want.Cmp[i] {
			report("Compare(%q, %q) = %d, packaging %d", p[0], p[1], got, want.Cmp[i])
		}
	}
	pres := []Prerelease{PrereleaseDefault, PrereleaseAllow, PrereleaseDeny}
	nsets := 0
	for i, s := range in.Sets {
		set, err := ParseSpecifierSet(s)
		w := want.Sets[i]
		if (w == nil) != (err != nil) {
			report("ParseSpecifierSet(%q): err=%v, packaging valid=%v", s, err, w != nil)
			continue
		}
		if w == nil {
			continue
		}
		nsets++
		if set.String() != w.Str {
			report("String(%q) = %q, packaging %q", s, set.String(), w.Str)
		}
		if set.Prereleases() != w.Prereleases {
			report("Prereleases(%q) = %v, packaging %v", s, set.Prereleases(), w.Prereleases)
		}
		if got := set.IsUnsatisfiable(); got != w.Unsat[0] {
			report("IsUnsatisfiable(%q) = %v, packaging %v", s, got, w.Unsat[0])
		}
		if got := set.WithPrereleases(PrereleaseDeny).IsUnsatisfiable(); got != w.Unsat[1] {
			report("IsUnsatisfiable(%q, deny) = %v, packaging %v", s, got, w.Unsat[1])
		}
		for j, c := range in.Candidates {
			for k, p := range pres {
				if got := set.ContainsString(c, p); got != w.Contains[j][k] {
					report("ContainsString(%q, %q, %v) = %v, packaging %v", s, c, p, got, w.Contains[j][k])
				}
			}
		}
		for k, p := range pres {
			got := set.FilterStrings(in.Candidates, p)
			if strings.Join(got, " ") != strings.Join(w.Filter[k], " ") {
				report("FilterStrings(%q, %v) = %q, packaging %q", s, p, got, w.Filter[k])
			}
		}
	}
	t.Logf("compared with packaging %s: %d versions, %d comparisons, %d specifier sets x %d candidates x 3 policies",
		want.Packaging, len(in.Versions), len(in.Pairs), nsets, len(in.Candidates))
}
