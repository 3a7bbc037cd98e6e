package verify

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strconv"
	"strings"
)

// Format is the kind of binary a file's first bytes announce.
type Format int

const (
	NotBinary Format = iota
	ELF
	MachO
	PE
)

func (f Format) String() string {
	switch f {
	case ELF:
		return "ELF"
	case MachO:
		return "Mach-O"
	case PE:
		return "PE"
	}
	return "not a binary"
}

// sniffLen is how many leading bytes Sniff looks at.
const sniffLen = 64

// Sniff tells ELF, Mach-O (thin or fat) and PE files apart by their magic
// numbers. head is the file's first bytes (up to 64 are used).
func Sniff(head []byte) Format {
	if len(head) >= 4 && bytes.Equal(head[:4], []byte("\x7fELF")) {
		return ELF
	}
	if len(head) >= 8 {
		be := binary.BigEndian.Uint32(head)
		le := binary.LittleEndian.Uint32(head)
		switch {
		case be == 0xfeedface || be == 0xfeedfacf || le == 0xfeedface || le == 0xfeedfacf:
			return MachO
		case be == 0xcafebabe || be == 0xcafebabf:
			// Fat Mach-O, unless it is a Java class file (same magic):
			// a fat header's architecture count is small, a class file's
			// version word is at least 45 (major) << 0.
			if n := binary.BigEndian.Uint32(head[4:]); n > 0 && n < 20 {
				return MachO
			}
		}
	}
	if len(head) >= 2 && head[0] == 'M' && head[1] == 'Z' {
		if len(head) >= 0x40 {
			off := binary.LittleEndian.Uint32(head[0x3c:])
			if off > 0 && off < 1<<20 {
				return PE // the PE signature is checked by the caller when it can seek
			}
		}
	}
	return NotBinary
}

// NativeHeadLen is how many leading bytes of a file Native needs to
// decide: the ELF and Mach-O magic numbers, and a PE header's signature.
const NativeHeadLen = nativeHeadLn

// Native tells native code from a file's first bytes (up to NativeHeadLen;
// the whole file when shorter): ELF, Mach-O (thin or fat) or PE, else
// NotBinary, whatever the file's name or its wheel's tags say. An artifact
// is pure (fits every architecture) only when no file is native: a
// py3-none-any wheel holding an ELF file is not pure. A PE file is
// confirmed by its "PE" signature when head reaches it; an MZ header
// pointing beyond head counts as native.
func Native(head []byte) Format {
	f := Sniff(head)
	if f == PE && len(head) >= 0x40 {
		off := int(binary.LittleEndian.Uint32(head[0x3c:]))
		if off+4 <= len(head) && !peSigned(head) {
			return NotBinary
		}
	}
	return f
}

// IsNative reports whether Native finds native code in head.
func IsNative(head []byte) bool { return Native(head) != NotBinary }

// ELFInfo is what the checks need to know about one ELF file.
type ELFInfo struct {
	Class   elf.Class
	Machine elf.Machine
	Type    elf.Type
	// Dynamic is true when the file has a dynamic section (it links shared
	// libraries); static executables and object files do not.
	Dynamic bool
	Needed  []string // DT_NEEDED sonames, in order
	SoName  string
	RPath   []string // DT_RPATH entries, split on ':'
	RunPath []string // DT_RUNPATH entries
	// Versions maps each library named in .gnu.version_r (the dynamic
	// loader left out) to the symbol versions needed from it.
	Versions map[string][]string
	// Interp is true when the file names a program interpreter
	// (PT_INTERP), as a dynamically linked executable does.
	Interp bool `json:",omitempty"`
	// PIE is true when DT_FLAGS_1 marks a position-independent
	// executable (DF_1_PIE).
	PIE bool `json:",omitempty"`
}

// Executable reports whether the file is a program (run, not loaded into
// a process): ET_EXEC, or ET_DYN with a program interpreter or the PIE
// flag (a position-independent executable; shared libraries have neither,
// glibc's own libc.so.6 aside, which callers tell apart by its name).
func (e *ELFInfo) Executable() bool {
	return e.Type == elf.ET_EXEC || e.Type == elf.ET_DYN && (e.Interp || e.PIE)
}

// isLoader reports whether soname is the dynamic loader, whose versions
// (GLIBC_PRIVATE, GLIBC_2.3) auditwheel leaves out of the policy check.
func isLoader(soname string) bool {
	return strings.HasPrefix(soname, "ld-linux") || strings.HasPrefix(soname, "ld64.so")
}

func splitPaths(vals []string, err error) []string {
	if err != nil {
		return nil
	}
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ":") {
			if p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// MaxGlibc returns the highest GLIBC_x.y the file needs ("" when none) and
// its numeric parts.
func (e *ELFInfo) MaxGlibc() (string, int, int) {
	best, bm, bn := "", -1, -1
	for _, vers := range e.Versions {
		for _, v := range vers {
			m, n, ok := glibcVersion(v)
			if !ok {
				continue
			}
			if m > bm || (m == bm && n > bn) {
				best, bm, bn = v, m, n
			}
		}
	}
	return best, bm, bn
}

// glibcVersion parses "GLIBC_2.28" (and "GLIBC_2.2.5") into 2, 28.
func glibcVersion(v string) (int, int, bool) {
	rest, ok := strings.CutPrefix(v, "GLIBC_")
	if !ok {
		return 0, 0, false
	}
	parts := strings.Split(rest, ".")
	if len(parts) < 2 {
		return 0, 0, false
	}
	m, err1 := strconv.Atoi(parts[0])
	n, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return m, n, true
}

// machineName is how findings name an ELF machine.
func machineName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_386:
		return "i386"
	case elf.EM_ARM:
		return "32-bit ARM"
	}
	return m.String()
}

// archNames are the spellings of Lambda's two machines in file names.
var archNames = map[elf.Machine][]string{
	elf.EM_X86_64:  {"x86_64", "x86-64", "amd64", "x64"},
	elf.EM_AARCH64: {"aarch64", "arm64"},
}

// archTokens returns the start offsets in name of the spellings of m that
// stand as a word of their own (bounded by the name's ends or by '-', '_'
// or '.'), with each spelling's length.
func archTokens(name string, m elf.Machine) [][2]int {
	sep := func(i int) bool {
		return i < 0 || i >= len(name) || name[i] == '-' || name[i] == '_' || name[i] == '.'
	}
	var out [][2]int
	for _, a := range archNames[m] {
		for i := 0; ; {
			k := strings.Index(name[i:], a)
			if k < 0 {
				break
			}
			at := i + k
			if sep(at-1) && sep(at+len(a)) {
				out = append(out, [2]int{at, len(a)})
			}
			i = at + 1
		}
	}
	return out
}
