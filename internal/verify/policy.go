package verify

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

//go:embed policy/manylinux-policy.json
var policyJSON []byte

// Policy is one manylinux policy from auditwheel's manylinux-policy.json.
type Policy struct {
	Name     string   `json:"name"`
	Aliases  []string `json:"aliases"`
	Priority int      `json:"priority"`
	// SymbolVersions maps an architecture ("x86_64", "aarch64") to a symbol
	// version family ("GLIBC", "GLIBCXX", "CXXABI", "GCC", ...) to the
	// versions the policy allows ("2.17", "3.4.19", ...).
	SymbolVersions map[string]map[string][]string `json:"symbol_versions"`
	LibWhitelist   []string                       `json:"lib_whitelist"`
	Blacklist      map[string][]string            `json:"blacklist"`

	glibcMajor, glibcMinor int
	whitelist              map[string]bool
	allowed                map[string]map[string]bool // arch -> "GLIBCXX_3.4.19" -> true
}

var (
	policiesOnce sync.Once
	policies     []*Policy
	policiesErr  error
)

// Policies returns the embedded manylinux policies, oldest glibc first
// ("linux", the policy of no guarantees, is left out).
func Policies() ([]*Policy, error) {
	policiesOnce.Do(func() {
		var all []*Policy
		if err := json.Unmarshal(policyJSON, &all); err != nil {
			policiesErr = fmt.Errorf("reading the embedded manylinux policy: %w", err)
			return
		}
		for _, p := range all {
			maj, min, ok := manylinuxGlibc(p.Name)
			if !ok {
				continue
			}
			p.glibcMajor, p.glibcMinor = maj, min
			p.whitelist = map[string]bool{}
			for _, l := range p.LibWhitelist {
				p.whitelist[l] = true
			}
			p.allowed = map[string]map[string]bool{}
			for arch, fams := range p.SymbolVersions {
				m := map[string]bool{}
				for fam, vers := range fams {
					for _, v := range vers {
						m[fam+"_"+v] = true
					}
				}
				p.allowed[arch] = m
			}
			policies = append(policies, p)
		}
		// Oldest glibc first.
		for i := 1; i < len(policies); i++ {
			for j := i; j > 0 && glibcLess(policies[j], policies[j-1]); j-- {
				policies[j], policies[j-1] = policies[j-1], policies[j]
			}
		}
	})
	return policies, policiesErr
}

func glibcLess(a, b *Policy) bool {
	if a.glibcMajor != b.glibcMajor {
		return a.glibcMajor < b.glibcMajor
	}
	return a.glibcMinor < b.glibcMinor
}

// manylinuxGlibc reads the glibc version from a policy name "manylinux_2_17".
func manylinuxGlibc(name string) (int, int, bool) {
	rest, ok := strings.CutPrefix(name, "manylinux_")
	if !ok {
		return 0, 0, false
	}
	a, b, ok := strings.Cut(rest, "_")
	if !ok {
		return 0, 0, false
	}
	maj, err1 := strconv.Atoi(a)
	min, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return maj, min, true
}

// PolicyFor returns the newest manylinux policy whose glibc is at most
// major.minor: the rules a shared object must follow to load on a system
// with that glibc.
func PolicyFor(major, minor int) (*Policy, error) {
	ps, err := Policies()
	if err != nil {
		return nil, err
	}
	var best *Policy
	for _, p := range ps {
		if p.glibcMajor < major || (p.glibcMajor == major && p.glibcMinor <= minor) {
			best = p
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no manylinux policy for glibc %d.%d: the oldest known is %s", major, minor, ps[0].Name)
	}
	return best, nil
}

// Whitelisted reports whether the policy lets a shared object link against
// soname without shipping it (the system provides it).
func (p *Policy) Whitelisted(soname string) bool { return p.whitelist[soname] }

// Allows reports whether the policy lets a shared object on arch (an ELF
// machine name such as "x86_64" or "aarch64") need the symbol version ver
// ("GLIBCXX_3.4.21"). Versions of a family the policy does not list (for
// example "OPENSSL_3.0.0") are not the policy's business and are allowed.
func (p *Policy) Allows(arch, ver string) bool {
	fam, _, _ := strings.Cut(ver, "_")
	if _, ok := p.SymbolVersions[arch][fam]; !ok {
		return true
	}
	return p.allowed[arch][ver]
}

// Families returns the symbol version families the policy governs on arch.
func (p *Policy) Families(arch string) []string {
	var out []string
	for f := range p.SymbolVersions[arch] {
		out = append(out, f)
	}
	return out
}
