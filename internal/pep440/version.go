package pep440

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Pre-release kinds, in PEP 440 order.
const (
	preNone  int8 = 0
	preAlpha int8 = 1
	preBeta  int8 = 2
	preRC    int8 = 3
)

const (
	flagPost uint8 = 1 << iota
	flagDev
)

// Version is a parsed PEP 440 version. The zero value is the version "0".
// Versions are immutable values; copying one is cheap (it shares its release
// slice, which is never modified after parsing).
type Version struct {
	release []int
	local   string // normalised: lower case, "." separated, numbers without leading zeros
	epoch   int
	pre     int
	post    int
	dev     int
	preKind int8
	flags   uint8
}

// ErrInvalidVersion is wrapped by every error Parse returns.
var ErrInvalidVersion = errors.New("invalid PEP 440 version")

// Parse parses a PEP 440 version, accepting every spelling the standard's
// normalisation rules allow (case, separators, "v" prefix, surrounding
// white space, implicit numbers, alternative pre/post names).
func Parse(s string) (Version, error) {
	v, ok, tooBig := parse(s)
	if !ok {
		if tooBig {
			return Version{}, fmt.Errorf("parsing version %q: a number is larger than %d: %w", clip(s), math.MaxInt64, ErrInvalidVersion)
		}
		return Version{}, fmt.Errorf("parsing version %q: not a PEP 440 version (expected e.g. 1.2.3, 1.0rc1, 2!1.0.post1.dev2+local): %w", clip(s), ErrInvalidVersion)
	}
	return v, nil
}

// MustParse is Parse that panics on error; for constants and tests.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isSep(c byte) bool   { return c == '.' || c == '-' || c == '_' }
func isAlnum(c byte) bool {
	c = lower(c)
	return isDigit(c) || ('a' <= c && c <= 'z')
}

// hasWordAt reports whether s[i:] starts with word (lower case), ignoring case.
func hasWordAt(s string, i int, word string) bool {
	if len(s)-i < len(word) {
		return false
	}
	for j := 0; j < len(word); j++ {
		if lower(s[i+j]) != word[j] {
			return false
		}
	}
	return true
}

// number reads decimal digits at s[i:]. It returns the value, the index after
// the digits, whether any digit was read, and whether the value overflowed.
func number(s string, i int) (n int, end int, ok bool, overflow bool) {
	start := i
	for i < len(s) && isDigit(s[i]) {
		d := int(s[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			overflow = true
		} else {
			n = n*10 + d
		}
		i++
	}
	return n, i, i > start, overflow
}

func trimSpace(s string) string {
	// Fast path for the common case of no surrounding white space.
	if len(s) > 0 && s[0] > ' ' && s[0] < 0x80 && s[len(s)-1] > ' ' && s[len(s)-1] < 0x80 {
		return s
	}
	return strings.TrimFunc(s, isPySpace)
}

// isPySpace is Python's str.isspace (what packaging's regular expressions
// call \s): Go's unicode.IsSpace plus the ASCII separators U+001C..U+001F.
func isPySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

var preWords = [...]struct {
	word string
	kind int8
}{
	{"alpha", preAlpha}, {"a", preAlpha}, {"beta", preBeta}, {"b", preBeta},
	{"preview", preRC}, {"pre", preRC}, {"c", preRC}, {"rc", preRC},
}

// parse is the allocation-light parser behind Parse. It mirrors packaging's
// VERSION_PATTERN (matched case-insensitively, ASCII only).
func parse(s string) (v Version, ok bool, tooBig bool) {
	s = trimSpace(s)
	i := 0
	if i < len(s) && lower(s[i]) == 'v' {
		i++
	}
	// Epoch or first release number.
	n, j, got, of := number(s, i)
	if !got {
		return Version{}, false, false
	}
	tooBig = tooBig || of
	if j < len(s) && s[j] == '!' {
		v.epoch = n
		i = j + 1
		n, j, got, of = number(s, i)
		if !got {
			return Version{}, false, tooBig
		}
		tooBig = tooBig || of
	}
	// Release: count parts first so the slice is allocated once.
	parts := 1
	for k := j; k+1 < len(s) && s[k] == '.' && isDigit(s[k+1]); {
		parts++
		k++
		for k < len(s) && isDigit(s[k]) {
			k++
		}
	}
	release := make([]int, 1, parts)
	release[0] = n
	i = j
	for i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		n, i, _, of = number(s, i+1)
		tooBig = tooBig || of
		release = append(release, n)
	}
	v.release = release

	// Pre-release: [-_.]? (alpha|a|beta|b|preview|pre|c|rc) [-_.]? [0-9]*
	{
		k := i
		if k < len(s) && isSep(s[k]) {
			k++
		}
		for _, w := range preWords {
			if hasWordAt(s, k, w.word) {
				// "c" must not steal the "r" of a post "rev"/"r": the
				// words are tried longest-first within each family so a
				// match here is always the regex's match.
				v.preKind = w.kind
				k += len(w.word)
				if k < len(s) && isSep(s[k]) {
					k++
				}
				n, k2, got, of := number(s, k)
				if got {
					v.pre = n
					tooBig = tooBig || of
					k = k2
				}
				i = k
				break
			}
		}
	}
	// Post-release: -N | [-_.]? (post|rev|r) [-_.]? [0-9]*
	if i+1 < len(s) && s[i] == '-' && isDigit(s[i+1]) {
		n, i, _, of = number(s, i+1)
		tooBig = tooBig || of
		v.post = n
		v.flags |= flagPost
	} else {
		k := i
		if k < len(s) && isSep(s[k]) {
			k++
		}
		w := 0
		switch {
		case hasWordAt(s, k, "post"):
			w = 4
		case hasWordAt(s, k, "rev"):
			w = 3
		case hasWordAt(s, k, "r"):
			w = 1
		}
		if w > 0 {
			k += w
			if k < len(s) && isSep(s[k]) {
				k++
			}
			n, k2, got, of := number(s, k)
			if got {
				v.post = n
				tooBig = tooBig || of
				k = k2
			}
			v.flags |= flagPost
			i = k
		}
	}
	// Dev release: [-_.]? dev [-_.]? [0-9]*
	{
		k := i
		if k < len(s) && isSep(s[k]) {
			k++
		}
		if hasWordAt(s, k, "dev") {
			k += 3
			if k < len(s) && isSep(s[k]) {
				k++
			}
			n, k2, got, of := number(s, k)
			if got {
				v.dev = n
				tooBig = tooBig || of
				k = k2
			}
			v.flags |= flagDev
			i = k
		}
	}
	// Local: + [a-z0-9]+ ([-_.][a-z0-9]+)*
	if i < len(s) && s[i] == '+' {
		local, ok := normaliseLocal(s[i+1:])
		if !ok {
			return Version{}, false, tooBig
		}
		v.local = local
		i = len(s)
	}
	if i != len(s) || tooBig {
		return Version{}, false, tooBig
	}
	return v, true, false
}

// normaliseLocal validates a local version label and returns its normal form:
// lower case, segments joined by ".", numeric segments without leading zeros.
// It does not allocate when the label is already normal.
func normaliseLocal(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	normal := true
	segStart := 0
	for k := 0; k <= len(s); k++ {
		if k == len(s) || isSep(s[k]) {
			if k == segStart {
				return "", false // empty segment
			}
			if k < len(s) && s[k] != '.' {
				normal = false
			}
			seg := s[segStart:k]
			if len(seg) > 1 && seg[0] == '0' && allDigits(seg) {
				normal = false
			}
			segStart = k + 1
			continue
		}
		c := s[k]
		if !isAlnum(c) {
			return "", false
		}
		if 'A' <= c && c <= 'Z' {
			normal = false
		}
	}
	if normal {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	segStart = 0
	for k := 0; k <= len(s); k++ {
		if k == len(s) || isSep(s[k]) {
			seg := s[segStart:k]
			if segStart > 0 {
				b.WriteByte('.')
			}
			if allDigits(seg) {
				for len(seg) > 1 && seg[0] == '0' {
					seg = seg[1:]
				}
				b.WriteString(seg)
			} else {
				for x := 0; x < len(seg); x++ {
					b.WriteByte(lower(seg[x]))
				}
			}
			segStart = k + 1
		}
	}
	return b.String(), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// String returns the normalised form of the version, as packaging prints it.
func (v Version) String() string {
	return string(v.appendTo(make([]byte, 0, 24)))
}

func (v Version) appendTo(b []byte) []byte {
	b = v.appendPublic(b)
	if v.local != "" {
		b = append(b, '+')
		b = append(b, v.local...)
	}
	return b
}

func (v Version) appendPublic(b []byte) []byte {
	if v.epoch != 0 {
		b = strconv.AppendInt(b, int64(v.epoch), 10)
		b = append(b, '!')
	}
	if len(v.release) == 0 {
		b = append(b, '0')
	}
	for i, n := range v.release {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	switch v.preKind {
	case preAlpha:
		b = append(b, 'a')
	case preBeta:
		b = append(b, 'b')
	case preRC:
		b = append(b, "rc"...)
	}
	if v.preKind != preNone {
		b = strconv.AppendInt(b, int64(v.pre), 10)
	}
	if v.flags&flagPost != 0 {
		b = append(b, ".post"...)
		b = strconv.AppendInt(b, int64(v.post), 10)
	}
	if v.flags&flagDev != 0 {
		b = append(b, ".dev"...)
		b = strconv.AppendInt(b, int64(v.dev), 10)
	}
	return b
}

// Canonical is packaging.utils.canonicalize_version: the normal form with
// trailing zero release parts removed ("1.0.0" -> "1", "1.40.0" -> "1.40").
// Versions that are Equal have the same Canonical form, so it suits map keys.
func (v Version) Canonical() string { return canonicalVersion(v, true) }

// Epoch returns the epoch (0 when absent).
func (v Version) Epoch() int { return v.epoch }

// Release returns a copy of the release segment, e.g. [1 2 0] for "1.2.0".
func (v Version) Release() []int {
	if len(v.release) == 0 {
		return []int{0}
	}
	return append([]int(nil), v.release...)
}

// ReleaseLen is the number of release components, without copying them.
func (v Version) ReleaseLen() int {
	if len(v.release) == 0 {
		return 1
	}
	return len(v.release)
}

// ReleaseAt returns release component i, or 0 past the end.
func (v Version) ReleaseAt(i int) int {
	if i < len(v.release) {
		return v.release[i]
	}
	return 0
}

// Major, Minor and Micro are the first three release components (0 if absent).
func (v Version) Major() int { return v.ReleaseAt(0) }

// Minor is the second release component (0 if absent).
func (v Version) Minor() int { return v.ReleaseAt(1) }

// Micro is the third release component (0 if absent).
func (v Version) Micro() int { return v.ReleaseAt(2) }

// Pre returns the pre-release label ("a", "b" or "rc") and number; ok is
// false for a version without a pre-release segment.
func (v Version) Pre() (label string, n int, ok bool) {
	switch v.preKind {
	case preAlpha:
		return "a", v.pre, true
	case preBeta:
		return "b", v.pre, true
	case preRC:
		return "rc", v.pre, true
	}
	return "", 0, false
}

// Post returns the post-release number; ok is false when there is none.
func (v Version) Post() (n int, ok bool) { return v.post, v.flags&flagPost != 0 }

// Dev returns the dev-release number; ok is false when there is none.
func (v Version) Dev() (n int, ok bool) { return v.dev, v.flags&flagDev != 0 }

// Local returns the normalised local label without "+" ("" when absent).
func (v Version) Local() string { return v.local }

// IsPrerelease reports whether v is a pre-release or a dev release.
func (v Version) IsPrerelease() bool { return v.preKind != preNone || v.flags&flagDev != 0 }

// IsDevrelease reports whether v has a dev segment.
func (v Version) IsDevrelease() bool { return v.flags&flagDev != 0 }

// IsPostrelease reports whether v has a post segment.
func (v Version) IsPostrelease() bool { return v.flags&flagPost != 0 }

// Public returns v without its local label.
func (v Version) Public() Version {
	v.local = ""
	return v
}

// BaseVersion returns the epoch and release only: "1!1.0rc1.post2+x" -> "1!1.0".
func (v Version) BaseVersion() Version {
	return Version{epoch: v.epoch, release: v.release}
}

// Equal reports whether v and w are the same version in PEP 440 order
// (1.0 == 1.0.0; local labels count).
func (v Version) Equal(w Version) bool { return v.Compare(w) == 0 }

// Less reports v < w; handy for sort.Slice.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w in PEP
// 440 order. It does not allocate.
func (v Version) Compare(w Version) int { return compareVersions(&v, &w) }

func compareVersions(v, w *Version) int {
	if v.epoch != w.epoch {
		return cmpInt(v.epoch, w.epoch)
	}
	if c := compareRelease(v.release, w.release); c != 0 {
		return c
	}
	// Fast path: two final releases (no pre, post or dev) tie on the suffix.
	if v.preKind|w.preKind != 0 || v.flags|w.flags != 0 {
		if c := compareSuffix(v, w); c != 0 {
			return c
		}
	}
	if len(v.local)|len(w.local) == 0 {
		return 0
	}
	return compareLocal(v.local, w.local)
}

// comparePublic is Compare ignoring local labels.
func comparePublic(v, w *Version) int {
	if v.epoch != w.epoch {
		return cmpInt(v.epoch, w.epoch)
	}
	if c := compareRelease(v.release, w.release); c != 0 {
		return c
	}
	if v.preKind|w.preKind != 0 || v.flags|w.flags != 0 {
		return compareSuffix(v, w)
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareRelease(a, b []int) int {
	n := min(len(a), len(b))
	a2, b2 := a[:n], b[:n]
	for i, x := range a2 {
		if y := b2[i]; x != y {
			return cmpInt(x, y)
		}
	}
	// Missing components are zero; parsed numbers are never negative.
	for _, x := range a[n:] {
		if x != 0 {
			return 1
		}
	}
	for _, y := range b[n:] {
		if y != 0 {
			return -1
		}
	}
	return 0
}

// preRank is packaging's pre key: a dev release with no pre/post sorts below
// every pre-release, a version without pre sorts above them.
func (v Version) preRank() int8 {
	if v.preKind == preNone {
		if v.flags&(flagPost|flagDev) == flagDev {
			return -1
		}
		return 4
	}
	return v.preKind
}

func compareSuffix(v, w *Version) int {
	pv, pw := v.preRank(), w.preRank()
	if pv != pw {
		if pv < pw {
			return -1
		}
		return 1
	}
	if v.preKind != preNone && v.pre != w.pre {
		return cmpInt(v.pre, w.pre)
	}
	// post: absent sorts first.
	hv, hw := v.flags&flagPost != 0, w.flags&flagPost != 0
	if hv != hw {
		if hv {
			return 1
		}
		return -1
	}
	if hv && v.post != w.post {
		return cmpInt(v.post, w.post)
	}
	// dev: absent sorts last.
	dv, dw := v.flags&flagDev != 0, w.flags&flagDev != 0
	if dv != dw {
		if dv {
			return -1
		}
		return 1
	}
	if dv && v.dev != w.dev {
		return cmpInt(v.dev, w.dev)
	}
	return 0
}

// compareLocal orders normalised local labels: absent first; segment by
// segment, numbers above strings, numbers numerically, strings
// lexicographically; a label that is a prefix of another sorts first.
func compareLocal(a, b string) int {
	if a == b {
		return 0
	}
	if a == "" {
		return -1
	}
	if b == "" {
		return 1
	}
	for {
		if a == "" || b == "" {
			return cmpInt(len(a), len(b))
		}
		sa, ra := cutDot(a)
		sb, rb := cutDot(b)
		na, nb := allDigits(sa), allDigits(sb)
		switch {
		case na && nb:
			// No leading zeros in normal form: longer is bigger.
			if len(sa) != len(sb) {
				return cmpInt(len(sa), len(sb))
			}
			if c := strings.Compare(sa, sb); c != 0 {
				return c
			}
		case na:
			return 1
		case nb:
			return -1
		default:
			if c := strings.Compare(sa, sb); c != 0 {
				return c
			}
		}
		a, b = ra, rb
	}
}

func cutDot(s string) (seg, rest string) {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// sameTrimmedRelease reports whether a and b are equal ignoring trailing zeros.
func sameTrimmedRelease(a, b []int) bool { return compareRelease(a, b) == 0 }

// withDev returns v's public version with dev set to n (post and pre kept).
func (v Version) withDev(n int) Version {
	v.local = ""
	v.dev = n
	v.flags |= flagDev
	return v
}

// MarshalText implements encoding.TextMarshaler (the normalised form).
func (v Version) MarshalText() ([]byte, error) { return v.appendTo(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *Version) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}
