package lock

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/target"
)

// Target is what a lambdapack lock records of the target it was resolved
// for, in its [tool.lambdapack] table: the facts that decide which wheels
// fit.
type Target struct {
	Name         string // "python3.12/x86_64", as target.Target prints it
	Runtime      string // "python3.12"; "" for a custom target
	Architecture string // "x86_64" or "arm64"
	Python       string // "3.12"
	Glibc        string // "2.34"
}

// RecordedTarget returns the target l records, and false when it records
// none (a lock another tool wrote) or an incomplete one.
func RecordedTarget(l *Lock) (Target, bool) {
	tool, _ := l.Tool["lambdapack"].(map[string]any)
	str := func(k string) string {
		s, _ := tool[k].(string)
		return strings.TrimSpace(s)
	}
	t := Target{Name: str("target"), Runtime: str("runtime"), Architecture: str("architecture"), Python: str("python"), Glibc: str("glibc")}
	if t.Architecture == "" || t.Python == "" || t.Glibc == "" {
		return t, false
	}
	return t, true
}

func (t Target) String() string {
	return fmt.Sprintf("%s (Python %s, glibc %s)", t.targetName(), t.Python, t.Glibc)
}

// targetName is the target as target.Target prints it.
func (t Target) targetName() string {
	if t.Name == "" {
		return t.Runtime + "/" + t.Architecture
	}
	return t.Name
}

// Reuse is the verdict on an existing lock for a new resolution.
type Reuse struct {
	// Prefs are the lock's versions by canonical name, to pass as the
	// resolver's preferences; nil when the lock may not steer it.
	Prefs map[string]pep440.Version
	// Made is the target the lock records (zero when it records none).
	Made Target
	// Reason says why the lock may not steer the resolution ("" when it
	// may).
	Reason string
}

// CheckReuse decides whether the versions of old may serve as preferences
// for a resolution for want. They may only when old records the same target:
// the same Python (major.minor), glibc and architecture. A lock for another
// target would keep versions chosen for other wheels (a library held back by
// glibc 2.26 staying old on a 2.34 runtime), and a lock that records no
// target could have been made for anything.
func CheckReuse(old *Lock, want target.Target) Reuse {
	made, ok := RecordedTarget(old)
	if !ok {
		by := old.CreatedBy
		if by == "" {
			by = "an unknown tool"
		}
		return Reuse{Made: made, Reason: fmt.Sprintf("it records no lambdapack target (written by %s)", by)}
	}
	var diffs []string
	if !sameRelease(majorMinor(made.Python), want.Python()) {
		diffs = append(diffs, "Python "+made.Python+", not "+want.Python())
	}
	if !sameRelease(made.Glibc, want.Glibc()) {
		diffs = append(diffs, "glibc "+made.Glibc+", not "+want.Glibc())
	}
	if a, err := target.ParseArch(made.Architecture); err != nil || a != want.Arch {
		diffs = append(diffs, made.Architecture+", not "+string(want.Arch))
	}
	if len(diffs) > 0 {
		return Reuse{Made: made, Reason: fmt.Sprintf("it was made for %s: %s", made, strings.Join(diffs, "; "))}
	}
	prefs := map[string]pep440.Version{}
	for _, p := range old.Packages {
		if v, err := pep440.Parse(p.Version); err == nil && p.Name != "" {
			prefs[names.Canonical(p.Name)] = v
		}
	}
	return Reuse{Prefs: prefs, Made: made}
}

// Note is what to tell the user about the existing lock at path once the
// resolution is done; chosen maps canonical names to the versions chosen.
// It is "" when the lock was reused and held no versions.
func (r Reuse) Note(path string, chosen map[string]string) string {
	if r.Prefs == nil {
		if r.Made.Architecture != "" {
			// The lock written over it was another target's: say so, or
			// its loss goes unnoticed until that target is built.
			return fmt.Sprintf("ignored the versions in %s: %s; resolved afresh and replaced it, so it no longer holds the %s lock (keep one lock per target: -o pylock.NAME.toml)", path, r.Reason, r.Made.targetName())
		}
		return fmt.Sprintf("ignored the versions in %s: %s; resolved afresh", path, r.Reason)
	}
	if len(r.Prefs) == 0 {
		return ""
	}
	kept := 0
	for name, want := range r.Prefs {
		if got, ok := chosen[name]; ok {
			if v, err := pep440.Parse(got); err == nil && v.Equal(want) {
				kept++
			}
		}
	}
	return fmt.Sprintf("kept %d of the %d versions in %s where they still fit; -U upgrades them", kept, len(r.Prefs), path)
}

// majorMinor keeps the first two parts of a dotted version ("3.12.4" ->
// "3.12").
func majorMinor(v string) string {
	if parts := strings.SplitN(v, ".", 3); len(parts) == 3 {
		return parts[0] + "." + parts[1]
	}
	return v
}

// sameRelease compares dotted numbers ("3.12" and "3.12.0" are the same).
func sameRelease(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for len(pa) < len(pb) {
		pa = append(pa, "0")
	}
	for len(pb) < len(pa) {
		pb = append(pb, "0")
	}
	for i := range pa {
		x, err1 := strconv.Atoi(pa[i])
		y, err2 := strconv.Atoi(pb[i])
		if err1 != nil || err2 != nil || x != y {
			return false
		}
	}
	return true
}
