package tree

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
)

// Origin says where a file's bytes come from.
type Origin uint8

// Origins of a file's bytes.
const (
	// FromWheel: Member, a member of an open wheel holding exactly these
	// bytes (a deflated member can be copied without inflating it).
	FromWheel Origin = iota + 1
	// FromBytes: Data, bytes lambdapack made (a rewritten RECORD, INSTALLER,
	// a console-script launcher, a .pyc).
	FromBytes
	// FromDisk: Disk, a regular file on disk (a function's code, a ready
	// layer folder's files).
	FromDisk
)

func (o Origin) String() string {
	switch o {
	case FromWheel:
		return "wheel"
	case FromBytes:
		return "bytes"
	case FromDisk:
		return "disk"
	}
	return fmt.Sprintf("Origin(%d)", uint8(o))
}

// Role says which part of the artifact a file belongs to. An image puts
// each role in its own layer, so a code change never touches the
// dependency layer's digest.
type Role uint8

// Roles of a file.
const (
	// RoleDeps: installed packages and what lambdapack generated for them.
	RoleDeps Role = iota
	// RoleCode: the function's or layer's own code, as the user wrote it.
	RoleCode
)

func (r Role) String() string {
	if r == RoleCode {
		return "code"
	}
	return "deps"
}

// File is one planned file of an artifact.
type File struct {
	// Path is slash-separated, relative to the artifact's root, clean
	// ("python/numpy/__init__.py", "app.py"). Folders are not listed: a
	// sink makes every parent of every file.
	Path string
	// Mode holds permission bits: any execute bit means 0755, else 0644.
	Mode fs.FileMode
	// Size is the uncompressed size in bytes.
	Size int64
	// Digest is the sha256 of the bytes in RECORD's form (urlsafe base64,
	// no padding), or "" when not known without reading the file.
	Digest string
	// Unchecked: Digest is what the wheel's RECORD claims for Member, not
	// yet checked against its bytes (install.Options.DeferCheck, which
	// only a pipeline writing to a sink that checks asks for: the image
	// sink hashes the bytes as it writes them and fails, leaving nothing,
	// on a mismatch; see Written.Checked). zipsink refuses such a file.
	Unchecked bool

	// Origin says which one of Member, Data or Disk holds the bytes.
	Origin Origin
	Member *zip.File
	Data   []byte
	Disk   string

	// Dist is the canonical name of the distribution that installs the
	// file; "" for code and generated files that belong to none.
	Dist string
	Role Role
	// Part is the index in Tree.Parts of the installation the file
	// belongs to (0 for code).
	Part int
}

// Open returns the file's bytes.
func (f *File) Open() (io.ReadCloser, error) {
	switch f.Origin {
	case FromWheel:
		if f.Member == nil {
			return nil, fmt.Errorf("%s: no wheel member", f.Path)
		}
		return f.Member.Open()
	case FromBytes:
		return io.NopCloser(bytes.NewReader(f.Data)), nil
	case FromDisk:
		return os.Open(f.Disk)
	}
	return nil, fmt.Errorf("%s: unknown origin %v", f.Path, f.Origin)
}

// Executable reports whether the file is written 0755.
func (f *File) Executable() bool { return f.Mode&0o111 != 0 }

// Dist is one installed distribution.
type Dist struct {
	Name     string // canonical
	Version  string // as its METADATA says
	Filename string // the wheel's file name
	Size     int64  // bytes it installs
	Files    int    // files it installs
}

// Part is one installation: the packages for one target, under one root. A
// layer for several runtimes that take the same wheels has one part that
// serves them all; otherwise one part per runtime, each in its own
// python/lib/python3.X/site-packages.
type Part struct {
	// Targets: the first is the target the wheels were chosen for; the
	// others are served by the same files (and verified against them).
	Targets []target.Target
	// Root is the package folder inside the artifact ("python/",
	// "python/lib/python3.12/site-packages/", or "" for a function).
	Root  string
	Dists []Dist
}

// Target returns the target the part was installed for.
func (p *Part) Target() target.Target { return p.Targets[0] }

// Tree is every planned file of one artifact.
type Tree struct {
	// Record is what the artifact is and is for; sinks store it (a zip's
	// comment, an image label).
	Record record.Record
	// Files are sorted by Path, each path once.
	Files []File
	Parts []Part
	// Pure reports that no file is native code (ELF, Mach-O, PE), decided
	// from the content, not from wheel tags.
	Pure bool
	// Notes are what the user should know about the plan.
	Notes []string

	closers []io.Closer
}

// OnClose registers c (an open wheel) to be closed with the tree.
func (t *Tree) OnClose(c io.Closer) { t.closers = append(t.closers, c) }

// Close releases what the files' bytes are read from. A tree is unusable
// afterwards.
func (t *Tree) Close() error {
	var errs []error
	for _, c := range t.closers {
		errs = append(errs, c.Close())
	}
	t.closers = nil
	return errors.Join(errs...)
}

// Size is the sum of the files' sizes (the artifact unzipped).
func (t *Tree) Size() int64 {
	var n int64
	for i := range t.Files {
		n += t.Files[i].Size
	}
	return n
}

// Select returns the files for which keep is true, in order.
func (t *Tree) Select(keep func(*File) bool) []*File {
	var out []*File
	for i := range t.Files {
		if keep(&t.Files[i]) {
			out = append(out, &t.Files[i])
		}
	}
	return out
}

// PartFiles returns the files part i's targets read: the part's own, and
// those outside every other part's Root (scripts in bin/, a function's
// code), in order. Verification and byte-compiling look at a part this way;
// so does a sink that runs one target.
func (t *Tree) PartFiles(i int) []*File {
	return t.Select(func(f *File) bool {
		if f.Part == i {
			return true
		}
		for j := range t.Parts {
			if j != i && t.Parts[j].Root != "" && strings.HasPrefix(f.Path, t.Parts[j].Root) {
				return false
			}
		}
		return true
	})
}

// Sort orders Files by Path and refuses a path listed twice.
func (t *Tree) Sort() error {
	byPath := func(a, b File) int { return strings.Compare(a.Path, b.Path) }
	// Planners append sorted runs; moving the (large) Files is the cost,
	// so sort only what is out of order.
	if !slices.IsSortedFunc(t.Files, byPath) {
		slices.SortFunc(t.Files, byPath)
	}
	for i := 1; i < len(t.Files); i++ {
		if t.Files[i].Path == t.Files[i-1].Path {
			return fmt.Errorf("%s is planned twice", t.Files[i].Path)
		}
	}
	return nil
}

// Sink writes a tree somewhere: a zip, image layers, a folder to run.
type Sink interface {
	// Write writes t. When it fails, nothing is left at the destination.
	Write(ctx context.Context, t *Tree) (*Written, error)
}

// Written says what a sink wrote.
type Written struct {
	// Path is where: a zip's path, a folder, an image reference.
	Path string
	// SHA256 is the hex sha256 of a zip, or an image manifest's digest
	// ("sha256:...").
	SHA256 string
	// Size is the bytes written (a zip's size, an image's compressed
	// layers); UnzippedSize the files' total.
	Size, UnzippedSize int64
	// Summary is one line for the progress log.
	Summary string
	// Checked: every Unchecked file of the tree was written and its bytes
	// hashed to its Digest (a sink that writes some from elsewhere, an
	// image layer from the cache, leaves it false).
	Checked bool
}
