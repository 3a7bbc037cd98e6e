package tags

import (
	"fmt"
	"strconv"
	"strings"
)

// lastGlibcMinor is the highest minor assumed for an older glibc major when
// the ceiling is glibc 3.x or later (packaging's _LAST_GLIBC_MINOR default).
const lastGlibcMinor = 50

// manylinuxArchs are the architectures manylinux wheels exist for: packaging's
// _ALLOWED_ARCHS plus i686 and armv7l, which packaging admits after checking
// the running interpreter's ELF header (we trust the caller's word instead).
var manylinuxArchs = map[string]bool{
	"x86_64": true, "i686": true, "aarch64": true, "armv7l": true, "ppc64": true,
	"ppc64le": true, "s390x": true, "loongarch64": true, "riscv64": true,
}

// legacyManylinux maps a glibc 2.X to its pre-PEP 600 alias.
var legacyManylinux = map[[2]int]string{
	{2, 17}: "manylinux2014", // PEP 599, CentOS 7
	{2, 12}: "manylinux2010", // PEP 571, CentOS 6
	{2, 5}:  "manylinux1",    // PEP 513, CentOS 5
}

// ManylinuxPlatforms lists the manylinux platform tags a system with glibc
// glibcMajor.glibcMinor on machine (platform.machine(): "x86_64", "aarch64")
// accepts, newest first: every manylinux_2_X from the ceiling down to the
// oldest that exists for the architecture (2_5 on x86_64/i686, 2_17 elsewhere,
// since no older wheels exist there), each legacy alias (manylinux2014 = 2_17,
// manylinux2010 = 2_12, manylinux1 = 2_5) right after its 2_X equivalent.
// This is packaging's _manylinux.platform_tags for one architecture, with the
// host's glibc replaced by the given ceiling. An architecture manylinux does
// not cover (armv6l, ...) gets no tags.
func ManylinuxPlatforms(machine string, glibcMajor, glibcMinor int) []string {
	if !manylinuxArchs[machine] || glibcMajor < 2 || glibcMinor < 0 {
		return nil
	}
	tooOldMajor, tooOldMinor := 2, 16
	if machine == "x86_64" || machine == "i686" {
		tooOldMinor = 4
	}
	type ver struct{ major, minor int }
	maxes := []ver{{glibcMajor, glibcMinor}}
	for m := glibcMajor - 1; m > 1; m-- {
		maxes = append(maxes, ver{m, lastGlibcMinor})
	}
	var out []string
	for _, mx := range maxes {
		minMinor := -1
		if mx.major == tooOldMajor {
			minMinor = tooOldMinor
		}
		for minor := mx.minor; minor > minMinor; minor-- {
			out = append(out, fmt.Sprintf("manylinux_%d_%d_%s", mx.major, minor, machine))
			if legacy, ok := legacyManylinux[[2]int{mx.major, minor}]; ok {
				out = append(out, legacy+"_"+machine)
			}
		}
	}
	return out
}

// Manylinux is a manylinux platform tag taken apart.
type Manylinux struct {
	GlibcMajor, GlibcMinor int    // the glibc the wheel needs at least
	Arch                   string // "x86_64", "aarch64"
}

// ParseManylinux reads a manylinux platform tag, PEP 600 form
// ("manylinux_2_28_aarch64") or a legacy alias ("manylinux2014_x86_64").
// ok is false for any other platform (musllinux, linux_x86_64, any, ...).
func ParseManylinux(platform string) (m Manylinux, ok bool) {
	for v, legacy := range legacyManylinux {
		if arch, found := strings.CutPrefix(platform, legacy+"_"); found && arch != "" {
			return Manylinux{v[0], v[1], arch}, true
		}
	}
	rest, found := strings.CutPrefix(platform, "manylinux_")
	if !found {
		return Manylinux{}, false
	}
	parts := strings.SplitN(rest, "_", 3)
	if len(parts) != 3 || parts[2] == "" {
		return Manylinux{}, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || major < 0 || minor < 0 ||
		strconv.Itoa(major) != parts[0] || strconv.Itoa(minor) != parts[1] {
		return Manylinux{}, false
	}
	return Manylinux{major, minor, parts[2]}, true
}

// Compatible reports whether a system with glibc major.minor can load a wheel
// needing m (PEP 600: the system's glibc is at least the tag's).
func (m Manylinux) Compatible(glibcMajor, glibcMinor int) bool {
	return m.GlibcMajor < glibcMajor || (m.GlibcMajor == glibcMajor && m.GlibcMinor <= glibcMinor)
}
