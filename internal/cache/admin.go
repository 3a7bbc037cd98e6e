package cache

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/tags"
)

// Cache administration (`lambdapack cache info | clean | prune`). These
// functions work on a cache folder as it lies on disk, without Open (which
// would create it): what it holds by kind and size, removing all of it or one
// package's entries, and pruning what no recent run used.
//
// Last use is the later of an entry's modification and access times. Reading
// a file updates its access time on the usual relatime mounts (at most once a
// day), and MarkUsed moves the modification time forward for readers on
// noatime mounts; either way a day is the granularity.

// Kind is what a cache entry is.
type Kind string

// The kinds of entries the cache holds. A folder added with Cache.Dir that
// folderKinds does not name is reported under its folder name.
const (
	KindWheels   Kind = "wheels"             // <root>/v1/blobs: downloaded files by sha256
	KindPages    Kind = "index pages"        // index/pages-v3: project pages, the files Lambda can use
	KindParsed   Kind = "parsed index pages" // index/parsed-v1: decoded pages of lambdapack before pages-v3
	KindMetadata Kind = "metadata"           // index/metadata-v2: core metadata files by their sha256
	KindLocks    Kind = "locks"              // <root>/v1/locks: cross-process locks
	KindTemp     Kind = "temporary files"    // downloads and writes in flight, or left by a killed run
)

// The kinds of the folders other packages keep with Cache.Dir (and Memo).
const (
	KindPipConfig     Kind = "pip settings"          // index/pip-v1: pip's default index and config folders, as pip said them
	KindWheelChecks   Kind = "wheel checks"          // memo-wheels-checked: wheels that passed install's checks, by sha256
	KindVerifyFacts   Kind = "verification facts"    // verify: what verify learnt of the interpreters and artifacts
	KindRuntime       Kind = "local runtime"         // invoke: the runtime client invoke and serve run functions with
	KindSdistWheels   Kind = "wheels built"          // sdist-wheels: wheels built from sdists
	KindSdistMetadata Kind = "sdist metadata"        // sdist-metadata: metadata prepared from sdists
	KindBuildEnvs     Kind = "build environments"    // build-envs: sdists' build dependencies, installed
	KindBuildHooks    Kind = "build hooks"           // build-hooks: the hook runner and guard of sdist builds
	KindBuildScratch  Kind = "build scratch"         // build-tmp: sdist builds' working folders
	KindCargo         Kind = "cargo home"            // cargo-home: Rust crates sdist builds downloaded
	KindCross         Kind = "cross-compile configs" // cross: the compiler wrappers and sysconfig of cross builds
	KindZig           Kind = "zig toolchain"         // zig: the zig compiler cross builds use
	KindZigCache      Kind = "zig build cache"       // zig-cache: what zig compiled
	KindNoCompilers   Kind = "compiler stubs"        // no-compilers: the failing compilers of pure-Python builds
)

// folderKinds names the kind of each folder other packages keep; a folder
// not listed is reported under its own name.
var folderKinds = map[string]Kind{
	"memo-wheels-checked": KindWheelChecks,
	"verify":              KindVerifyFacts,
	"invoke":              KindRuntime,
	"sdist-wheels":        KindSdistWheels,
	"sdist-metadata":      KindSdistMetadata,
	"build-envs":          KindBuildEnvs,
	"build-hooks":         KindBuildHooks,
	"build-tmp":           KindBuildScratch,
	"cargo-home":          KindCargo,
	"cross":               KindCross,
	"zig":                 KindZig,
	"zig-cache":           KindZigCache,
	"no-compilers":        KindNoCompilers,
}

// Entry is one file of the cache.
type Entry struct {
	Path    string
	Kind    Kind
	Size    int64 // 0 for a further hard link to data already counted
	LastUse time.Time
}

// KindUsage is the size of one kind of entry.
type KindUsage struct {
	Kind  Kind  `json:"kind"`
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// PackageUsage is what the cache holds for one package, all kinds together.
type PackageUsage struct {
	Name  string `json:"name"`
	Files int    `json:"files"`
	Bytes int64  `json:"bytes"`
}

// Usage is what a cache folder holds.
type Usage struct {
	Root  string      `json:"root"`
	Kinds []KindUsage `json:"kinds"` // largest first
	Files int         `json:"files"`
	Bytes int64       `json:"bytes"`
	// Packages, when asked for, is by package, largest first; entries no
	// package owns (locks, verification facts) are left out.
	Packages []PackageUsage `json:"packages,omitempty"`
}

// Removal says what Clean or Prune removed.
type Removal struct {
	Root  string      `json:"root"`
	Kinds []KindUsage `json:"kinds"`
	Files int         `json:"files"`
	Bytes int64       `json:"bytes"`
}

// layoutRE matches the versioned layout folders lambdapack writes under the
// root; nothing else there is touched.
var layoutRE = regexp.MustCompile(`^v[0-9]+$`)

// Inspect walks the cache at root and sums its entries by kind, and by
// package when byPackage is set (which reads every entry). A missing folder
// is an empty cache.
func Inspect(root string, byPackage bool) (*Usage, error) {
	u := &Usage{Root: root}
	kinds := map[Kind]*KindUsage{}
	pkgs := map[string]*PackageUsage{}
	err := walk(root, func(e Entry) error {
		k := kinds[e.Kind]
		if k == nil {
			k = &KindUsage{Kind: e.Kind}
			kinds[e.Kind] = k
		}
		k.Files++
		k.Bytes += e.Size
		u.Files++
		u.Bytes += e.Size
		if byPackage {
			if name := e.Package(); name != "" {
				p := pkgs[name]
				if p == nil {
					p = &PackageUsage{Name: name}
					pkgs[name] = p
				}
				p.Files++
				p.Bytes += e.Size
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	u.Kinds = sortKinds(kinds)
	for _, p := range pkgs {
		u.Packages = append(u.Packages, *p)
	}
	slices.SortFunc(u.Packages, func(a, b PackageUsage) int {
		if a.Bytes != b.Bytes {
			return cmp.Compare(b.Bytes, a.Bytes)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return u, nil
}

// Clean removes the whole cache at root, or with packages given, every entry
// of those packages (their wheels, index pages and metadata, and the lock
// files and memo entries of their wheels). Only
// lambdapack's layout folders are removed, never anything else a mistaken
// --cache-dir points at; the root goes too when that leaves it empty. Runs
// using the cache meanwhile may fail and need running again.
func Clean(root string, packages ...string) (*Removal, error) {
	if len(packages) == 0 {
		return cleanAll(root)
	}
	want := map[string]bool{}
	for _, p := range packages {
		want[names.Canonical(p)] = true
	}
	rm := newRemoval(root)
	blobs := map[string]bool{} // sha256 of the blobs removed
	err := walk(root, func(e Entry) error {
		if e.Kind == KindLocks || e.Kind == KindTemp || !want[e.Package()] {
			return nil
		}
		if e.Kind == KindWheels {
			blobs[filepath.Base(e.Path)] = true
		}
		return rm.remove(e)
	})
	if err != nil {
		return nil, err
	}
	// Then their lock files (<sha256>.lock) and memo entries (keys ending
	// in -<sha256>), which no package owns by their content.
	if len(blobs) > 0 {
		err = walk(root, func(e Entry) error {
			name := filepath.Base(e.Path)
			switch {
			case e.Kind == KindLocks && blobs[strings.TrimSuffix(name, ".lock")]:
			case isMemo(e.Path) && blobs[name[strings.LastIndexByte(name, '-')+1:]]:
			default:
				return nil
			}
			return rm.remove(e)
		})
		if err != nil {
			return nil, err
		}
	}
	return rm.done(), nil
}

// isMemo reports whether the cache file at p is a Memo's entry.
func isMemo(p string) bool {
	return strings.HasPrefix(filepath.Base(filepath.Dir(p)), "memo-") && layoutRE.MatchString(filepath.Base(filepath.Dir(filepath.Dir(p))))
}

func cleanAll(root string) (*Removal, error) {
	rm := newRemoval(root)
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return rm.done(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("cleaning the cache %s: %w", root, err)
	}
	// Count first, so the report says what went.
	if err := walk(root, func(e Entry) error { rm.count(e); return nil }); err != nil {
		return nil, err
	}
	for _, d := range ents {
		if d.IsDir() && layoutRE.MatchString(d.Name()) {
			if err := os.RemoveAll(filepath.Join(root, d.Name())); err != nil {
				return nil, fmt.Errorf("cleaning the cache %s: %w", root, err)
			}
		}
	}
	// The root itself, only when nothing else is in it.
	_ = os.Remove(root)
	return rm.done(), nil
}

// Prune removes the entries no run has used since cutoff, temporary files
// older than an hour (a write still running keeps its own fresh), lock files
// of blobs no longer there, and the folders that leaves empty. Container
// image bases and layers go whole (pruneImages).
func Prune(root string, cutoff time.Time) (*Removal, error) {
	rm := newRemoval(root)
	tempCutoff := time.Now().Add(-time.Hour)
	var dirs []string
	err := walkDirs(root, func(e Entry) error {
		switch e.Kind {
		case KindImageBases, KindImageLayers:
			return nil // below, each base and layer whole
		case KindTemp:
			if e.LastUse.Before(tempCutoff) {
				return rm.remove(e)
			}
			return nil
		case KindLocks:
			sha := strings.TrimSuffix(filepath.Base(e.Path), ".lock")
			if !hexRE.MatchString(sha) || !e.LastUse.Before(cutoff) {
				return nil
			}
			if _, err := os.Stat(filepath.Join(root, Layout, "blobs", "sha256", sha[:2], sha)); err == nil {
				return nil
			}
			return rm.remove(e)
		}
		if e.LastUse.Before(cutoff) {
			return rm.remove(e)
		}
		return nil
	}, func(dir string) { dirs = append(dirs, dir) })
	if err != nil {
		return nil, err
	}
	if ents, err := os.ReadDir(root); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, d := range ents {
			if d.IsDir() && layoutRE.MatchString(d.Name()) {
				if err := pruneImages(ctx, filepath.Join(root, d.Name()), cutoff, rm); err != nil {
					return nil, err
				}
			}
		}
	}
	// Deepest first, so a shard emptied above leaves its parent to check.
	for i := len(dirs) - 1; i >= 0; i-- {
		if isShard(filepath.Base(dirs[i])) {
			_ = os.Remove(dirs[i]) // fails, as it should, when not empty
		}
	}
	return rm.done(), nil
}

// MarkUsed records a use of the cache file at path (a reader calls it when it
// serves the file): its modification time moves to now, at most once a day,
// so that Prune keeps it on mounts that do not track access times. Errors are
// ignored: a mark is a hint.
func MarkUsed(path string) {
	if fi, err := os.Stat(path); err == nil {
		markUsed(path, fi)
	}
}

// useGranularity is how stale a last use may get before a use is recorded.
const useGranularity = 24 * time.Hour

func markUsed(path string, fi fs.FileInfo) {
	now := time.Now()
	if now.Sub(lastUse(fi)) < useGranularity {
		return
	}
	_ = os.Chtimes(path, now, now)
}

// lastUse is the later of fi's modification and access times.
func lastUse(fi fs.FileInfo) time.Time {
	t := fi.ModTime()
	if a, ok := accessTime(fi); ok && a.After(t) {
		t = a
	}
	return t
}

// walk calls fn for every file of the cache at root.
func walk(root string, fn func(Entry) error) error {
	return walkDirs(root, fn, nil)
}

func walkDirs(root string, fn func(Entry) error, onDir func(string)) error {
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the cache %s: %w", root, err)
	}
	for _, d := range ents {
		if !d.IsDir() || !layoutRE.MatchString(d.Name()) {
			continue
		}
		layout := filepath.Join(root, d.Name())
		layerBlobs := imageLayerBlobs(layout)
		// A file hard-linked into several trees (invoke's store and task
		// folders) holds its bytes once: its first link counts them.
		linked := map[[2]uint64]bool{}
		err := filepath.WalkDir(layout, func(p string, de fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // removed meanwhile
				}
				return err
			}
			if de.IsDir() {
				if onDir != nil && p != layout {
					onDir(p)
				}
				return nil
			}
			if !de.Type().IsRegular() {
				return nil
			}
			fi, err := de.Info()
			if err != nil {
				return nil // removed meanwhile
			}
			rel, _ := filepath.Rel(layout, p)
			rel = filepath.ToSlash(rel)
			kind := kindOf(rel, de.Name())
			if r, ok := strings.CutPrefix(rel, imagesDir+"/"); ok {
				kind = imageKind(r, de.Name(), layerBlobs)
			}
			size := fi.Size()
			if id, ok := linkID(fi); ok {
				if linked[id] {
					size = 0
				}
				linked[id] = true
			}
			return fn(Entry{Path: p, Kind: kind, Size: size, LastUse: lastUse(fi)})
		})
		if err != nil {
			return fmt.Errorf("reading the cache %s: %w", root, err)
		}
	}
	return nil
}

// kindOf classifies a file by its path under the layout folder.
func kindOf(rel, base string) Kind {
	if strings.HasPrefix(base, ".tmp-") {
		return KindTemp
	}
	first, rest, _ := strings.Cut(rel, "/")
	switch first {
	case "blobs":
		return KindWheels
	case "locks":
		return KindLocks
	case "index":
		sub, _, _ := strings.Cut(rest, "/")
		switch sub {
		case "simple-v1", "simple-v2", "pages-v3": // v2 kept credentials out, v3 keeps one compact entry a page
			return KindPages
		case "parsed-v1":
			return KindParsed
		case "metadata-v1", "metadata-v2": // v2 by content hash
			return KindMetadata
		case "pip-v1":
			return KindPipConfig
		}
		return Kind("index/" + sub)
	}
	if k, ok := folderKinds[first]; ok {
		return k
	}
	return Kind(first)
}

func isShard(name string) bool {
	return len(name) == 2 && strings.Trim(name, "0123456789abcdef") == ""
}

// Package returns the canonical name of the package the entry belongs to, or
// "" when it belongs to none or cannot be told (it reads the file).
func (e Entry) Package() string {
	var name string
	switch e.Kind {
	case KindWheels:
		name = distName(e.Path)
	case KindPages:
		name = pageProject(e.Path)
	case KindParsed:
		name = parsedProject(e.Path)
	case KindMetadata:
		name = metadataName(e.Path)
	}
	if name == "" {
		return ""
	}
	return names.Canonical(name)
}

// distName reads a blob's project name: a wheel's .dist-info folder, or an
// sdist's top folder.
func distName(p string) string {
	f, err := openQuiet(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	if zr, err := zip.NewReader(f, fi.Size()); err == nil {
		for _, zf := range zr.File {
			dir, _, ok := strings.Cut(zf.Name, ".dist-info/")
			if ok && !strings.Contains(dir, "/") {
				n, _, _ := strings.Cut(dir, "-")
				return n
			}
		}
		return ""
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ""
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return ""
	}
	h, err := tar.NewReader(gz).Next()
	if err != nil {
		return ""
	}
	top, _, _ := strings.Cut(strings.TrimPrefix(h.Name, "./"), "/")
	if s, err := tags.ParseSdistFilename(top + ".tar.gz"); err == nil {
		return s.Name
	}
	return ""
}

// pageProject reads the project of a cached page from its header line (the
// page's URL, .../simple/NAME/).
func pageProject(p string) string {
	f, err := openQuiet(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 4096).ReadSlice('\n')
	if err != nil {
		return ""
	}
	var head struct {
		URL string `json:"url"`
	}
	if json.Unmarshal(line, &head) != nil {
		return ""
	}
	u, err := url.Parse(head.URL)
	if err != nil {
		return ""
	}
	return path.Base(strings.TrimSuffix(u.Path, "/"))
}

// parsedProject reads the project of a parsed page from its first file name.
func parsedProject(p string) string {
	f, err := openQuiet(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	var pp struct{ Files []struct{ Filename string } }
	if gob.NewDecoder(bytes.NewReader(data)).Decode(&pp) != nil {
		return ""
	}
	for _, f := range pp.Files {
		if w, err := tags.ParseWheelFilename(f.Filename); err == nil {
			return w.Name
		}
		if s, err := tags.ParseSdistFilename(f.Filename); err == nil {
			return s.Name
		}
	}
	return ""
}

// metadataName reads the Name field of a core metadata file.
func metadataName(p string) string {
	f, err := openQuiet(p)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Name") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

type removal struct {
	r     Removal
	kinds map[Kind]*KindUsage
}

func newRemoval(root string) *removal {
	return &removal{r: Removal{Root: root}, kinds: map[Kind]*KindUsage{}}
}

func (rm *removal) count(e Entry) {
	k := rm.kinds[e.Kind]
	if k == nil {
		k = &KindUsage{Kind: e.Kind}
		rm.kinds[e.Kind] = k
	}
	k.Files++
	k.Bytes += e.Size
	rm.r.Files++
	rm.r.Bytes += e.Size
}

func (rm *removal) remove(e Entry) error {
	if err := os.Remove(e.Path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("removing %s from the cache: %w", e.Path, err)
	}
	rm.count(e)
	return nil
}

func (rm *removal) done() *Removal {
	rm.r.Kinds = sortKinds(rm.kinds)
	return &rm.r
}

func sortKinds(m map[Kind]*KindUsage) []KindUsage {
	out := make([]KindUsage, 0, len(m))
	for _, k := range m {
		out = append(out, *k)
	}
	slices.SortFunc(out, func(a, b KindUsage) int {
		if a.Bytes != b.Bytes {
			return cmp.Compare(b.Bytes, a.Bytes)
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	return out
}
