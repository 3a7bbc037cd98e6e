package verify_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"io"
	"sort"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// peImage is the start of a PE file: an MZ header whose e_lfanew points
// at the "PE\0\0" signature.
func peImage(sigAt int, sig string) []byte {
	b := make([]byte, sigAt+64)
	copy(b, "MZ")
	binary.LittleEndian.PutUint32(b[0x3c:], uint32(sigAt))
	copy(b[sigAt:], sig)
	return b
}

// TestNative tells native code from first bytes alone.
func TestNative(t *testing.T) {
	so := gcc(t, "c", "int f(void) { return 1; }\n")
	for _, c := range []struct {
		name string
		head []byte
		want verify.Format
	}{
		{"elf shared object", so, verify.ELF},
		{"elf header only", []byte("\x7fELF\x02\x01\x01\x00"), verify.ELF},
		{"mach-o thin", machO(), verify.MachO},
		{"mach-o fat", []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2}, verify.MachO},
		{"java class", []byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52}, verify.NotBinary},
		{"pe", peImage(0x80, "PE\x00\x00"), verify.PE},
		{"pe signature past head", peImage(0x80, "PE\x00\x00")[:0x40], verify.PE},
		{"mz without pe signature", peImage(0x80, "XX\x00\x00"), verify.NotBinary},
		{"python", []byte("import os\n"), verify.NotBinary},
		{"text starting MZ", []byte("MZ is a text file, not a program\n"), verify.NotBinary},
		{"empty", nil, verify.NotBinary},
	} {
		if got := verify.Native(c.head); got != c.want {
			t.Errorf("%s: Native = %v, want %v", c.name, got, c.want)
		}
		if got := verify.IsNative(c.head); got != (c.want != verify.NotBinary) {
			t.Errorf("%s: IsNative = %v", c.name, got)
		}
	}
}

// TestPurityFromContent: a wheel tagged py3-none-any that holds an ELF
// file (a shared object and an executable with no extension) is not pure;
// deciding from the first bytes of its members finds exactly those.
func TestPurityFromContent(t *testing.T) {
	so := gcc(t, "c", "int f(void) { return 1; }\n")
	w := testutil.Wheel{Name: "sneaky", Version: "1.0", Tags: []string{"py3-none-any"}, Files: map[string][]byte{
		"sneaky/__init__.py":          []byte("from . import _impl\n"),
		"sneaky/_impl.so":             so,
		"sneaky/bin/helper":           so,
		"sneaky/data.bin":             bytes.Repeat([]byte{0x7f, 'E', 'L'}, 10), // not quite ELF
		"sneaky-1.0.data/scripts/run": []byte("#!python\nprint(1)\n"),
	}}
	zr, err := zip.NewReader(bytes.NewReader(w.Bytes()), int64(len(w.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	var native []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, verify.NativeHeadLen)
		n, _ := io.ReadFull(rc, head)
		rc.Close()
		if verify.IsNative(head[:n]) {
			native = append(native, f.Name)
		}
	}
	sort.Strings(native)
	if len(native) != 2 || native[0] != "sneaky/_impl.so" || native[1] != "sneaky/bin/helper" {
		t.Fatalf("native members %v, want sneaky/_impl.so and sneaky/bin/helper: the py3-none-any wheel is not pure", native)
	}
}
