package app

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/zipsink"
)

// The check before a sink writes (VerifyTree, verify.EntriesSource) reads
// a planned tree's members the way verify reads a zip: a hostile zip given
// as a function's CodeUri (its members become the tree's files as they
// are) is refused before anything is inflated or written, and the build's
// peak memory, measured through the process's own accounting, stays
// bounded: a child process runs the build and reports its VmHWM (the
// kernel's high-water mark of its resident memory). Not the ru_maxrss the
// parent gets from wait4: Linux starts a child's maxrss at the parent's
// peak when it execs from a vfork (as os/exec does), so it would count the
// bombs this test makes.

// bombChildResult is what the child build reports.
type bombChildResult struct {
	Err         string `json:"err"`
	VerifyError bool   `json:"verify_error"`
	Built       []string
	PeakRSS     int64 // bytes: VmHWM at the end
}

// TestVerifyTreeBombChild is the child process of buildInChild: it builds
// the project named by LAMBDAPACK_BOMB_CHILD against the index named by
// LAMBDAPACK_BOMB_INDEX and prints the outcome. Run alone, it does nothing.
func TestVerifyTreeBombChild(t *testing.T) {
	dir := os.Getenv("LAMBDAPACK_BOMB_CHILD")
	if dir == "" {
		return
	}
	if zp := os.Getenv("LAMBDAPACK_BOMB_TREE"); zp != "" {
		writeTreeChild(t, zp, dir)
		return
	}
	o := BuildOptions{Dir: dir, Env: EnvOptions{CacheDir: os.Getenv("LAMBDAPACK_BOMB_CACHE"), Index: index.Settings{IndexURL: os.Getenv("LAMBDAPACK_BOMB_INDEX")}}}
	rep, _, err := Build(context.Background(), o)
	var res bombChildResult
	if err != nil {
		res.Err = err.Error()
		var ve *VerifyError
		res.VerifyError = errors.As(err, &ve)
	}
	if rep != nil {
		for _, a := range rep.Artifacts {
			res.Built = append(res.Built, a.Name)
		}
	}
	res.PeakRSS = testutil.PeakRSS()
	json.NewEncoder(os.Stdout).Encode(res)
}

// writeTreeChild hands WriteTree a planned function whose files are the
// members of the zip zp, as they are (none vouched for by a RECORD), with
// a zip sink writing into out, and prints the outcome: the check before the
// sink, on its own.
func writeTreeChild(t *testing.T, zp, out string) {
	var res bombChildResult
	err := func() error {
		env, err := OpenEnv(EnvOptions{CacheDir: os.Getenv("LAMBDAPACK_BOMB_CACHE"), Offline: true})
		if err != nil {
			return err
		}
		defer env.Close()
		tg, err := target.New("python3.12", "x86_64")
		if err != nil {
			return err
		}
		zr, err := zip.OpenReader(zp)
		if err != nil {
			return err
		}
		tr := &tree.Tree{Record: record.Record{Kind: KindFunction, Handler: "app.handler"}, Parts: []tree.Part{{Targets: []target.Target{tg}}}}
		tr.OnClose(zr)
		defer tr.Close()
		for _, m := range zr.File {
			tr.Files = append(tr.Files, tree.File{Path: m.Name, Mode: 0o644, Size: int64(m.UncompressedSize64), Origin: tree.FromWheel, Member: m, Role: tree.RoleCode})
		}
		if err := tr.Sort(); err != nil {
			return err
		}
		sink, err := zipsink.New(filepath.Join(out, "fn.zip"))
		if err != nil {
			return err
		}
		_, _, err = WriteTree(context.Background(), env, tr, sink, CheckOptions{Name: filepath.Join(out, "fn.zip")})
		return err
	}()
	if err != nil {
		res.Err = err.Error()
		var ve *VerifyError
		res.VerifyError = errors.As(err, &ve)
	}
	res.PeakRSS = testutil.PeakRSS()
	json.NewEncoder(os.Stdout).Encode(res)
}

// buildInChild builds the project at dir in a fresh process (with env
// added to its environment) and returns the outcome and the process's peak
// resident memory in bytes.
func buildInChild(t *testing.T, dir string, env ...string) (bombChildResult, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestVerifyTreeBombChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LAMBDAPACK_BOMB_CHILD="+dir, "LAMBDAPACK_BOMB_INDEX="+testutil.NewIndex(t), "LAMBDAPACK_BOMB_CACHE="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s%s", err, out, stderr.String())
	}
	var res bombChildResult
	line, _, _ := bytes.Cut(out, []byte("\n"))
	if err := json.Unmarshal(line, &res); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	if res.PeakRSS <= 0 {
		t.Fatal("the child could not read its VmHWM from /proc/self/status")
	}
	return res, res.PeakRSS
}

// distHoldsNoArtifact fails the test when the project's dist/ holds
// anything but the build state (no folder at all is fine).
func distHoldsNoArtifact(t *testing.T, dir string) {
	t.Helper()
	names, err := os.ReadDir(filepath.Join(dir, "dist"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, n := range names {
		if n.Name() != stateFile {
			t.Errorf("dist holds %s", n.Name())
		}
	}
}

// maxBuildRSS bounds the building process's peak memory: the test binary
// and a build of one small function need about 30 MiB; each case below
// would need 100 MiB to terabytes if members were inflated into memory.
const maxBuildRSS = 100 << 20

// TestVerifyTreeRefusesZipBombsInBoundedMemory: a zip given as a
// function's CodeUri whose member declares more than Lambda's limit, whose
// members together declare far more, whose entries overlap, or whose member
// inflates past what it declares is refused with an error naming the
// function and the zip (or the member), nothing is written, and the build's
// peak memory stays bounded. The same zips handed straight to WriteTree as
// a planned tree (the check before a sink writes, on its own) are refused
// by that check before the sink is called.
func TestVerifyTreeRefusesZipBombsInBoundedMemory(t *testing.T) {
	handler := testutil.Deflated("app.py", []byte("def handler(e, c):\n    return 1\n"))
	blob := func(t *testing.T, size, declared int64) testutil.ZipMember {
		data, crc := testutil.ZeroBomb(t, nil, size)
		return testutil.ZipMember{Name: "data/blobdata.bin", Method: zip.Deflate, Data: data, CRC32: crc, Size: uint64(declared)}
	}
	overlapping := func(t *testing.T, p string, size int64, n int) {
		testutil.WriteRawZip(t, p, []testutil.ZipMember{handler, blob(t, size, size)})
		if err := os.Rename(testutil.OverlapCopies(t, p, "data/blobdata.bin", n), p); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]struct {
		zip    func(t *testing.T, p string)
		err    string // what the build's refusal says
		verify bool   // the build refuses it as a VerifyError (a finding)
		// treeErr is what WriteTree's refusal says, "" for the same as
		// err; treeSkip: a planned tree cannot show it (a tree's files
		// have no offsets in a zip), the planner refuses it.
		treeErr  string
		treeSkip bool
	}{
		// 4 GiB of zeros in about 4 MB: refused by its declared size.
		"one-member-bomb": {zip: func(t *testing.T, p string) {
			testutil.WriteRawZip(t, p, []testutil.ZipMember{handler, blob(t, 4<<30, 4<<30)})
		}, err: "declares 4,294,967,296 bytes unzipped, more than Lambda's limit"},
		// Twenty members of 200 MB each, every one within the limit.
		"many-members-bomb": {zip: func(t *testing.T, p string) {
			b := blob(t, 200<<20, 200<<20)
			ms := []testutil.ZipMember{handler}
			for i := range 20 {
				m := b
				m.Name = "data/blob" + string(rune('a'+i)) + ".bin"
				ms = append(ms, m)
			}
			testutil.WriteRawZip(t, p, ms)
		}, err: "members declare 4,194,304,032 bytes unzipped, far over Lambda's limit"},
		// A thousand central directory entries pointing into one
		// member's data: 100 GB from 100 KB.
		"overlapping-entries": {zip: func(t *testing.T, p string) { overlapping(t, p, 100<<20, 1000) },
			err: "share compressed data (overlapping entries", treeErr: "members declare 104,962,457,632 bytes unzipped, far over Lambda's limit"},
		// Two entries sharing 4 MiB of data: small, but no real zip has
		// them.
		"few-overlapping-entries": {zip: func(t *testing.T, p string) { overlapping(t, p, 4<<20, 2) },
			err: "share compressed data (overlapping entries", treeSkip: true},
		// Declares 1 MiB, inflates to 1 GiB: stopped at 1 MiB and one.
		"lying-size": {zip: func(t *testing.T, p string) {
			testutil.WriteRawZip(t, p, []testutil.ZipMember{handler, blob(t, 1<<30, 1<<20)})
		}, err: "holds more than the 1048576 bytes its header declares", verify: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			testutil.WriteFiles(t, dir, map[string]string{
				"template.yaml": samT + "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: build/fn.zip\n      Handler: app.handler\n      Runtime: python3.12\n",
			})
			p := filepath.Join(dir, "build", "fn.zip")
			c.zip(t, p)
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			res, rss := buildInChild(t, dir)
			t.Logf("zip %d bytes: build: peak RSS %d MiB, outcome %+v", st.Size(), rss>>20, res)
			if rss > maxBuildRSS {
				t.Errorf("building used %d MiB at its peak, over %d MiB", rss>>20, maxBuildRSS>>20)
			}
			// The function and its zip (or, from verification, the member)
			// are named.
			named := filepath.Join("build", "fn.zip")
			if c.verify {
				named = "corrupt: data/blobdata.bin"
			}
			if !strings.Contains(res.Err, "function Fn:") || !strings.Contains(res.Err, named) || !strings.Contains(res.Err, c.err) {
				t.Errorf("err = %q, want it to name function Fn and %s and say %q", res.Err, named, c.err)
			}
			if res.VerifyError != c.verify {
				t.Errorf("refused as a VerifyError: %v, want %v", res.VerifyError, c.verify)
			}
			if len(res.Built) != 0 {
				t.Errorf("reported built: %v", res.Built)
			}
			distHoldsNoArtifact(t, dir)
			if c.treeSkip {
				return
			}

			// The same zip as a planned tree, straight to WriteTree.
			out := t.TempDir()
			res, rss = buildInChild(t, out, "LAMBDAPACK_BOMB_TREE="+p)
			t.Logf("WriteTree: peak RSS %d MiB, outcome %+v", rss>>20, res)
			if rss > maxBuildRSS {
				t.Errorf("WriteTree used %d MiB at its peak, over %d MiB", rss>>20, maxBuildRSS>>20)
			}
			want := c.treeErr
			if want == "" {
				want = c.err
			}
			if !strings.Contains(res.Err, want) || res.VerifyError != c.verify {
				t.Errorf("WriteTree: err = %q (a VerifyError: %v), want it to say %q", res.Err, res.VerifyError, want)
			}
			if names := testutil.DirNames(t, out); len(names) != 0 {
				t.Errorf("the sink wrote %v", names)
			}
		})
	}
}

// A wheel whose members overlap (a thousand central directory entries
// pointing into one 100 MiB member's data, each listed in RECORD with the
// right hash: 100 GB to inflate and hash from 100 KB) is refused before
// anything is inflated, naming the wheel and the members; nothing is
// written and the build's memory stays bounded.
func TestWheelOverlapRefusedBeforeInflating(t *testing.T) {
	const size, copies = 100 << 20, 1000
	const name = "bombpkg/datablob.bin"
	row := func(b []byte) string {
		sum := sha256.Sum256(b)
		return "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]) + "," + strconv.Itoa(len(b))
	}
	meta := []byte("Metadata-Version: 2.1\nName: bombpkg\nVersion: 1.0\n")
	wheel := []byte("Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
	big := row(make([]byte, size))
	record := "bombpkg/__init__.py," + row(nil) + "\n" + name + "," + big + "\nbombpkg-1.0.dist-info/METADATA," + row(meta) +
		"\nbombpkg-1.0.dist-info/WHEEL," + row(wheel) + "\nbombpkg-1.0.dist-info/RECORD,,\n"
	for i := range copies {
		c := []byte(strings.Repeat("x", len(name)))
		copy(c, fmt.Sprintf("python/c%06d", i)) // the names testutil.OverlapCopies gives
		record += string(c) + "," + big + "\n"
	}
	data, crc := testutil.ZeroBomb(t, nil, size)
	p := testutil.WriteRawZip(t, filepath.Join(t.TempDir(), "bombpkg-1.0-py3-none-any.whl"), []testutil.ZipMember{
		testutil.Deflated("bombpkg/__init__.py", nil),
		testutil.Deflated("bombpkg-1.0.dist-info/METADATA", meta),
		testutil.Deflated("bombpkg-1.0.dist-info/WHEEL", wheel),
		testutil.Deflated("bombpkg-1.0.dist-info/RECORD", []byte(record)),
		{Name: name, Method: zip.Deflate, Data: data, CRC32: crc, Size: size},
	})
	body, err := os.ReadFile(testutil.OverlapCopies(t, p, name, copies))
	if err != nil {
		t.Fatal(err)
	}
	ix := testutil.StartIndex(t, testutil.IndexOptions{})
	if err := ix.AddWheelFile(filepath.Base(p), body); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"lambdapack.toml": "runtime = \"python3.12\"\n[layers.deps]\ndependencies = [\"bombpkg==1.0\"]\n"})
	res, rss := buildInChild(t, dir, "LAMBDAPACK_BOMB_INDEX="+ix.Server.URL+"/simple")
	t.Logf("wheel %d bytes: peak RSS %d MiB, outcome %+v", len(body), rss>>20, res)
	if rss > maxBuildRSS {
		t.Errorf("building used %d MiB at its peak, over %d MiB", rss>>20, maxBuildRSS>>20)
	}
	for _, want := range []string{"layer deps:", "refusing wheel bombpkg-1.0-py3-none-any.whl", `members "bombpkg/datablob.bin" and "python/c000000xxxxxx" share compressed data (overlapping entries`} {
		if !strings.Contains(res.Err, want) {
			t.Errorf("err = %q, want it to say %q", res.Err, want)
		}
	}
	if len(res.Built) != 0 {
		t.Errorf("reported built: %v", res.Built)
	}
	distHoldsNoArtifact(t, dir)
}
