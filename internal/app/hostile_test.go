package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// Hostile wheels, each served by a local index and built through the real
// command path (BuildArtifact with --index-url): each must be refused with an
// error naming the wheel, leave nothing at -o, nothing else in the output
// folder, and nothing written outside it.

// hostileFile is one file a hostileIndex lists.
type hostileFile struct {
	Project  string // canonical project name
	Filename string
	Body     []byte // what the page's hash and size describe
	// Served, when set, is what the file URL returns instead of Body.
	Served []byte
	// CutConnection declares Body's length in Content-Length but sends
	// only Served, then drops the connection.
	CutConnection bool
	// Metadata is served as the PEP 658 metadata file (nil: none).
	Metadata []byte
}

// hostileIndex serves files over a PEP 691 JSON simple index, for wheels
// testutil.Wheel cannot express (symlink members, a METADATA that names
// another project) and downloads that go wrong. It returns the simple URL.
func hostileIndex(t *testing.T, files ...hostileFile) string {
	t.Helper()
	byName := map[string]hostileFile{}
	for _, f := range files {
		byName[f.Filename] = f
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/simple/"):
			proj := strings.Trim(strings.TrimPrefix(p, "/simple/"), "/")
			var list []map[string]any
			versions := []string{}
			for _, f := range files {
				if f.Project != proj {
					continue
				}
				e := map[string]any{
					"filename": f.Filename,
					"url":      srv.URL + "/files/" + f.Filename,
					"hashes":   map[string]string{"sha256": e2eSHA256(f.Body)},
					"size":     len(f.Body),
					"yanked":   false,
				}
				if f.Metadata != nil {
					e["core-metadata"] = map[string]string{"sha256": e2eSHA256(f.Metadata)}
				} else {
					e["core-metadata"] = false
				}
				list = append(list, e)
				versions = append(versions, strings.Split(f.Filename, "-")[1])
			}
			if len(list) == 0 {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "application/vnd.pypi.simple.v1+json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"meta": map[string]string{"api-version": "1.1"}, "name": proj, "files": list, "versions": versions,
			})
		case strings.HasPrefix(p, "/files/"):
			name := strings.TrimPrefix(p, "/files/")
			if base, ok := strings.CutSuffix(name, ".metadata"); ok {
				if f, ok := byName[base]; ok && f.Metadata != nil {
					_, _ = w.Write(f.Metadata)
					return
				}
				http.NotFound(w, r)
				return
			}
			f, ok := byName[name]
			if !ok {
				http.NotFound(w, r)
				return
			}
			body := f.Body
			if f.Served != nil {
				body = f.Served
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			if f.CutConnection {
				w.Header().Set("Content-Length", strconv.Itoa(len(f.Body)))
			} else {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			}
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/simple/"
}

// hostileMember is one member of a hand-made wheel.
type hostileMember struct {
	Name string
	Data []byte
	Mode fs.FileMode // 0 = 0644; fs.ModeSymlink|0777 makes a symlink whose target is Data
}

// hostileWheel writes a wheel zip from members, adding a RECORD that is
// correct for them unless one is given.
func hostileWheel(t *testing.T, distInfo string, members []hostileMember) []byte {
	t.Helper()
	recordPath := distInfo + "/RECORD"
	hasRecord := false
	for _, m := range members {
		hasRecord = hasRecord || m.Name == recordPath
	}
	if !hasRecord {
		var rec strings.Builder
		for _, m := range members {
			sum := sha256.Sum256(m.Data)
			fmt.Fprintf(&rec, "%s,sha256=%s,%d\n", m.Name, base64.RawURLEncoding.EncodeToString(sum[:]), len(m.Data))
		}
		fmt.Fprintf(&rec, "%s,,\n", recordPath)
		members = append(members, hostileMember{Name: recordPath, Data: []byte(rec.String())})
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		h := &zip.FileHeader{Name: m.Name, Method: zip.Deflate}
		mode := m.Mode
		if mode == 0 {
			mode = 0o644
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostileBasics are the METADATA and WHEEL members of a pure wheel.
func hostileBasics(distInfo, name, version string) []hostileMember {
	return []hostileMember{
		{Name: distInfo + "/METADATA", Data: []byte(fmt.Sprintf("Metadata-Version: 2.1\nName: %s\nVersion: %s\n", name, version))},
		{Name: distInfo + "/WHEEL", Data: []byte("Wheel-Version: 1.0\nGenerator: hostile-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")},
	}
}

// hostileRun builds a layer of requirement from indexURL into base/out
// with a cache in base/cache and returns the error, after checking that
// nothing was left behind.
func hostileRun(t *testing.T, base, indexURL, requirement string) error {
	t.Helper()
	outDir := filepath.Join(base, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := e2eEnv(t, app.EnvOptions{CacheDir: filepath.Join(base, "cache"), Index: index.Settings{IndexURL: indexURL}})
	out := filepath.Join(outDir, "layer.zip")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := app.BuildArtifact(ctx, env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{requirement}},
		Runtime: "python3.12", Arch: "x86_64", Output: out,
	})
	if err == nil {
		t.Fatalf("built %s (%d bytes, packages %+v): the hostile wheel was accepted", out, rep.Size, rep.Packages)
	}
	t.Logf("refused: %v", err)
	if _, serr := os.Stat(out); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("%s exists after a failed build (stat: %v)", out, serr)
	}
	if left := testutil.DirNames(t, outDir); len(left) > 0 {
		t.Errorf("the output folder holds %v after a failed build", left)
	}
	return err
}

// hostileNoEscape fails the test if a file called name exists anywhere
// below root (or at root's parent, one level up).
func hostileNoEscape(t *testing.T, root string, names ...string) {
	t.Helper()
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		for _, n := range names {
			if d.Name() == n {
				t.Errorf("%s was written: a wheel member escaped its destination", p)
			}
		}
		return nil
	})
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(filepath.Dir(root), n)); err == nil {
			t.Errorf("%s was written beside the test folder", filepath.Join(filepath.Dir(root), n))
		}
	}
}

func hostileWantNamed(t *testing.T, err error, filename string) {
	t.Helper()
	if !strings.Contains(err.Error(), filename) {
		t.Errorf("the error does not name the wheel %s: %v", filename, err)
	}
}

func TestHostileDotDotMember(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := testutil.Wheel{Name: "evil", Version: "1.0", Files: map[string][]byte{
		"evil/__init__.py":       []byte(""),
		"../../escape_dotdot.py": []byte("print('escaped')\n"),
	}}
	err := hostileRun(t, base, testutil.NewIndex(t, w), "evil")
	hostileWantNamed(t, err, w.Filename())
	if !strings.Contains(err.Error(), "..") {
		t.Errorf("the error does not say what is wrong (a .. segment): %v", err)
	}
	hostileNoEscape(t, base, "escape_dotdot.py")
}

func TestHostileAbsoluteMember(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	target := filepath.Join(base, "pwned_absolute.py")
	w := testutil.Wheel{Name: "evil", Version: "1.0", Files: map[string][]byte{
		"evil/__init__.py": []byte(""),
		target:             []byte("print('escaped')\n"),
	}}
	err := hostileRun(t, base, testutil.NewIndex(t, w), "evil")
	hostileWantNamed(t, err, w.Filename())
	if !strings.Contains(err.Error(), target) {
		t.Errorf("the error does not name the member %s: %v", target, err)
	}
	hostileNoEscape(t, base, "pwned_absolute.py")
}

func TestHostileSymlinkMember(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	const di = "evil-1.0.dist-info"
	members := append([]hostileMember{
		{Name: "evil/__init__.py", Data: []byte("")},
		{Name: "evil/passwd", Data: []byte("../../../../../../etc/passwd"), Mode: fs.ModeSymlink | 0o777},
	}, hostileBasics(di, "evil", "1.0")...)
	body := hostileWheel(t, di, members)
	const fn = "evil-1.0-py3-none-any.whl"
	url := hostileIndex(t, hostileFile{Project: "evil", Filename: fn, Body: body, Metadata: members[2].Data})
	err := hostileRun(t, base, url, "evil")
	hostileWantNamed(t, err, fn)
	if !strings.Contains(err.Error(), "evil/passwd") || !strings.Contains(strings.ToLower(err.Error()), "symlink") {
		t.Errorf("the error does not name the symlink member evil/passwd: %v", err)
	}
	hostileNoEscape(t, base, "passwd")
}

func TestHostileRecordLies(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	w := testutil.Wheel{Name: "liar", Version: "1.0", Files: map[string][]byte{
		"liar/__init__.py": []byte("SAFE = False  # not what RECORD promised\n"),
	}}
	// RECORD: correct rows for METADATA and WHEEL (read back from an honest
	// build of the same wheel), and the hash and size of other bytes for
	// liar/__init__.py.
	honest, err := zip.NewReader(bytes.NewReader(w.Bytes()), int64(len(w.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	var rec strings.Builder
	var rows []string
	for _, f := range honest.File {
		if strings.HasSuffix(f.Name, "/RECORD") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(rc)
		rc.Close()
		data := b.Bytes()
		if f.Name == "liar/__init__.py" {
			data = []byte("SAFE = True\n")
		}
		sum := sha256.Sum256(data)
		rows = append(rows, fmt.Sprintf("%s,sha256=%s,%d\n", f.Name, base64.RawURLEncoding.EncodeToString(sum[:]), len(data)))
	}
	sort.Strings(rows)
	for _, r := range rows {
		rec.WriteString(r)
	}
	rec.WriteString(w.DistInfo() + "/RECORD,,\n")
	w.Files[w.DistInfo()+"/RECORD"] = []byte(rec.String())

	err = hostileRun(t, base, testutil.NewIndex(t, w), "liar")
	hostileWantNamed(t, err, w.Filename())
	if !strings.Contains(err.Error(), "liar/__init__.py") {
		t.Errorf("the error does not name the member whose hash RECORD misstates: %v", err)
	}
}

func TestHostileTruncatedDownload(t *testing.T) {
	t.Parallel()
	const di = "cut-1.0.dist-info"
	members := append([]hostileMember{
		{Name: "cut/__init__.py", Data: bytes.Repeat([]byte("# padding so the cut falls inside a member\n"), 200)},
	}, hostileBasics(di, "cut", "1.0")...)
	body := hostileWheel(t, di, members)
	const fn = "cut-1.0-py3-none-any.whl"
	for _, c := range []struct {
		name string
		cut  bool
	}{{"short body", false}, {"connection dropped", true}} {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			url := hostileIndex(t, hostileFile{Project: "cut", Filename: fn, Body: body, Served: body[:len(body)/2], CutConnection: c.cut, Metadata: members[1].Data})
			err := hostileRun(t, base, url, "cut")
			hostileWantNamed(t, err, fn)
			// Nothing of the partial download stays in the cache.
			ca, cerr := cache.Open(filepath.Join(base, "cache"))
			if cerr != nil {
				t.Fatal(cerr)
			}
			if b, ok := ca.Lookup(e2eSHA256(body)); ok {
				t.Errorf("the cache holds the wheel at %s after a truncated download", b.Path)
			}
			_ = filepath.WalkDir(filepath.Join(base, "cache"), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.Contains(p, "blobs") {
					t.Errorf("cache blob folder holds %s after a truncated download", p)
				}
				return nil
			})
		})
	}
}

func TestHostileNameDisagreesWithMetadata(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, metaName, metaVersion string
		// indexAgrees: the index's PEP 658 file says good 1.0 (so the
		// resolver takes it) while the wheel's own METADATA disagrees;
		// otherwise the index serves the wheel's METADATA, as an index
		// that extracts it does.
		indexAgrees bool
	}{
		{"another name", "evil", "1.0", false},
		{"another version", "good", "6.6.6", false},
		{"another name inside the wheel only", "evil", "1.0", true},
		{"another version inside the wheel only", "good", "6.6.6", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			const di = "good-1.0.dist-info"
			members := append([]hostileMember{{Name: "good/__init__.py", Data: []byte("")}}, hostileBasics(di, c.metaName, c.metaVersion)...)
			const fn = "good-1.0-py3-none-any.whl"
			meta := members[1].Data
			if c.indexAgrees {
				meta = hostileBasics(di, "good", "1.0")[0].Data
			}
			url := hostileIndex(t, hostileFile{Project: "good", Filename: fn, Body: hostileWheel(t, di, members), Metadata: meta})
			err := hostileRun(t, base, url, "good")
			hostileWantNamed(t, err, fn)
		})
	}
}

// hostileX86SharedObject compiles a tiny x86_64 shared library with gcc.
func hostileX86SharedObject(t *testing.T) []byte {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Fatalf("gcc is needed to compile an x86_64 .so: %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "native.c")
	if err := os.WriteFile(src, []byte("int lp_answer(void) { return 42; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	so := filepath.Join(dir, "native.so")
	if out, err := exec.Command(gcc, "-shared", "-fPIC", "-O2", "-o", so, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	if m := e2eELFMachine(t, so); m != elf.EM_X86_64 {
		t.Fatalf("gcc made a %v library, want x86_64", m)
	}
	data, err := os.ReadFile(so)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// hostileMislabelledWheel claims manylinux2014_aarch64 but carries an
// x86_64 extension module.
func hostileMislabelledWheel(t *testing.T) testutil.Wheel {
	return testutil.Wheel{
		Name: "fastthing", Version: "1.0", Tags: []string{"cp311-cp311-manylinux2014_aarch64"},
		Files: map[string][]byte{
			"fastthing/__init__.py":                              []byte("from ._native import *\n"),
			"fastthing/_native.cpython-311-aarch64-linux-gnu.so": hostileX86SharedObject(t),
		},
	}
}

func TestVerifyRefusesWrongArchAndForceWrites(t *testing.T) {
	t.Parallel()
	w := hostileMislabelledWheel(t)
	url := testutil.NewIndex(t, w)
	base := t.TempDir()
	outDir := filepath.Join(base, "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := e2eEnv(t, app.EnvOptions{CacheDir: filepath.Join(base, "cache"), Index: index.Settings{IndexURL: url}})
	out := filepath.Join(outDir, "layer.zip")
	o := app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"fastthing"}},
		Runtime: "python3.11", Arch: "arm64", Output: out,
	}
	const so = "python/fastthing/_native.cpython-311-aarch64-linux-gnu.so"
	_, err := app.BuildArtifact(context.Background(), env, o)
	var ve *app.VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *app.VerifyError for an x86_64 .so in an arm64 layer, got %v", err)
	}
	if !strings.Contains(err.Error(), so) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("the error should name %s and mention --force: %v", so, err)
	}
	if left := testutil.DirNames(t, outDir); len(left) > 0 {
		t.Fatalf("verification failed but the output folder holds %v", left)
	}

	// A run of its own: this one refused the wheel for the target.
	env = e2eEnv(t, app.EnvOptions{CacheDir: filepath.Join(base, "cache"), Index: index.Settings{IndexURL: url}})
	o.Force = true
	rep := e2eBuild(t, env, o)
	var found bool
	for _, f := range rep.Findings {
		if f.Severity == verify.Error && f.File == so {
			found = true
		}
	}
	if !found {
		t.Errorf("--force report lacks the error finding for %s: %+v", so, rep.Findings)
	}
	var noted bool
	for _, n := range rep.Notes {
		noted = noted || strings.Contains(n, "--force")
	}
	if !noted {
		t.Errorf("no note that --force wrote a failing artifact: %q", rep.Notes)
	}
	if got := testutil.DirNames(t, outDir); len(got) != 1 || got[0] != "layer.zip" {
		t.Errorf("output folder holds %v, want only layer.zip", got)
	}
	names := testutil.ZipNames(t, out)
	if !strings.Contains(strings.Join(names, "\n"), so) {
		t.Errorf("the forced layer lacks %s: %v", so, names)
	}
}

// A failed build leaves the previous artifact at -o as it was (writes are
// temp + rename), and -o naming a folder is refused without touching it or
// leaving a temporary file beside it.
func TestFailedBuildKeepsPreviousArtifact(t *testing.T) {
	t.Parallel()
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(testutil.Wheel{Name: "tiny", Version: "1.0", Files: map[string][]byte{"tiny/__init__.py": []byte("X = 1\n")}})
	evil := testutil.Wheel{Name: "evil", Version: "1.0", Files: map[string][]byte{"evil/__init__.py": nil, "../up.py": []byte("x")}}
	ix.AddWheel(evil)
	base := t.TempDir()
	outDir := filepath.Join(base, "out")
	env := e2eEnv(t, app.EnvOptions{CacheDir: filepath.Join(base, "cache"), Index: index.Settings{IndexURL: ix.URL}})
	o := app.ArtifactOptions{Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"tiny"}},
		Runtime: "python3.12", Output: filepath.Join(outDir, "layer.zip")}
	good := e2eBuild(t, env, o)
	before, err := os.ReadFile(o.Output)
	if err != nil {
		t.Fatal(err)
	}

	o.Deps.Requirements = []string{"evil"}
	if _, err := app.BuildArtifact(context.Background(), env, o); err == nil || !strings.Contains(err.Error(), evil.Filename()) {
		t.Fatalf("want a refusal naming %s, got %v", evil.Filename(), err)
	}
	after, err := os.ReadFile(o.Output)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the previous artifact (sha256 %s) changed or vanished after a failed build: %v", good.SHA256, err)
	}
	if got := testutil.DirNames(t, outDir); len(got) != 1 {
		t.Errorf("output folder holds %v, want only layer.zip", got)
	}

	// -o names a non-empty folder.
	o.Deps.Requirements = []string{"tiny"}
	o.Output = filepath.Join(outDir, "taken")
	if err := os.MkdirAll(filepath.Join(o.Output, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := app.BuildArtifact(context.Background(), env, o); err == nil {
		t.Fatalf("building onto a folder succeeded")
	} else {
		t.Logf("onto a folder: %v", err)
	}
	if got := testutil.DirNames(t, outDir); !slices.Equal(got, []string{"layer.zip", "taken"}) {
		t.Errorf("output folder holds %v after a failed write, want only layer.zip and taken (no temporary files)", got)
	}
	if got := testutil.DirNames(t, o.Output); !slices.Equal(got, []string{"keep"}) {
		t.Errorf("the folder at -o now holds %v", got)
	}
}

// More member names that must never become paths: Windows separators and
// drive letters, and names that are not clean.
func TestHostileMemberPaths(t *testing.T) {
	t.Parallel()
	for _, member := range []string{
		`evil\..\..\escape_backslash.py`,
		"C:/escape_drive.py",
		"evil/./escape_dot.py",
		"evil//escape_empty.py",
		"evil/../../escape_mid.py",
	} {
		t.Run(member, func(t *testing.T) {
			base := t.TempDir()
			w := testutil.Wheel{Name: "evil", Version: "1.0", Files: map[string][]byte{
				"evil/__init__.py": []byte(""),
				member:             []byte("print('escaped')\n"),
			}}
			err := hostileRun(t, base, testutil.NewIndex(t, w), "evil")
			hostileWantNamed(t, err, w.Filename())
			hostileNoEscape(t, base, "escape_backslash.py", "escape_drive.py", "escape_dot.py", "escape_empty.py", "escape_mid.py")
		})
	}
}

// Two members with one name: RECORD vouches for the first, the second
// carries other bytes. Whichever the zip reader meets, the installed bytes
// must be the ones RECORD vouches for, or the wheel refused.
func TestHostileDuplicateMember(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	const di = "dup-1.0.dist-info"
	good := []byte("SAFE = True\n")
	basics := hostileBasics(di, "dup", "1.0")
	sum := sha256.Sum256(good)
	var rec strings.Builder
	fmt.Fprintf(&rec, "dup/__init__.py,sha256=%s,%d\n", base64.RawURLEncoding.EncodeToString(sum[:]), len(good))
	for _, m := range basics {
		s := sha256.Sum256(m.Data)
		fmt.Fprintf(&rec, "%s,sha256=%s,%d\n", m.Name, base64.RawURLEncoding.EncodeToString(s[:]), len(m.Data))
	}
	fmt.Fprintf(&rec, "%s/RECORD,,\n", di)
	members := append([]hostileMember{
		{Name: "dup/__init__.py", Data: good},
		{Name: "dup/__init__.py", Data: []byte("SAFE = False  # smuggled\n")},
	}, basics...)
	members = append(members, hostileMember{Name: di + "/RECORD", Data: []byte(rec.String())})
	const fn = "dup-1.0-py3-none-any.whl"
	url := hostileIndex(t, hostileFile{Project: "dup", Filename: fn, Body: hostileWheel(t, di, members), Metadata: basics[0].Data})

	outDir := filepath.Join(base, "out")
	env := e2eEnv(t, app.EnvOptions{CacheDir: filepath.Join(base, "cache"), Index: index.Settings{IndexURL: url}})
	out := filepath.Join(outDir, "layer.zip")
	_, err := app.BuildArtifact(context.Background(), env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"dup"}}, Runtime: "python3.12", Output: out,
	})
	if err != nil {
		t.Logf("refused: %v", err)
		hostileWantNamed(t, err, fn)
		if _, serr := os.Stat(out); serr == nil {
			t.Errorf("%s exists after a refusal", out)
		}
		return
	}
	dir := testutil.Unzip(t, out)
	got, err := os.ReadFile(filepath.Join(dir, "python", "dup", "__init__.py"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, good) {
		t.Errorf("the layer holds the smuggled member %q, not the one RECORD vouches for", got)
	}
	if n := strings.Count(strings.Join(testutil.ZipNames(t, out), "\n")+"\n", "python/dup/__init__.py\n"); n != 1 {
		t.Errorf("python/dup/__init__.py appears %d times in the layer", n)
	}
}

// Two wheels that install one path with different bytes: an error naming
// both wheels.
func TestTwoWheelsWriteOnePath(t *testing.T) {
	t.Parallel()
	a := testutil.Wheel{Name: "one", Version: "1.0", Files: map[string][]byte{"one/__init__.py": nil, "shared/util.py": []byte("A = 1\n")}}
	b := testutil.Wheel{Name: "two", Version: "1.0", Files: map[string][]byte{"two/__init__.py": nil, "shared/util.py": []byte("B = 2\n")}}
	base := t.TempDir()
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	ix.AddWheel(a)
	ix.AddWheel(b)
	outDir := filepath.Join(base, "out")
	env := e2eEnv(t, app.EnvOptions{CacheDir: filepath.Join(base, "cache"), Index: index.Settings{IndexURL: ix.URL}})
	_, err := app.BuildArtifact(context.Background(), env, app.ArtifactOptions{
		Kind: app.KindLayer, Deps: app.Inputs{Requirements: []string{"one", "two"}}, Runtime: "python3.12",
		Output: filepath.Join(outDir, "layer.zip"),
	})
	if err == nil {
		t.Fatal("two wheels writing python/shared/util.py with different bytes were accepted")
	}
	t.Logf("refused: %v", err)
	for _, want := range []string{a.Filename(), b.Filename(), "shared/util.py"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
	if _, serr := os.Stat(outDir); serr == nil {
		if left := testutil.DirNames(t, outDir); len(left) > 0 {
			t.Errorf("output folder holds %v", left)
		}
	}
}
