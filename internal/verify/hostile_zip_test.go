package verify_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// writeRawZip writes the members as given into a zip in a fresh folder.
func writeRawZip(t testing.TB, ms []testutil.ZipMember) string {
	t.Helper()
	return testutil.WriteRawZip(t, filepath.Join(t.TempDir(), "artifact.zip"), ms)
}

// childResult is what the child process reports.
type childResult struct {
	Err      string   `json:"err"`
	Rules    []string `json:"rules"`
	Files    []string `json:"files"`
	Messages []string `json:"messages"`
	PeakRSS  int64    `json:"peak_rss"` // bytes: testutil.PeakRSS at the end
}

// TestVerifyChild is the child process of checkInChild: it verifies the
// zip named by LAMBDAPACK_VERIFY_CHILD and prints the outcome. Run alone,
// it does nothing.
func TestVerifyChild(t *testing.T) {
	p := os.Getenv("LAMBDAPACK_VERIFY_CHILD")
	if p == "" {
		return
	}
	var res childResult
	rep, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{Kind: verify.KindLayer})
	if err != nil {
		res.Err = err.Error()
	} else {
		for _, f := range rep.Problems() {
			res.Rules = append(res.Rules, f.Rule)
			res.Files = append(res.Files, f.File)
			res.Messages = append(res.Messages, f.Message)
		}
	}
	res.PeakRSS = testutil.PeakRSS()
	json.NewEncoder(os.Stdout).Encode(res)
}

// checkInChild verifies a zip in a fresh process and returns the outcome
// and the process's peak resident memory in bytes, as the child measured
// it (testutil.PeakRSS: wait4's ru_maxrss would count this process's own).
func checkInChild(t *testing.T, zipPath string) (childResult, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestVerifyChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LAMBDAPACK_VERIFY_CHILD="+zipPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s%s", err, out, stderr.String())
	}
	var res childResult
	line, _, _ := bytes.Cut(out, []byte("\n"))
	if err := json.Unmarshal(line, &res); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	if res.PeakRSS <= 0 {
		t.Fatalf("the child could not read its peak memory: %q", out)
	}
	return res, res.PeakRSS
}

// maxChildRSS bounds the verifying process's peak memory in every hostile
// case: the test binary itself needs about 20 MB; each case below would
// need 250 MB to terabytes if members were inflated into memory.
const maxChildRSS = 150 << 20

// TestZipBombsAreRefusedInBoundedMemory: a member declaring more than
// Lambda's whole limit, members declaring together far more, and members
// sharing compressed data are refused before anything is inflated; a
// member that inflates past what it declares is stopped there; and a
// 240 MiB shared object within the limits is read as a stream. The peak
// resident memory of the verifying process stays bounded in each case.
func TestZipBombsAreRefusedInBoundedMemory(t *testing.T) {
	so := gcc(t, "c", "int f(void) { return 1; }\n")
	initPy := testutil.Deflated("python/pkg/__init__.py", []byte("from . import _ext\n"))

	cases := map[string]struct {
		zip  func(t *testing.T) string
		err  string // the refusal, or "" when a report comes back
		rule string // the finding expected when a report comes back
	}{
		// 4 GiB of zeros in about 4 MB: refused by its declared size.
		"one-member-bomb": {zip: func(t *testing.T) string {
			data, crc := testutil.ZeroBomb(t, so, 4<<30)
			return writeRawZip(t, []testutil.ZipMember{initPy, {Name: "python/pkg/_ext.so", Method: zip.Deflate, Data: data, CRC32: crc, Size: 4 << 30}})
		}, err: "declares 4,294,967,296 bytes unzipped, more than Lambda's limit"},
		// Twenty members of 200 MB each, every one within the limit.
		"many-members-bomb": {zip: func(t *testing.T) string {
			data, crc := testutil.ZeroBomb(t, nil, 200<<20)
			ms := []testutil.ZipMember{initPy}
			for i := range 20 {
				ms = append(ms, testutil.ZipMember{Name: "python/pkg/blob" + string(rune('a'+i)) + ".bin", Method: zip.Deflate, Data: data, CRC32: crc, Size: 200 << 20})
			}
			return writeRawZip(t, ms)
		}, err: "members declare 4,194,304,019 bytes unzipped, far over Lambda's limit"},
		// Central directory entries pointing into one member's data.
		"overlapping-entries": {zip: func(t *testing.T) string {
			data, crc := testutil.ZeroBomb(t, so, 100<<20)
			p := writeRawZip(t, []testutil.ZipMember{initPy, {Name: "python/pkg/_ext.so", Method: zip.Deflate, Data: data, CRC32: crc, Size: 100 << 20}})
			return testutil.OverlapCopies(t, p, "python/pkg/_ext.so", 1000)
		}, err: "share compressed data (overlapping entries"},
		// Declares 1 MiB, inflates to 1 GiB: stopped at 1 MiB and one.
		"lying-size": {zip: func(t *testing.T) string {
			data, crc := testutil.ZeroBomb(t, so, 1<<30)
			return writeRawZip(t, []testutil.ZipMember{initPy, {Name: "python/pkg/_ext.so", Method: zip.Deflate, Data: data, CRC32: crc, Size: 1 << 20}})
		}, rule: verify.RuleCorrupt},
		// A real shared object padded to 240 MiB: within every limit, read
		// as a stream, parsed from its first bytes, its CRC-32 checked.
		"big-shared-object": {zip: func(t *testing.T) string {
			data, crc := testutil.ZeroBomb(t, so, 240<<20)
			return writeRawZip(t, []testutil.ZipMember{initPy, {Name: "python/pkg/_ext.so", Method: zip.Deflate, Data: data, CRC32: crc, Size: 240 << 20}})
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := c.zip(t)
			st, _ := os.Stat(p)
			res, rss := checkInChild(t, p)
			t.Logf("zip %d bytes: peak RSS %d MiB, outcome %+v", st.Size(), rss>>20, res)
			if rss > maxChildRSS {
				t.Errorf("verifying used %d MiB at its peak, over %d MiB", rss>>20, maxChildRSS>>20)
			}
			switch {
			case c.err != "":
				if !strings.Contains(res.Err, c.err) {
					t.Errorf("err = %q, want it to say %q", res.Err, c.err)
				}
			case res.Err != "":
				t.Errorf("err = %q, want a report", res.Err)
			case c.rule == "":
				if len(res.Rules) != 0 {
					t.Errorf("findings %v %v, want none", res.Rules, res.Messages)
				}
			default:
				if len(res.Rules) != 1 || res.Rules[0] != c.rule || res.Files[0] != "python/pkg/_ext.so" {
					t.Errorf("findings %v %v %v, want one %s for python/pkg/_ext.so", res.Rules, res.Files, res.Messages, c.rule)
				}
			}
		})
	}
}

// TestCorruptMembers: a member whose bytes fail its CRC-32 or its declared
// size is an error finding naming it, whether or not any check would have
// read it otherwise (a .py file is never parsed); the same zip intact
// passes.
func TestCorruptMembers(t *testing.T) {
	content := []byte("def handler(event, context):\n    return 42\n" + strings.Repeat("# padding\n", 50))
	good := testutil.Deflated("python/pkg/mod.py", content)
	flip := func(m testutil.ZipMember) testutil.ZipMember {
		m.Data = append([]byte(nil), m.Data...)
		m.Data[len(m.Data)/2] ^= 0x20
		return m
	}
	stored := testutil.ZipMember{Name: "python/pkg/mod.py", Method: zip.Store, Data: content, CRC32: crc32.ChecksumIEEE(content), Size: uint64(len(content))}
	for name, m := range map[string]testutil.ZipMember{
		"deflated-bit-flip": flip(good),
		"stored-bit-flip":   flip(stored),
		"crc-recorded-zero": func() testutil.ZipMember { m := good; m.CRC32 = 0; return m }(),
		"crc-wrong":         func() testutil.ZipMember { m := good; m.CRC32 ^= 1; return m }(),
		"size-short":        func() testutil.ZipMember { m := good; m.Size--; return m }(),
		"size-long":         func() testutil.ZipMember { m := good; m.Size++; return m }(),
	} {
		t.Run(name, func(t *testing.T) {
			p := writeRawZip(t, []testutil.ZipMember{testutil.Deflated("python/pkg/__init__.py", []byte("\n")), m})
			rep, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := problems(rep)
			if len(got) != 1 || got[0].Rule != verify.RuleCorrupt || got[0].File != "python/pkg/mod.py" || got[0].Severity != verify.Error {
				t.Fatalf("want one corrupt error for python/pkg/mod.py:%s", describe(got))
			}
			t.Log(got[0].Message)
		})
	}
	// The same member intact passes.
	p := writeRawZip(t, []testutil.ZipMember{testutil.Deflated("python/pkg/__init__.py", []byte("\n")), good})
	rep, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{})
	if err != nil || len(problems(rep)) != 0 {
		t.Fatalf("intact zip: %v%s", err, describe(problems(rep)))
	}
}

// TestLongMemberNames: a zip member with a component over 255 bytes (no
// Linux file system takes it) is refused, and the message does not repeat
// the name whole.
func TestLongMemberNames(t *testing.T) {
	long := "python/" + strings.Repeat("n", 60000) + ".py"
	p := writeRawZip(t, []testutil.ZipMember{testutil.Deflated(long, []byte("x = 1\n"))})
	_, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{})
	if err == nil || !strings.Contains(err.Error(), "at most 255 bytes") {
		t.Fatalf("err = %.300v", err)
	}
	if len(err.Error()) > 1000 {
		t.Errorf("the error is %d bytes: the name is repeated whole", len(err.Error()))
	}
	ok := "python/" + strings.Repeat("n", 252) + ".py"
	p = writeRawZip(t, []testutil.ZipMember{testutil.Deflated(ok, []byte("x = 1\n"))})
	if _, err := verify.Check(context.Background(), verify.PathSource(p), mustTarget(t, "python3.12", "x86_64"), verify.Options{}); err != nil {
		t.Fatalf("a 255-byte name: %v", err)
	}
}
