package lock

import "time"

// Lock is a locked set of packages (PEP 751's top level).
type Lock struct {
	// LockVersion is the format version, "1.0" when written by lambdapack.
	LockVersion string
	// CreatedBy names the tool that wrote the lock ("lambdapack").
	CreatedBy string
	// RequiresPython is the Python the lock is for (">=3.12", "==3.12.*").
	RequiresPython string
	// Environments are marker expressions, at least one of which holds
	// where the lock may be installed.
	Environments []string
	// Extras, DependencyGroups and DefaultGroups are PEP 751's optional
	// selection lists (empty for a lambdapack lock).
	Extras, DependencyGroups, DefaultGroups []string
	Packages                                []Package
	// Tool is the [tool] table, kept as read.
	Tool map[string]any
}

// Package is one locked distribution. Exactly one source is set: Wheels
// and/or Sdist, or one of Archive, Directory, VCS.
type Package struct {
	Name           string // normalised name
	Version        string // "" for directory / VCS packages without one
	Marker         string // when to install it; "" = always
	RequiresPython string
	// Dependencies identify the package entries this one depends on.
	Dependencies []Dependency
	// Index is the simple-API index the files came from ("" if unknown).
	Index     string
	Wheels    []File
	Sdist     *File
	Archive   *Archive
	Directory *Directory
	VCS       *VCS
	// AttestationIdentities and Tool are kept as read.
	AttestationIdentities []map[string]any
	Tool                  map[string]any
}

// Dependency points at another package entry of the lock (by name, and by
// version when several entries share a name).
type Dependency struct {
	Name    string
	Version string
}

// File is a wheel or sdist: where it is (URL or Path), its size, upload
// time and hashes.
type File struct {
	Name       string // file name; derived from URL/Path when empty
	URL        string
	Path       string // relative to the lock file's folder
	Size       int64  // 0 when unknown
	UploadTime time.Time
	Hashes     map[string]string // algorithm -> lower-case hex
}

// Archive is a direct-reference archive (URL or path).
type Archive struct {
	URL, Path    string
	Size         int64
	UploadTime   time.Time
	Hashes       map[string]string
	Subdirectory string
}

// Directory is a local source tree.
type Directory struct {
	Path         string
	Editable     bool
	Subdirectory string
}

// VCS is a version-control checkout.
type VCS struct {
	Type, URL, Path, RequestedRevision, CommitID, Subdirectory string
}

// SHA256 returns the file's sha256 hash ("" when it has none).
func (f File) SHA256() string { return f.Hashes["sha256"] }
