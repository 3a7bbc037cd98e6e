package app

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// Hermetic builds of the issue-11 cases that silently broke real projects:
// each project and wheel is written by the test, each zip's exact file list
// is asserted, and each handler imports with the CPython of its runtime.

// importHandlerWith imports a function's handler from its zip and its
// layers' python/ folders under pyenv's CPython of minor (e.g. "3.11") and
// calls it, returning what it printed.
func importHandlerWith(t *testing.T, minor, fnZip, handler string, layerZips ...string) string {
	t.Helper()
	path := []string{testutil.Unzip(t, fnZip)}
	for _, l := range layerZips {
		path = append(path, filepath.Join(testutil.Unzip(t, l), "python"))
	}
	mod, fn, _ := strings.Cut(handler, ".")
	return runPy(t, []string{testutil.Python(t, minor)}, path, "import "+mod+"; print("+mod+"."+fn+"({}, None))")
}

// distFiles are what installing w writes under root: its own files and its
// .dist-info folder.
func distFiles(root string, w testutil.Wheel) []string {
	var out []string
	for f := range w.Files {
		out = append(out, root+f)
	}
	for _, f := range []string{"INSTALLER", "METADATA", "RECORD", "WHEEL"} {
		out = append(out, root+w.DistInfo()+"/"+f)
	}
	return out
}

// verWheel is a pure wheel whose module name is name and whose version is
// what its module says.
func verWheel(name, version string) testutil.Wheel {
	return testutil.Wheel{Name: name, Version: version, Files: map[string][]byte{name + ".py": []byte("__version__ = '" + version + "'\n")}}
}

// serverless package.patterns are applied in order, as the Serverless
// Framework does: a later pattern re-includes what an earlier "!" pattern
// excluded, and the legacy package.exclude / package.include keys are
// honoured (excludes first, then includes).
func TestBuildServerlessPackagePatterns(t *testing.T) {
	files := map[string]string{
		"handler.py":        "import json, os\ndef hello(e, c):\n    return json.dumps(sorted(os.listdir(os.path.dirname(__file__))))\n",
		"other.py":          "",
		"README.md":         "readme\n",
		"data/needed.json":  "{}\n",
		"data/big.csv":      "a,b\n",
		"tests/test_x.py":   "",
		"docs/guide.md":     "guide\n",
		"scripts/deploy.sh": "#!/bin/sh\n",
	}
	svc := "service: svc\nprovider:\n  name: aws\n  runtime: python3.11\nfunctions:\n  hello:\n    handler: handler.hello\n"
	for _, c := range []struct {
		name, pkg string
		want      []string
	}{
		{"only handler", "package:\n  patterns:\n    - '!**/*'\n    - handler.py\n",
			[]string{"handler.py"}},
		{"re-included after exclude", "package:\n  patterns:\n    - '!data/**'\n    - data/needed.json\n    - '!**/*.md'\n    - docs/guide.md\n    - '!tests/**'\n    - '!scripts/**'\n",
			[]string{"data/needed.json", "docs/guide.md", "handler.py", "other.py"}},
		// A pattern later in the list excludes again what an earlier one
		// included: order, not kind, decides.
		{"excluded again", "package:\n  patterns:\n    - '!**/*'\n    - handler.py\n    - data/**\n    - '!data/big.csv'\n",
			[]string{"data/needed.json", "handler.py"}},
		{"legacy include and exclude", "package:\n  exclude:\n    - data/**\n    - tests/**\n    - '**/*.md'\n    - scripts/**\n  include:\n    - data/needed.json\n",
			[]string{"data/needed.json", "handler.py", "other.py"}},
		// Legacy keys and patterns together: exclude, include, then the
		// patterns in order.
		{"legacy then patterns", "package:\n  exclude:\n    - '**'\n  include:\n    - handler.py\n    - other.py\n  patterns:\n    - '!other.py'\n    - README.md\n",
			[]string{"README.md", "handler.py"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fs := map[string]string{"serverless.yml": svc + c.pkg}
			for k, v := range files {
				fs[k] = v
			}
			testutil.WriteFiles(t, dir, fs)
			rep, err := buildHermetic(t, dir, testutil.NewIndex(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			fn := wantZip(t, rep, "hello", c.want...)
			// The handler imports with CPython 3.11 and sees exactly the
			// zip's top-level entries.
			got := importHandlerWith(t, "3.11", fn, "handler.hello")
			var top []string
			for _, w := range c.want {
				first, _, _ := strings.Cut(w, "/")
				if len(top) == 0 || top[len(top)-1] != first {
					top = append(top, first)
				}
			}
			if want := `["` + strings.Join(top, `", "`) + `"]`; got != want {
				t.Errorf("handler says %s, want %s", got, want)
			}
		})
	}
}

// Dependencies declared without a lockfile are resolved for the function's
// target and installed in its zip, never dropped: [project] dependencies,
// [tool.poetry.dependencies] with Poetry's caret and tilde (serverless-
// python-requirements' usePoetry, on by default), and a Pipfile without
// Pipfile.lock (usePipenv). A lockfile beside them wins.
func TestBuildDeclaredDependenciesWithoutLock(t *testing.T) {
	six116, six117, six2 := verWheel("six", "1.16.0"), verWheel("six", "1.17.0"), verWheel("six", "2.0.0")
	attr231, attr232 := verWheel("attrs", "23.1.5"), verWheel("attrs", "23.2.0")
	idx := testutil.NewIndex(t, six116, six117, six2, attr231, attr232)
	sls := "service: svc\nprovider:\n  name: aws\n  runtime: python3.11\nplugins:\n  - serverless-python-requirements\nfunctions:\n  api:\n    handler: app.handler\n"
	const handler = "import six\ndef handler(e, c):\n    return six.__version__\n"
	const handler2 = "import six, attrs\ndef handler(e, c):\n    return six.__version__ + ' ' + attrs.__version__\n"
	pipfileLock := func(w testutil.Wheel) string {
		sum := sha256.Sum256(w.Bytes())
		return `{"_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6, "requires": {}, "sources": []}, "default": {"six": {"hashes": ["sha256:` +
			hex.EncodeToString(sum[:]) + `"], "version": "==` + w.Version + `"}}, "develop": {}}`
	}
	poetryLock := func(w testutil.Wheel) string {
		sum := sha256.Sum256(w.Bytes())
		return "[[package]]\nname = \"six\"\nversion = \"" + w.Version + "\"\ndescription = \"\"\noptional = false\npython-versions = \"*\"\ngroups = [\"main\"]\nfiles = [\n    {file = \"" +
			w.Filename() + "\", hash = \"sha256:" + hex.EncodeToString(sum[:]) + "\"},\n]\n\n[metadata]\nlock-version = \"2.1\"\npython-versions = \"^3.11\"\ncontent-hash = \"x\"\n"
	}
	const poetryProject = "[tool.poetry]\nname = \"svc\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = []\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nsix = \"^1.16\"\n"
	for _, c := range []struct {
		name    string
		files   map[string]string
		fn      string // the artifact's name
		extra   []string
		wheels  []testutil.Wheel
		handler string
		says    string
	}{
		{"project dependencies (SAM)", map[string]string{
			"template.yaml":      samT + "  Api:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.11\n",
			"src/app.py":         handler2,
			"src/pyproject.toml": "[project]\nname = \"api\"\nversion = \"0.1\"\nrequires-python = \">=3.11\"\ndependencies = [\"six>=1.16,<2\", \"attrs~=23.1.0\"]\n",
		}, "Api", []string{"app.py", "pyproject.toml"}, []testutil.Wheel{six117, attr231}, handler2, "1.17.0 23.1.5"},
		{"project dependencies (serverless)", map[string]string{
			"serverless.yml": sls,
			"app.py":         handler,
			"pyproject.toml": "[project]\nname = \"api\"\nversion = \"0.1\"\ndependencies = [\"six<2\"]\n",
		}, "api", []string{"app.py", "pyproject.toml"}, []testutil.Wheel{six117}, handler, "1.17.0"},
		{"poetry caret and tilde", map[string]string{
			"serverless.yml": sls,
			"app.py":         handler2,
			"pyproject.toml": poetryProject + "attrs = \"~23.1\"\n",
		}, "api", []string{"app.py", "pyproject.toml"}, []testutil.Wheel{six117, attr231}, handler2, "1.17.0 23.1.5"},
		{"Pipfile without lock", map[string]string{
			"serverless.yml": sls,
			"app.py":         handler,
			"Pipfile":        "[[source]]\nurl = \"https://example.invalid/simple\"\nverify_ssl = true\nname = \"index\"\n\n[packages]\nsix = \"<2\"\n\n[dev-packages]\nattrs = \"*\"\n",
		}, "api", []string{"Pipfile", "app.py"}, []testutil.Wheel{six117}, handler, "1.17.0"},
		// A lockfile beside the declarations wins: the lock's version,
		// not the newest the declarations allow.
		{"Pipfile.lock wins", map[string]string{
			"serverless.yml": sls,
			"app.py":         handler,
			"Pipfile":        "[packages]\nsix = \"<2\"\n",
			"Pipfile.lock":   pipfileLock(six116),
		}, "api", []string{"Pipfile", "Pipfile.lock", "app.py"}, []testutil.Wheel{six116}, handler, "1.16.0"},
		{"poetry.lock wins", map[string]string{
			"serverless.yml": sls,
			"app.py":         handler,
			"pyproject.toml": poetryProject,
			"poetry.lock":    poetryLock(six116),
		}, "api", []string{"app.py", "poetry.lock", "pyproject.toml"}, []testutil.Wheel{six116}, handler, "1.16.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			testutil.WriteFiles(t, dir, c.files)
			rep, err := buildHermetic(t, dir, idx, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := c.extra
			for _, w := range c.wheels {
				want = append(want, distFiles("", w)...)
			}
			fn := wantZip(t, rep, c.fn, want...)
			if got := importHandlerWith(t, "3.11", fn, "app.handler"); got != c.says {
				t.Errorf("handler says %q, want %q", got, c.says)
			}
		})
	}
}

// A SAM function whose handler is a shell script (the Lambda Web Adapter's
// run.sh, run through AWS_LAMBDA_EXEC_WRAPPER from an external layer) is
// packaged as written, with its requirements, and its script stays
// executable.
func TestBuildSAMScriptHandler(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": samT + "  Web:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: web/\n      Handler: run.sh\n      Runtime: python3.12\n" +
			"      Layers:\n        - !Sub arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerX86:24\n" +
			"      Environment:\n        Variables:\n          AWS_LAMBDA_EXEC_WRAPPER: /opt/bootstrap\n          PORT: '8000'\n",
		"web/main.py":          "import six\ndef app(environ, start_response):\n    start_response('200 OK', [])\n    return [six.__version__.encode()]\n",
		"web/requirements.txt": "six==1.16.0\n",
		"web/run.sh":           "#!/bin/sh\nexec python -m wsgiref.simple_server\n",
	})
	if err := os.Chmod(filepath.Join(dir, "web", "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := wantZip(t, rep, "Web", append(sixFiles(""), "main.py", "requirements.txt", "run.sh")...)
	st, err := os.Stat(filepath.Join(testutil.Unzip(t, fn), "run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o111 == 0 {
		t.Errorf("run.sh is %v in the zip, not executable", st.Mode())
	}
	noted := false
	for _, n := range rep.Notes {
		if strings.Contains(n.Message, "handler run.sh is a script, not a Python module") {
			noted = true
		}
	}
	if !noted {
		t.Errorf("no note that run.sh is a script: %+v", rep.Notes)
	}
	// The code beside the script imports with the runtime's CPython.
	if got := runPy(t, []string{testutil.Python(t, "3.12")}, []string{testutil.Unzip(t, fn)}, "import main; print(main.app({}, lambda s, h: None))"); got != "[b'1.16.0']" {
		t.Errorf("main.app says %q", got)
	}
}

// A layer's CompatibleRuntimes is metadata: a python3.11 function on a
// layer listing python3.12 only is a warning, and the layer's files are
// verified for python3.11; an extension module built for CPython 3.12 in it
// is an error that names the .so and the wheel's tag, and the function is
// not written. (The architecture case is
// TestBuildLayerVerifiedForEachFunction.)
func TestBuildLayerVerifiedForEachFunctionRuntime(t *testing.T) {
	elf := make([]byte, 64)
	copy(elf, "\x7fELF\x02\x01\x01")
	elf[16] = 3    // ET_DYN
	elf[18] = 0x3e // EM_X86_64
	const so = "fastthing/_speed.cpython-312-x86_64-linux-gnu.so"
	native := testutil.Wheel{Name: "fastthing", Version: "1.0", Tags: []string{"cp312-cp312-manylinux_2_17_x86_64"},
		Files: map[string][]byte{"fastthing/__init__.py": []byte(""), so: elf}}
	pure := testutil.Wheel{Name: "slowthing", Version: "1.0", Files: map[string][]byte{"slowthing/__init__.py": []byte("")}}
	tpl := samT +
		"  Deps:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: layer/\n      CompatibleRuntimes: [python3.12]\n      CompatibleArchitectures: [x86_64]\n    Metadata:\n      BuildMethod: python3.12\n" +
		"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.11\n      Architectures: [x86_64]\n      Layers: [!Ref Deps]\n"
	for _, c := range []struct {
		dep     string
		wantErr []string
	}{
		{"slowthing==1.0", nil},
		{"fastthing==1.0", []string{"function Fn:", so, "cp312-cp312-manylinux_2_17_x86_64", "layer Deps (built for python3.12/x86_64) used by this function on python3.11/x86_64"}},
	} {
		t.Run(c.dep, func(t *testing.T) {
			dir := t.TempDir()
			testutil.WriteFiles(t, dir, map[string]string{"template.yaml": tpl, "layer/requirements.txt": c.dep + "\n", "src/app.py": "def handler(e, c):\n    return 'ok'\n"})
			rep, err := buildHermetic(t, dir, testutil.NewIndex(t, native, pure), nil)
			warned := false
			for _, n := range rep.Notes {
				if n.Level == "warning" && strings.Contains(n.Message, "function Fn runs on python3.11 but layer Deps's CompatibleRuntimes lists python3.12") {
					warned = true
				}
			}
			if !warned {
				t.Errorf("no warning in %+v", rep.Notes)
			}
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("pure layer: %v", err)
				}
				fn := wantZip(t, rep, "Fn", "app.py")
				layer := wantZip(t, rep, "Deps-x86_64", append(distFiles("python/", pure), "python/requirements.txt")...)
				if got := importHandlerWith(t, "3.11", fn, "app.handler", layer); got != "ok" {
					t.Errorf("handler says %q", got)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want a VerifyError", err, err)
			}
			for _, w := range c.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error does not say %q:\n%v", w, err)
				}
			}
			if rep.Error == nil {
				t.Error("the report has no error")
			}
			if _, serr := os.Stat(filepath.Join(dir, "dist", "Fn.zip")); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("Fn.zip was written: %v", serr)
			}
			for _, a := range rep.Artifacts {
				if a.Name == "Fn" {
					t.Error("Fn reported built")
				}
			}
		})
	}
}
