package install

import (
	"regexp"
	"strconv"
	"strings"
)

// A small PEP 440 normaliser, enough to compare a wheel file name's version
// with its METADATA's (internal/pep440 is the full implementation).
var versionRE = regexp.MustCompile(`(?i)^\s*v?(?:(?:([0-9]+)!)?([0-9]+(?:\.[0-9]+)*)` +
	`([-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?` +
	`((?:-([0-9]+))|(?:[-_.]?(post|rev|r)[-_.]?([0-9]+)?))?` +
	`([-_.]?(dev)[-_.]?([0-9]+)?)?)` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$`)

func num(s string) string {
	if s == "" {
		return "0"
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return strings.TrimLeft(s, "0")
	}
	return strconv.FormatUint(n, 10)
}

// normalizeVersion returns a canonical form of v in which versions equal
// under PEP 440 are equal strings (trailing ".0"s dropped); ok is false
// when v is not a PEP 440 version.
func normalizeVersion(v string) (string, bool) {
	m := versionRE.FindStringSubmatch(v)
	if m == nil {
		return "", false
	}
	var b strings.Builder
	if m[1] != "" && num(m[1]) != "0" {
		b.WriteString(num(m[1]) + "!")
	}
	rel := strings.Split(m[2], ".")
	for len(rel) > 1 && num(rel[len(rel)-1]) == "0" {
		rel = rel[:len(rel)-1]
	}
	for i, r := range rel {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(num(r))
	}
	if m[3] != "" {
		switch strings.ToLower(m[4]) {
		case "alpha", "a":
			b.WriteString("a")
		case "beta", "b":
			b.WriteString("b")
		default:
			b.WriteString("rc")
		}
		b.WriteString(num(m[5]))
	}
	if m[6] != "" {
		b.WriteString(".post")
		if m[7] != "" {
			b.WriteString(num(m[7]))
		} else {
			b.WriteString(num(m[9]))
		}
	}
	if m[10] != "" {
		b.WriteString(".dev" + num(m[12]))
	}
	if m[13] != "" {
		b.WriteString("+" + strings.ToLower(strings.NewReplacer("-", ".", "_", ".").Replace(m[13])))
	}
	return b.String(), true
}

func sameVersion(a, b string) bool {
	na, oka := normalizeVersion(a)
	nb, okb := normalizeVersion(b)
	if oka && okb {
		return na == nb
	}
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}
