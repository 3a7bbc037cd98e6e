package verify

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// The ELF reader reads a file the way the dynamic loader does: the header,
// the program headers, the PT_DYNAMIC segment, and the strings and version
// needs its entries point at (mapped to file offsets through the PT_LOAD
// segments). Section headers, which the loader ignores and a hostile file
// can make lie, are never read. Everything goes through a fetcher, so a
// zip member is read as a stream (see stream.go) and a file on disk in
// place, and nothing but those few ranges is held in memory.

// fetcher returns up to n bytes at off: fewer only at the end of the file.
type fetcher interface {
	fetch(off, n int64) ([]byte, error)
}

// Bounds on what one binary may make the reader hold.
const (
	maxPhdrBytes   = 1 << 20 // program header table
	maxDynBytes    = 1 << 20 // the PT_DYNAMIC segment
	maxELFString   = 4096    // one soname, path or version name
	maxVerneedRecs = 1 << 14 // Elf_Verneed + Elf_Vernaux records walked
)

var errNotELF = errors.New("not an ELF file")

// ReadELF reads the header, dynamic segment and version needs of an ELF
// file, as the dynamic loader sees them.
func ReadELF(r io.ReaderAt) (*ELFInfo, error) {
	return readELF(readerAtFetcher{r})
}

type readerAtFetcher struct{ r io.ReaderAt }

func (f readerAtFetcher) fetch(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("offset %d out of range", off)
	}
	b := make([]byte, n)
	k, err := f.r.ReadAt(b, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b[:k], nil
}

// elfLayout is what the header says about word size and byte order.
type elfLayout struct {
	is64 bool
	bo   binary.ByteOrder
}

func (l elfLayout) word(b []byte) uint64 {
	if l.is64 {
		return l.bo.Uint64(b)
	}
	return uint64(l.bo.Uint32(b))
}

type segment struct {
	typ                       elf.ProgType
	off, vaddr, filesz, memsz uint64
}

func readELF(f fetcher) (*ELFInfo, error) {
	h, err := f.fetch(0, 64)
	if err != nil {
		return nil, err
	}
	if len(h) < 52 || !bytes.Equal(h[:4], []byte(elf.ELFMAG)) {
		return nil, errNotELF
	}
	var l elfLayout
	switch elf.Class(h[elf.EI_CLASS]) {
	case elf.ELFCLASS32:
	case elf.ELFCLASS64:
		l.is64 = true
		if len(h) < 64 {
			return nil, errors.New("truncated ELF header")
		}
	default:
		return nil, fmt.Errorf("unknown ELF class %d", h[elf.EI_CLASS])
	}
	switch elf.Data(h[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		l.bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		l.bo = binary.BigEndian
	default:
		return nil, fmt.Errorf("unknown ELF byte order %d", h[elf.EI_DATA])
	}
	info := &ELFInfo{
		Class:    elf.Class(h[elf.EI_CLASS]),
		Type:     elf.Type(l.bo.Uint16(h[16:])),
		Machine:  elf.Machine(l.bo.Uint16(h[18:])),
		Versions: map[string][]string{},
	}
	var phoff uint64
	var phentsize, phnum int
	if l.is64 {
		phoff = l.bo.Uint64(h[32:])
		phentsize, phnum = int(l.bo.Uint16(h[54:])), int(l.bo.Uint16(h[56:]))
	} else {
		phoff = uint64(l.bo.Uint32(h[28:]))
		phentsize, phnum = int(l.bo.Uint16(h[42:])), int(l.bo.Uint16(h[44:]))
	}
	if phnum == 0 {
		return info, nil // an object file: nothing the loader reads
	}
	minEnt := 32
	if l.is64 {
		minEnt = 56
	}
	if phentsize < minEnt || phnum == 0xffff || phentsize*phnum > maxPhdrBytes || phoff > 1<<62 {
		return nil, fmt.Errorf("bad program header table (%d entries of %d bytes)", phnum, phentsize)
	}
	ph, err := f.fetch(int64(phoff), int64(phentsize*phnum))
	if err != nil {
		return nil, err
	}
	if len(ph) < phentsize*phnum {
		return nil, errors.New("program header table runs past the end of the file")
	}
	var loads []segment
	var dyn *segment
	for i := 0; i < phnum; i++ {
		p := ph[i*phentsize:]
		var s segment
		s.typ = elf.ProgType(l.bo.Uint32(p))
		if l.is64 {
			s.off, s.vaddr, s.filesz, s.memsz = l.bo.Uint64(p[8:]), l.bo.Uint64(p[16:]), l.bo.Uint64(p[32:]), l.bo.Uint64(p[40:])
		} else {
			s.off, s.vaddr, s.filesz, s.memsz = uint64(l.bo.Uint32(p[4:])), uint64(l.bo.Uint32(p[8:])), uint64(l.bo.Uint32(p[16:])), uint64(l.bo.Uint32(p[20:]))
		}
		switch s.typ {
		case elf.PT_LOAD:
			loads = append(loads, s)
		case elf.PT_DYNAMIC:
			if dyn == nil {
				dyn = &s
			}
		case elf.PT_INTERP:
			info.Interp = true
		}
	}
	if dyn == nil {
		return info, nil // static: needs no libraries
	}
	info.Dynamic = true
	if dyn.filesz > maxDynBytes || dyn.off > 1<<62 {
		return nil, fmt.Errorf("dynamic segment of %d bytes", dyn.filesz)
	}
	d, err := f.fetch(int64(dyn.off), int64(dyn.filesz))
	if err != nil {
		return nil, err
	}
	entSize := 8
	if l.is64 {
		entSize = 16
	}
	var needed []uint64
	var soname, rpath, runpath []uint64
	var strtab, strsz, verneed, verneedNum uint64
	var haveStrtab, haveVerneed bool
	for i := 0; i+entSize <= len(d); i += entSize {
		tag := elf.DynTag(l.word(d[i:]))
		val := l.word(d[i+entSize/2:])
		switch tag {
		case elf.DT_NULL:
			i = len(d)
		case elf.DT_NEEDED:
			needed = append(needed, val)
		case elf.DT_SONAME:
			soname = append(soname, val)
		case elf.DT_RPATH:
			rpath = append(rpath, val)
		case elf.DT_RUNPATH:
			runpath = append(runpath, val)
		case elf.DT_STRTAB:
			strtab, haveStrtab = val, true
		case elf.DT_STRSZ:
			strsz = val
		case elf.DT_VERNEED:
			verneed, haveVerneed = val, true
		case elf.DT_VERNEEDNUM:
			verneedNum = val
		case elf.DT_FLAGS_1:
			info.PIE = info.PIE || val&uint64(elf.DF_1_PIE) != 0
		}
	}
	// toOff maps a virtual address to its file offset through PT_LOAD.
	toOff := func(addr uint64, what string) (uint64, error) {
		for _, s := range loads {
			if addr >= s.vaddr && addr-s.vaddr < s.filesz {
				return s.off + (addr - s.vaddr), nil
			}
		}
		return 0, fmt.Errorf("%s address %#x is in no loaded segment", what, addr)
	}
	if !haveStrtab {
		if len(needed)+len(soname)+len(rpath)+len(runpath) > 0 || haveVerneed {
			return nil, errors.New("dynamic segment without DT_STRTAB")
		}
		return info, nil
	}
	strOff, err := toOff(strtab, "DT_STRTAB")
	if err != nil {
		return nil, err
	}

	// Version needs: Elf_Verneed records, each with a chain of
	// Elf_Vernaux, both 16 bytes in either class.
	type need struct {
		file  uint64
		names []uint64
	}
	var needs []need
	if haveVerneed && verneedNum > 0 {
		off, err := toOff(verneed, "DT_VERNEED")
		if err != nil {
			return nil, err
		}
		recs := 0
		for i := uint64(0); i < verneedNum; i++ {
			r, err := f.fetch(int64(off), 16)
			if err != nil {
				return nil, err
			}
			if len(r) < 16 {
				return nil, errors.New("version needs run past the end of the file")
			}
			if v := l.bo.Uint16(r); v != 1 {
				return nil, fmt.Errorf("version need record of version %d", v)
			}
			cnt, file, aux, next := l.bo.Uint16(r[2:]), l.bo.Uint32(r[4:]), l.bo.Uint32(r[8:]), l.bo.Uint32(r[12:])
			n := need{file: uint64(file)}
			aoff := off + uint64(aux)
			for j := 0; j < int(cnt); j++ {
				if recs++; recs > maxVerneedRecs {
					return nil, errors.New("too many version need records")
				}
				a, err := f.fetch(int64(aoff), 16)
				if err != nil {
					return nil, err
				}
				if len(a) < 16 {
					return nil, errors.New("version needs run past the end of the file")
				}
				n.names = append(n.names, uint64(l.bo.Uint32(a[8:])))
				anext := l.bo.Uint32(a[12:])
				if anext == 0 {
					break
				}
				aoff += uint64(anext)
			}
			needs = append(needs, n)
			if recs++; recs > maxVerneedRecs {
				return nil, errors.New("too many version need records")
			}
			if next == 0 {
				break
			}
			off += uint64(next)
		}
	}

	// Every string, read in file order (a stream then passes once).
	want := map[uint64]string{}
	for _, list := range [][]uint64{needed, soname, rpath, runpath} {
		for _, o := range list {
			want[o] = ""
		}
	}
	for _, n := range needs {
		want[n.file] = ""
		for _, o := range n.names {
			want[o] = ""
		}
	}
	offs := make([]uint64, 0, len(want))
	for o := range want {
		offs = append(offs, o)
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	for _, o := range offs {
		if strsz != 0 && o >= strsz {
			return nil, fmt.Errorf("string offset %d past the string table's %d bytes", o, strsz)
		}
		n := uint64(maxELFString)
		if strsz != 0 && strsz-o < n {
			n = strsz - o
		}
		b, err := f.fetch(int64(strOff+o), int64(n))
		if err != nil {
			return nil, err
		}
		k := bytes.IndexByte(b, 0)
		if k < 0 {
			return nil, fmt.Errorf("unterminated string at offset %d of the string table", o)
		}
		want[o] = string(b[:k])
	}
	str := func(list []uint64) []string {
		var out []string
		for _, o := range list {
			out = append(out, want[o])
		}
		return out
	}
	info.Needed = str(needed)
	if s := str(soname); len(s) > 0 {
		info.SoName = s[0]
	}
	info.RPath = splitPaths(str(rpath), nil)
	info.RunPath = splitPaths(str(runpath), nil)
	for _, n := range needs {
		file := want[n.file]
		if isLoader(file) {
			continue
		}
		for _, o := range n.names {
			info.Versions[file] = append(info.Versions[file], want[o])
		}
	}
	return info, nil
}
