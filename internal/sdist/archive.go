package sdist

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/lambdapack/lambdapack/internal/tags"
	toml "github.com/pelletier/go-toml/v2"
)

// Limits on what an sdist may unpack to: sdists are untrusted.
const (
	maxUnpacked = 2 << 30 // bytes
	maxMembers  = 200_000
	maxSmall    = 4 << 20 // PKG-INFO, pyproject.toml
)

// Sdist is a source distribution on disk.
type Sdist struct {
	// Path is the .tar.gz or .zip (usually a cache blob).
	Path string
	// Filename is the real file name; "" means filepath.Base(Path).
	Filename string
	// SHA256 is the file's hex sha256 (the cache checked it). It keys the
	// cached builds; an empty one is computed.
	SHA256 string
}

func (s Sdist) name() string {
	if s.Filename != "" {
		return s.Filename
	}
	return filepath.Base(s.Path)
}

// BuildSystem is pyproject.toml's [build-system] table (PEP 518/517), or
// the defaults when the sdist has none.
type BuildSystem struct {
	Requires     []string `json:"requires"`
	BuildBackend string   `json:"build-backend,omitempty"`
	BackendPath  []string `json:"backend-path,omitempty"`
	// Legacy is set when pyproject.toml has no build-backend: setuptools'
	// legacy backend runs setup.py (as pip and uv do).
	Legacy bool `json:"-"`
}

// legacyRequires is what pip and uv install for a project without
// [build-system] (PEP 517's fallback, and pip's "setuptools>=40.8.0").
var legacyRequires = []string{"setuptools>=40.8.0"}

// Contents is what lambdapack reads from an sdist without building it.
type Contents struct {
	Name    tags.SdistFilename
	Top     string // the top folder, "name-1.0"
	PKGInfo []byte // nil when absent
	Build   BuildSystem
}

// member walks the archive, calling fn with each member's slash path (the
// top folder included), its type and a reader for regular files.
type memberFunc func(name string, typ byte, mode os.FileMode, size int64, linkname string, r io.Reader) error

func walkArchive(p string, fn memberFunc) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if n >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("not a gzip file: %w", err)
		}
		defer gz.Close()
		tr := tar.NewReader(gz)
		for count := 0; ; count++ {
			h, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading the tar: %w", err)
			}
			if count > maxMembers {
				return fmt.Errorf("more than %d members", maxMembers)
			}
			if h.Typeflag == tar.TypeXGlobalHeader || h.Typeflag == tar.TypeXHeader {
				continue
			}
			if err := fn(h.Name, h.Typeflag, os.FileMode(h.Mode).Perm(), h.Size, h.Linkname, tr); err != nil {
				return err
			}
		}
	}
	if n == 4 && bytes.Equal(head[:], []byte("PK\x03\x04")) {
		st, err := f.Stat()
		if err != nil {
			return err
		}
		zr, err := zip.NewReader(f, st.Size())
		if err != nil {
			return fmt.Errorf("reading the zip: %w", err)
		}
		if len(zr.File) > maxMembers {
			return fmt.Errorf("more than %d members", maxMembers)
		}
		for _, zf := range zr.File {
			typ := byte(tar.TypeReg)
			if strings.HasSuffix(zf.Name, "/") {
				typ = tar.TypeDir
			} else if zf.Mode()&os.ModeSymlink != 0 {
				typ = tar.TypeSymlink
			}
			var r io.Reader
			if typ == tar.TypeReg {
				rc, err := zf.Open()
				if err != nil {
					return fmt.Errorf("%s: %w", zf.Name, err)
				}
				r = rc
				err = fn(zf.Name, typ, zf.Mode().Perm(), int64(zf.UncompressedSize64), "", rc)
				rc.Close()
				if err != nil {
					return err
				}
				continue
			}
			if err := fn(zf.Name, typ, zf.Mode().Perm(), 0, "", r); err != nil {
				return err
			}
		}
		return nil
	}
	return errors.New("neither a .tar.gz nor a .zip")
}

// cleanMember checks a member name and returns it without its top folder.
func cleanMember(name string) (top, rest string, err error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.Contains(name, "\x00") {
		return "", "", fmt.Errorf("member %q has an unsafe name", name)
	}
	c := path.Clean(name)
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return "", "", fmt.Errorf("member %q has a \"..\" segment", name)
		}
	}
	top, rest, _ = strings.Cut(c, "/")
	return top, rest, nil
}

// Inspect reads an sdist's PKG-INFO and [build-system] without unpacking
// it.
func Inspect(s Sdist) (*Contents, error) {
	fn, err := tags.ParseSdistFilename(s.name())
	if err != nil {
		return nil, fmt.Errorf("reading sdist %s: %w", s.name(), err)
	}
	c := &Contents{Name: fn}
	var pyproject []byte
	err = walkArchive(s.Path, func(name string, typ byte, _ os.FileMode, size int64, _ string, r io.Reader) error {
		top, rest, err := cleanMember(name)
		if err != nil {
			return err
		}
		if c.Top == "" {
			c.Top = top
		}
		if top != c.Top || typ != tar.TypeReg || (rest != "PKG-INFO" && rest != "pyproject.toml") {
			return nil
		}
		if size > maxSmall {
			return fmt.Errorf("%s is larger than %d bytes", name, maxSmall)
		}
		b, err := io.ReadAll(io.LimitReader(r, maxSmall+1))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if rest == "PKG-INFO" {
			c.PKGInfo = b
		} else {
			pyproject = b
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading sdist %s: %w", s.name(), err)
	}
	if c.Top == "" {
		return nil, fmt.Errorf("reading sdist %s: it is empty", s.name())
	}
	c.Build, err = parseBuildSystem(pyproject)
	if err != nil {
		return nil, fmt.Errorf("reading sdist %s: %s/pyproject.toml: %w", s.name(), c.Top, err)
	}
	return c, nil
}

// parseBuildSystem reads [build-system] as pip and uv do: no pyproject.toml,
// or no [build-system], means setuptools' legacy backend with
// setuptools>=40.8.0; a table without build-backend keeps its requires and
// uses the legacy backend.
func parseBuildSystem(pyproject []byte) (BuildSystem, error) {
	if pyproject == nil {
		return BuildSystem{Requires: legacyRequires, Legacy: true}, nil
	}
	var doc struct {
		BuildSystem *struct {
			Requires     *[]string `toml:"requires"`
			BuildBackend string    `toml:"build-backend"`
			BackendPath  []string  `toml:"backend-path"`
		} `toml:"build-system"`
	}
	if err := toml.Unmarshal(pyproject, &doc); err != nil {
		return BuildSystem{}, fmt.Errorf("invalid TOML: %w", err)
	}
	bs := doc.BuildSystem
	if bs == nil {
		return BuildSystem{Requires: legacyRequires, Legacy: true}, nil
	}
	if bs.Requires == nil {
		return BuildSystem{}, errors.New("[build-system] has no requires key (PEP 518 makes it mandatory)")
	}
	out := BuildSystem{Requires: *bs.Requires, BuildBackend: bs.BuildBackend, BackendPath: bs.BackendPath}
	if out.BuildBackend == "" {
		out.Legacy = true
	}
	for _, p := range out.BackendPath {
		if _, _, err := cleanMember("x/" + p); err != nil || path.IsAbs(p) {
			return BuildSystem{}, fmt.Errorf("backend-path %q leaves the source tree", p)
		}
	}
	return out, nil
}

// extract unpacks the sdist into dir and returns the source folder (its
// top folder). Names are checked; a symlink must point inside the tree;
// hard links, devices and FIFOs are refused; sizes are bounded.
func extract(s Sdist, dir string) (string, error) {
	var top string
	var total int64
	type link struct{ at, to string }
	var links []link
	err := walkArchive(s.Path, func(name string, typ byte, mode os.FileMode, size int64, linkname string, r io.Reader) error {
		t, rest, err := cleanMember(name)
		if err != nil {
			return err
		}
		if top == "" {
			top = t
		}
		if t != top {
			return fmt.Errorf("member %q is outside the top folder %s", name, top)
		}
		dst := filepath.Join(dir, filepath.FromSlash(path.Clean(name)))
		switch typ {
		case tar.TypeDir:
			return os.MkdirAll(dst, 0o755)
		case tar.TypeReg: // archive/tar reads the legacy TypeRegA as TypeReg
			if rest == "" {
				return fmt.Errorf("member %q: the top folder is a file", name)
			}
			total += size
			if total > maxUnpacked {
				return fmt.Errorf("unpacks to more than %d bytes", int64(maxUnpacked))
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			perm := os.FileMode(0o644)
			if mode&0o111 != 0 {
				perm = 0o755
			}
			f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
			if err != nil {
				return err
			}
			n, err := io.Copy(f, io.LimitReader(r, size+1))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil && n != size {
				err = fmt.Errorf("member %q: size %d, header says %d", name, n, size)
			}
			return err
		case tar.TypeSymlink:
			target := path.Join(path.Dir(path.Clean(name)), linkname)
			if path.IsAbs(linkname) || !strings.HasPrefix(target+"/", top+"/") {
				return fmt.Errorf("symlink %q points outside the sdist (%s)", name, linkname)
			}
			links = append(links, link{dst, linkname})
			return nil
		}
		return fmt.Errorf("member %q is a hard link, device or FIFO (type %q)", name, typ)
	})
	if err != nil {
		return "", fmt.Errorf("unpacking sdist %s: %w", s.name(), err)
	}
	if top == "" {
		return "", fmt.Errorf("unpacking sdist %s: it is empty", s.name())
	}
	for _, l := range links {
		if err := os.MkdirAll(filepath.Dir(l.at), 0o755); err != nil {
			return "", err
		}
		if err := os.Symlink(l.to, l.at); err != nil {
			return "", fmt.Errorf("unpacking sdist %s: %w", s.name(), err)
		}
	}
	return filepath.Join(dir, top), nil
}
