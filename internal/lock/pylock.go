package lock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
	"github.com/lambdapack/lambdapack/internal/pep508"
	"github.com/lambdapack/lambdapack/internal/tags"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
)

// PylockFileName reports whether name is a valid PEP 751 lock file name:
// pylock.toml or pylock.<name>.toml.
func PylockFileName(name string) bool {
	return name == "pylock.toml" || pylockName.MatchString(name)
}

var pylockName = regexp.MustCompile(`^pylock\.[^./]+\.toml$`)

// WritePylock writes l as pylock.toml text. The output is deterministic:
// packages in the order given (lambdapack sorts them by name), keys in the
// order PEP 751 lists them, times in UTC.
func WritePylock(w io.Writer, l *Lock) error {
	var b bytes.Buffer
	lv := l.LockVersion
	if lv == "" {
		lv = "1.0"
	}
	kv(&b, "lock-version", quote(lv))
	if len(l.Environments) > 0 {
		kv(&b, "environments", strList(l.Environments))
	}
	if l.RequiresPython != "" {
		kv(&b, "requires-python", quote(l.RequiresPython))
	}
	for _, x := range []struct {
		key  string
		list []string
	}{{"extras", l.Extras}, {"dependency-groups", l.DependencyGroups}, {"default-groups", l.DefaultGroups}} {
		if len(x.list) > 0 {
			kv(&b, x.key, strList(x.list))
		}
	}
	kv(&b, "created-by", quote(l.CreatedBy))
	for _, p := range l.Packages {
		b.WriteString("\n[[packages]]\n")
		kv(&b, "name", quote(p.Name))
		if p.Version != "" {
			kv(&b, "version", quote(p.Version))
		}
		if p.Marker != "" {
			kv(&b, "marker", quote(p.Marker))
		}
		if p.RequiresPython != "" {
			kv(&b, "requires-python", quote(p.RequiresPython))
		}
		if len(p.Dependencies) > 0 {
			b.WriteString("dependencies = [\n")
			for _, d := range p.Dependencies {
				if d.Version != "" {
					fmt.Fprintf(&b, "    {name = %s, version = %s},\n", quote(d.Name), quote(d.Version))
				} else {
					fmt.Fprintf(&b, "    {name = %s},\n", quote(d.Name))
				}
			}
			b.WriteString("]\n")
		}
		if p.Index != "" {
			kv(&b, "index", quote(p.Index))
		}
		if len(p.AttestationIdentities) > 0 {
			var parts []string
			for _, a := range p.AttestationIdentities {
				parts = append(parts, inline(a))
			}
			kv(&b, "attestation-identities", "["+strings.Join(parts, ", ")+"]")
		}
		if len(p.Tool) > 0 {
			kv(&b, "tool", inline(p.Tool))
		}
		if p.VCS != nil {
			b.WriteString("\n[packages.vcs]\n")
			for _, f := range [][2]string{{"type", p.VCS.Type}, {"url", p.VCS.URL}, {"path", p.VCS.Path}, {"requested-revision", p.VCS.RequestedRevision}, {"commit-id", p.VCS.CommitID}, {"subdirectory", p.VCS.Subdirectory}} {
				if f[1] != "" {
					kv(&b, f[0], quote(f[1]))
				}
			}
		}
		if p.Directory != nil {
			b.WriteString("\n[packages.directory]\n")
			kv(&b, "path", quote(p.Directory.Path))
			if p.Directory.Editable {
				kv(&b, "editable", "true")
			}
			if p.Directory.Subdirectory != "" {
				kv(&b, "subdirectory", quote(p.Directory.Subdirectory))
			}
		}
		if p.Archive != nil {
			b.WriteString("\n[packages.archive]\n")
			writeFile(&b, File{URL: p.Archive.URL, Path: p.Archive.Path, Size: p.Archive.Size, UploadTime: p.Archive.UploadTime, Hashes: p.Archive.Hashes}, false)
			if p.Archive.Subdirectory != "" {
				kv(&b, "subdirectory", quote(p.Archive.Subdirectory))
			}
		}
		if p.Sdist != nil {
			b.WriteString("\n[packages.sdist]\n")
			writeFile(&b, *p.Sdist, true)
		}
		for _, f := range p.Wheels {
			b.WriteString("\n[[packages.wheels]]\n")
			writeFile(&b, f, true)
		}
	}
	if len(l.Tool) > 0 {
		b.WriteString("\n[tool]\n")
		for _, k := range sortedKeys(l.Tool) {
			kv(&b, bareKey(k), value(l.Tool[k]))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeFile(b *bytes.Buffer, f File, withName bool) {
	if withName && f.Name != "" {
		kv(b, "name", quote(f.Name))
	}
	if !f.UploadTime.IsZero() {
		kv(b, "upload-time", f.UploadTime.UTC().Format(time.RFC3339Nano))
	}
	if f.URL != "" {
		kv(b, "url", quote(f.URL))
	}
	if f.Path != "" {
		kv(b, "path", quote(f.Path))
	}
	if f.Size > 0 {
		kv(b, "size", strconv.FormatInt(f.Size, 10))
	}
	hs := map[string]any{}
	for k, v := range f.Hashes {
		hs[k] = v
	}
	kv(b, "hashes", inline(hs))
}

func kv(b *bytes.Buffer, k, v string) { b.WriteString(k + " = " + v + "\n") }

var bareRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func bareKey(k string) string {
	if bareRe.MatchString(k) {
		return k
	}
	return quote(k)
}

// quote returns a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func strList(xs []string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = quote(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func inline(m map[string]any) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, bareKey(k)+" = "+value(m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func value(v any) string {
	switch x := v.(type) {
	case string:
		return quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case toml.LocalDateTime, toml.LocalDate, toml.LocalTime:
		return fmt.Sprint(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = value(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []string:
		return strList(x)
	case map[string]any:
		return inline(x)
	}
	return quote(fmt.Sprint(v))
}

// WritePylockFile writes l to path atomically (a temporary file in the same
// folder, then a rename). A path that exists and is not a regular file
// (/dev/stdout, a pipe) is written in place: renaming over it would replace
// the device.
func WritePylockFile(path string, l *Lock) error {
	var b bytes.Buffer
	if err := WritePylock(&b, l); err != nil {
		return err
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return fmt.Errorf("writing %s: it is a folder", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if _, err := f.Write(b.Bytes()); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return f.Close()
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}

// ValidationError is a pylock.toml that breaks PEP 751's rules. Its message
// matches packaging.pylock's ("Missing required value in 'packages[0].name'").
type ValidationError struct{ Msg string }

func (e *ValidationError) Error() string { return e.Msg }

// ErrUnsupportedVersion is matched by the error for a lock-version whose
// major version is not 1.
var ErrUnsupportedVersion = errors.New("unsupported pylock version")

type unsupportedError struct{ v string }

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("pylock version %s is not supported", e.v)
}
func (e *unsupportedError) Is(t error) bool { return t == ErrUnsupportedVersion }

// ReadPylockFile reads and validates a pylock.toml file.
func ReadPylockFile(path string) (*Lock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading lock file: %w", err)
	}
	l, err := ReadPylock(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return l, nil
}

// ReadPylock reads and validates pylock.toml text.
func ReadPylock(r io.Reader) (*Lock, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing TOML: %w", err)
	}
	return FromDict(doc)
}

// FromDict validates a decoded pylock document (packaging's
// Pylock.from_dict).
func FromDict(doc map[string]any) (l *Lock, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				l, err = nil, e
				return
			}
			panic(r)
		}
	}()
	d := dict{m: doc}
	l = &Lock{}
	lv := d.str("lock-version", true)
	v, perr := pep440.Parse(lv)
	if perr != nil {
		fail("Invalid version: %s in 'lock-version'", pyRepr(lv))
	}
	if v.Major() != 1 || v.ReleaseLen() < 1 {
		panic(&unsupportedError{lv})
	}
	l.LockVersion = lv
	l.Environments = d.strList("environments")
	for i, e := range l.Environments {
		if _, err := pep508.ParseMarker(e); err != nil {
			fail("%v in 'environments[%d]'", err, i)
		}
	}
	l.RequiresPython = d.str("requires-python", false)
	if l.RequiresPython != "" {
		if _, err := pep440.ParseSpecifierSet(l.RequiresPython); err != nil {
			fail("%v in 'requires-python'", err)
		}
	}
	l.Extras = d.nameList("extras")
	l.DependencyGroups = d.nameList("dependency-groups")
	l.DefaultGroups = d.nameList("default-groups")
	l.CreatedBy = d.str("created-by", true)
	pkgs, ok := doc["packages"]
	if !ok {
		fail("Missing required value in 'packages'")
	}
	list, ok := pkgs.([]any)
	if !ok {
		fail("Unexpected type %s (expected Sequence) in 'packages'", pyType(pkgs))
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			fail("Unexpected type %s (expected Mapping) in 'packages[%d]'", pyType(item), i)
		}
		l.Packages = append(l.Packages, readPackage(dict{m: m, at: fmt.Sprintf("packages[%d]", i)}))
	}
	if t, ok := doc["tool"].(map[string]any); ok {
		l.Tool = t
	}
	return l, nil
}

func readPackage(d dict) Package {
	p := Package{}
	p.Name = d.str("name", true)
	if !names.IsCanonical(p.Name) {
		fail("Name %s is not normalized in '%s'", pyRepr(p.Name), d.path("name"))
	}
	p.Version = d.str("version", false)
	if p.Version != "" {
		if _, err := pep440.Parse(p.Version); err != nil {
			fail("Invalid version: %s in '%s'", pyRepr(p.Version), d.path("version"))
		}
	}
	p.Marker = d.str("marker", false)
	if p.Marker != "" {
		if _, err := pep508.ParseMarker(p.Marker); err != nil {
			fail("%v in '%s'", err, d.path("marker"))
		}
	}
	p.RequiresPython = d.str("requires-python", false)
	if deps := d.tableList("dependencies"); deps != nil {
		for _, dd := range deps {
			p.Dependencies = append(p.Dependencies, Dependency{Name: dd.str("name", false), Version: dd.str("version", false)})
		}
	}
	p.Index = d.str("index", false)
	if vt := d.table("vcs"); vt != nil {
		p.VCS = &VCS{Type: vt.str("type", true), URL: vt.str("url", false), Path: vt.str("path", false),
			RequestedRevision: vt.str("requested-revision", false), CommitID: vt.str("commit-id", true), Subdirectory: vt.str("subdirectory", false)}
		if p.VCS.URL == "" && p.VCS.Path == "" {
			fail("path or url must be provided in '%s'", vt.at)
		}
	}
	if dt := d.table("directory"); dt != nil {
		p.Directory = &Directory{Path: dt.str("path", true), Editable: dt.boolean("editable"), Subdirectory: dt.str("subdirectory", false)}
	}
	if at := d.table("archive"); at != nil {
		f := readFile(*at)
		if f.URL == "" && f.Path == "" {
			fail("path or url must be provided in '%s'", at.at)
		}
		p.Archive = &Archive{URL: f.URL, Path: f.Path, Size: f.Size, UploadTime: f.UploadTime, Hashes: f.Hashes, Subdirectory: at.str("subdirectory", false)}
	}
	if st := d.table("sdist"); st != nil {
		f := readFile(*st)
		name := distName(f)
		if name == "" {
			fail("Cannot determine sdist filename in '%s'", st.at)
		}
		sf, err := tags.ParseSdistFilename(name)
		if err != nil {
			fail("Invalid sdist filename %s in '%s'", pyRepr(name), st.at)
		}
		checkConsistent(p, sf.Name, sf.Version, name, st.at)
		p.Sdist = &f
	}
	for _, wt := range d.tableList("wheels") {
		f := readFile(wt)
		name := distName(f)
		if name == "" {
			fail("Cannot determine wheel filename in '%s'", wt.at)
		}
		wf, err := tags.ParseWheelFilename(name)
		if err != nil {
			fail("Invalid wheel filename %s in '%s'", pyRepr(name), wt.at)
		}
		checkConsistent(p, wf.Name, wf.Version, name, wt.at)
		p.Wheels = append(p.Wheels, f)
	}
	for _, a := range d.tableList("attestation-identities") {
		a.str("kind", true)
		p.AttestationIdentities = append(p.AttestationIdentities, a.m)
	}
	if t := d.table("tool"); t != nil {
		p.Tool = t.m
	}
	others := 0
	for _, set := range []bool{p.VCS != nil, p.Directory != nil, p.Archive != nil} {
		if set {
			others++
		}
	}
	if p.Sdist != nil || len(p.Wheels) > 0 {
		if others > 0 {
			fail("None of vcs, directory, archive must be set if sdist or wheels are set in '%s'", d.at)
		}
	} else if others != 1 {
		fail("Exactly one of vcs, directory, archive must be set if sdist and wheels are not set in '%s'", d.at)
	}
	return p
}

func checkConsistent(p Package, name string, v pep440.Version, file, at string) {
	if name != p.Name {
		fail("Name in %s is not consistent with package name %s in '%s'", pyRepr(file), pyRepr(p.Name), at)
	}
	if p.Version != "" {
		pv, _ := pep440.Parse(p.Version)
		if !pv.Equal(v) {
			fail("Version in %s is not consistent with package version %s in '%s'", pyRepr(file), pyRepr(p.Version), at)
		}
	}
}

// distName is the file name: name, else the last part of path, else of
// the URL (unescaped).
func distName(f File) string {
	switch {
	case f.Name != "":
		return f.Name
	case f.Path != "":
		return path.Base(strings.ReplaceAll(f.Path, `\`, "/"))
	case f.URL != "":
		u, err := url.Parse(f.URL)
		if err != nil {
			return ""
		}
		return path.Base(u.Path)
	}
	return ""
}

func readFile(d dict) File {
	f := File{Name: d.str("name", false), URL: d.str("url", false), Path: d.str("path", false)}
	f.Size = d.integer("size")
	if t, ok := d.m["upload-time"]; ok {
		tt, ok := t.(time.Time)
		if !ok {
			fail("Unexpected type %s (expected datetime) in '%s'", pyType(t), d.path("upload-time"))
		}
		f.UploadTime = tt
	}
	h, ok := d.m["hashes"]
	if !ok {
		fail("Missing required value in '%s'", d.path("hashes"))
	}
	f.Hashes = hashes(h, d.path("hashes"))
	return f
}

func hashes(v any, at string) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		fail("Unexpected type %s (expected Mapping) in '%s'", pyType(v), at)
	}
	if len(m) == 0 {
		fail("At least one hash must be provided in '%s'", at)
	}
	out := map[string]string{}
	for k, hv := range m {
		s, ok := hv.(string)
		if !ok {
			fail("Hash values must be strings in '%s'", at)
		}
		out[k] = s
	}
	return out
}

// dict is a TOML table being validated, with its path for messages.
type dict struct {
	m  map[string]any
	at string
}

func (d dict) path(k string) string {
	if d.at == "" {
		return k
	}
	return d.at + "." + k
}

func fail(format string, args ...any) { panic(&ValidationError{Msg: fmt.Sprintf(format, args...)}) }

func (d dict) str(k string, required bool) string {
	v, ok := d.m[k]
	if !ok {
		if required {
			fail("Missing required value in '%s'", d.path(k))
		}
		return ""
	}
	s, ok := v.(string)
	if !ok {
		fail("Unexpected type %s (expected str) in '%s'", pyType(v), d.path(k))
	}
	return s
}

func (d dict) integer(k string) int64 {
	v, ok := d.m[k]
	if !ok {
		return 0
	}
	n, ok := v.(int64)
	if !ok {
		fail("Unexpected type %s (expected int) in '%s'", pyType(v), d.path(k))
	}
	return n
}

func (d dict) boolean(k string) bool {
	v, ok := d.m[k]
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		fail("Unexpected type %s (expected bool) in '%s'", pyType(v), d.path(k))
	}
	return b
}

func (d dict) strList(k string) []string {
	v, ok := d.m[k]
	if !ok {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		fail("Unexpected type %s (expected Sequence) in '%s'", pyType(v), d.path(k))
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			fail("Unexpected type %s (expected str) in '%s[%d]'", pyType(e), d.path(k), i)
		}
		out[i] = s
	}
	return out
}

func (d dict) nameList(k string) []string {
	out := d.strList(k)
	for i, n := range out {
		if !names.IsCanonical(n) {
			fail("Name %s is not normalized in '%s[%d]'", pyRepr(n), d.path(k), i)
		}
	}
	return out
}

func (d dict) table(k string) *dict {
	v, ok := d.m[k]
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		fail("Unexpected type %s (expected Mapping) in '%s'", pyType(v), d.path(k))
	}
	return &dict{m: m, at: d.path(k)}
}

func (d dict) tableList(k string) []dict {
	v, ok := d.m[k]
	if !ok {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		fail("Unexpected type %s (expected Sequence) in '%s'", pyType(v), d.path(k))
	}
	out := make([]dict, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			fail("Unexpected type %s (expected Mapping) in '%s[%d]'", pyType(e), d.path(k), i)
		}
		out[i] = dict{m: m, at: fmt.Sprintf("%s[%d]", d.path(k), i)}
	}
	return out
}

func pyType(v any) string {
	switch v.(type) {
	case string:
		return "str"
	case int64, int:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	case time.Time:
		return "datetime"
	}
	return fmt.Sprintf("%T", v)
}

// pyRepr quotes like Python's repr of a str.
func pyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}
