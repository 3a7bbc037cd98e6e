package app

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lambdapack/lambdapack/internal/testutil"
)

// zipNames lists a zip's members, sorted (folders end in "/").
func zipNames(t *testing.T, p string) []string {
	t.Helper()
	out := testutil.ZipNames(t, p)
	sort.Strings(out)
	return out
}

// wantZip compares a built artifact's file list with want, exactly.
func wantZip(t *testing.T, rep *BuildReport, name string, want ...string) string {
	t.Helper()
	for _, a := range rep.Artifacts {
		if a.Name == name {
			var files []string
			for _, n := range zipNames(t, a.Path) {
				if !strings.HasSuffix(n, "/") {
					files = append(files, n)
				}
			}
			sort.Strings(want)
			if d := cmp.Diff(want, files); d != "" {
				t.Errorf("%s holds (-want +got):\n%s", name, d)
			}
			return a.Path
		}
	}
	t.Fatalf("no artifact %s built", name)
	return ""
}

// writeZip writes a zip of files (slash path -> content) at p.
func writeZip(t *testing.T, p string, files map[string]string) {
	t.Helper()
	testutil.WriteZip(t, p, testutil.FileBytes(files), "")
}

// sixFiles are what installing sixWheel writes under root.
func sixFiles(root string) []string {
	var out []string
	for _, f := range []string{"six.py", "six-1.16.0.dist-info/INSTALLER", "six-1.16.0.dist-info/METADATA", "six-1.16.0.dist-info/RECORD", "six-1.16.0.dist-info/WHEEL"} {
		out = append(out, root+f)
	}
	return out
}

// importHandler imports a function's handler with its layers' python/
// folders under CPython 3.12 and calls it.
func importHandler(t *testing.T, fnZip, handler string, layerZips ...string) string {
	t.Helper()
	path := []string{testutil.Unzip(t, fnZip)}
	for _, l := range layerZips {
		path = append(path, filepath.Join(testutil.Unzip(t, l), "python"))
	}
	mod, fn, _ := strings.Cut(handler, ".")
	return runPy(t, []string{testutil.Python(t, "3.12")}, path, "import "+mod+"; print("+mod+"."+fn+"({}, None))")
}

const samT = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n"

// A layer with BuildMethod python3.X holds its ContentUri's own modules under
// python/ beside the packages its requirements.txt names, as sam build makes
// it: the whole ContentUri is copied, requirements.txt included (the
// python_pip workflow's CopySourceAction), minus SAM's excludes.
func TestBuildSAMLayerOwnModules(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": samT + "  Shared:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: layers/shared/\n      CompatibleRuntimes: [python3.12]\n    Metadata:\n      BuildMethod: python3.12\n" +
			"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Layers: [!Ref Shared]\n",
		"layers/shared/requirements.txt":                           "six==1.16.0\n",
		"layers/shared/shared_utils/__init__.py":                   "import six\ndef greet():\n    return 'hi ' + six.__version__\n",
		"layers/shared/shared_utils/fmt.py":                        "",
		"layers/shared/shared_utils/__pycache__/x.cpython-312.pyc": "junk",
		"layers/shared/.venv/lib/site.py":                          "",
		"layers/shared/.python-version":                            "3.12\n",
		"layers/shared/shared_utils/_speedups.so":                  "junk",
		"layers/shared/.pytest_cache/v/cache/lastfailed":           "{}",
		"layers/shared/ENV/bin/activate":                           "",
		"src/app.py":                                               "from shared_utils import greet\ndef handler(e, c):\n    return greet()\n",
		"src/requirements.txt":                                     "",
		"src/tests/test_app.py":                                    "",
		"src/.env":                                                 "SECRET=1\n",
		"src/.gitignore":                                           "*.pyc\n",
		"src/env/lib/site.py":                                      "",
		"src/htmlcov/index.html":                                   "",
		"src/app.egg-info/PKG-INFO":                                "",
		"src/.idea/workspace.xml":                                  "",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	if err != nil {
		t.Fatal(err)
	}
	layer := wantZip(t, rep, "Shared-x86_64", append(sixFiles("python/"), "python/requirements.txt", "python/shared_utils/__init__.py", "python/shared_utils/fmt.py")...)
	// The function's folder is copied the same way: requirements.txt and
	// tests/ stay, aws-lambda-builders' EXCLUDED_FILES do not.
	fn := wantZip(t, rep, "Fn", "app.py", "requirements.txt", "tests/test_app.py")
	if out := importHandler(t, fn, "app.handler", layer); out != "hi 1.16.0" {
		t.Errorf("handler says %q", out)
	}
}

// A layer without BuildMethod whose ContentUri is a ready python/ folder is
// zipped as it is, byte for byte the same on every build, and verified: one
// with an x86_64 binary built for arm64 is not written.
func TestBuildReadyLayerFolder(t *testing.T) {
	dir := t.TempDir()
	tpl := func(arch string) string {
		return samT + "  Vendor:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: vendor/\n      CompatibleRuntimes: [python3.12]\n      CompatibleArchitectures: [" + arch + "]\n" +
			"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Architectures: [" + arch + "]\n      Layers: [!Ref Vendor]\n"
	}
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml":                         tpl("x86_64"),
		"vendor/python/tinyhelpers/__init__.py": "def add(a, b):\n    return a + b\n",
		"vendor/python/tinyhelpers/data.json":   "{}\n",
		"vendor/README.md":                      "vendored\n",
		"src/app.py":                            "import tinyhelpers\ndef handler(e, c):\n    return tinyhelpers.add(2, 3)\n",
	})
	idx := testutil.NewIndex(t)
	rep, err := buildHermetic(t, dir, idx, nil)
	if err != nil {
		t.Fatal(err)
	}
	layer := wantZip(t, rep, "Vendor-x86_64", "README.md", "python/tinyhelpers/__init__.py", "python/tinyhelpers/data.json")
	fn := wantZip(t, rep, "Fn", "app.py")
	if out := importHandler(t, fn, "app.handler", layer); out != "5" {
		t.Errorf("handler says %q", out)
	}
	first, _ := os.ReadFile(layer)
	rep2, err := buildHermetic(t, dir, idx, func(o *BuildOptions) { o.Rebuild = true })
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(wantZip(t, rep2, "Vendor-x86_64", "README.md", "python/tinyhelpers/__init__.py", "python/tinyhelpers/data.json")); !bytes.Equal(first, again) {
		t.Error("the ready layer differs between two builds")
	}

	// Native code for another machine in a ready folder: verified, refused.
	elf := make([]byte, 64)
	copy(elf, "\x7fELF\x02\x01\x01")
	elf[16] = 3    // ET_DYN
	elf[18] = 0x3e // EM_X86_64
	testutil.WriteFiles(t, dir, map[string]string{"template.yaml": tpl("arm64"), "vendor/python/tinyhelpers/_fast.cpython-312-x86_64-linux-gnu.so": string(elf)})
	_, err = buildHermetic(t, dir, idx, nil)
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "_fast.cpython-312-x86_64-linux-gnu.so") {
		t.Fatalf("err = %v, want a VerifyError naming the .so", err)
	}
	if _, serr := os.Stat(filepath.Join(dir, "dist", "Vendor-arm64.zip")); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("the failing layer was written: %v", serr)
	}
}

// A .zip CodeUri or ContentUri is the artifact: its files repacked as they
// are and verified, the handler rule included (a prebuilt zip without the
// handler is never written).
func TestBuildPrebuiltZips(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": samT + "  Lib:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: build/layer.zip\n      CompatibleRuntimes: [python3.12]\n" +
			"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: build/fn.zip\n      Handler: prebuilt.handler\n      Runtime: python3.12\n      Layers: [!Ref Lib]\n",
	})
	writeZip(t, filepath.Join(dir, "build", "layer.zip"), map[string]string{"python/helperlib/__init__.py": "X = 41\n", "python/helperlib/py.typed": ""})
	writeZip(t, filepath.Join(dir, "build", "fn.zip"), map[string]string{"prebuilt.py": "import helperlib\ndef handler(e, c):\n    return helperlib.X + 1\n", "conf/settings.json": "{}"})
	idx := testutil.NewIndex(t)
	rep, err := buildHermetic(t, dir, idx, nil)
	if err != nil {
		t.Fatal(err)
	}
	layer := wantZip(t, rep, "Lib-x86_64", "python/helperlib/__init__.py", "python/helperlib/py.typed")
	fn := wantZip(t, rep, "Fn", "conf/settings.json", "prebuilt.py")
	if out := importHandler(t, fn, "prebuilt.handler", layer); out != "42" {
		t.Errorf("handler says %q", out)
	}

	// The same function with a handler its zip does not hold.
	writeZip(t, filepath.Join(dir, "build", "fn.zip"), map[string]string{"other.py": ""})
	before, _ := os.ReadFile(fn)
	rep, err = buildHermetic(t, dir, idx, nil)
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "handler prebuilt.handler: no prebuilt.py or prebuilt/ in the function or its layers") {
		t.Fatalf("err = %v", err)
	}
	if rep.Error == nil || !strings.HasSuffix(rep.Error.File, "template.yaml") || rep.Error.Line != 9 {
		t.Errorf("report error %+v, want template.yaml:9 (where Fn is defined)", rep.Error)
	}
	if after, _ := os.ReadFile(fn); !bytes.Equal(before, after) {
		t.Error("the earlier Fn.zip was replaced by one without its handler")
	}
}

// A CodeUri that is one .py file is a one-file function: the zip holds that
// file at its root and nothing from beside it.
func TestBuildOneFileFunction(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml":              samT + "  Cron:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: functions/cron.py\n      Handler: cron.handler\n      Runtime: python3.12\n",
		"functions/cron.py":          "def handler(e, c):\n    return 'tick'\n",
		"functions/README.md":        "notes\n",
		"functions/requirements.txt": "six==1.16.0\n",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := wantZip(t, rep, "Cron", "cron.py")
	if out := importHandler(t, fn, "cron.handler"); out != "tick" {
		t.Errorf("handler says %q", out)
	}
}

// A Serverless layers: folder is zipped as it is, with the service's and the
// layer's patterns; the functions of the service leave the layer's folder
// out of their own zip.
func TestBuildServerlessLayerFolder(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yml": "service: svc\nprovider:\n  name: aws\n  runtime: python3.12\n" +
			"layers:\n  common:\n    path: layers/common\n    compatibleRuntimes: [python3.12]\n    package:\n      patterns: ['!python/**/tests/**']\n" +
			"functions:\n  hello:\n    handler: handler.hello\n    layers:\n      - {Ref: CommonLambdaLayer}\n",
		"handler.py": "from common import shout\ndef hello(e, c):\n    return shout('hi')\n",
		"layers/common/python/common/__init__.py":     "def shout(s):\n    return s.upper()\n",
		"layers/common/python/common/tests/t.py":      "",
		"layers/common/python/common/templates/a.txt": "a\n",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	layer := wantZip(t, rep, "common-x86_64", "python/common/__init__.py", "python/common/templates/a.txt")
	fn := wantZip(t, rep, "hello", "handler.py")
	if out := importHandler(t, fn, "handler.hello", layer); out != "HI" {
		t.Errorf("handler says %q", out)
	}
}

// A function on serverless-wsgi's wsgi_handler.handler gets what the plugin
// would add: wsgi_handler.py, .serverless-wsgi, and the serverless-wsgi
// package; the handler serves a request through the app.
func TestBuildServerlessWSGI(t *testing.T) {
	wsgiWheel := testutil.Wheel{Name: "serverless-wsgi", Version: "3.0.5", Files: map[string][]byte{"serverless_wsgi.py": []byte(
		"TEXT_MIME_TYPES = ['text/']\n" +
			"def handle_request(app, event, context):\n" +
			"    out = {}\n" +
			"    def start(status, headers):\n" +
			"        out['status'] = status\n" +
			"    body = b''.join(app({'PATH_INFO': event.get('path', '/')}, start))\n" +
			"    return {'statusCode': int(out['status'].split()[0]), 'body': body.decode()}\n")}}
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yml": "service: svc\nplugins:\n  - serverless-wsgi\n  - serverless-python-requirements\ncustom:\n  wsgi:\n    app: app.app\nprovider:\n  name: aws\n  runtime: python3.12\n" +
			"functions:\n  api:\n    handler: wsgi_handler.handler\n",
		"app.py":           "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [('path ' + environ['PATH_INFO']).encode()]\n",
		"requirements.txt": "",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, wsgiWheel), nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := wantZip(t, rep, "api", ".serverless-wsgi", "app.py", "requirements.txt", "serverless_wsgi.py",
		"serverless_wsgi-3.0.5.dist-info/INSTALLER", "serverless_wsgi-3.0.5.dist-info/METADATA", "serverless_wsgi-3.0.5.dist-info/RECORD", "serverless_wsgi-3.0.5.dist-info/WHEEL",
		"wsgi_handler.py")
	got := runPy(t, []string{testutil.Python(t, "3.12")}, []string{testutil.Unzip(t, fn)}, "import wsgi_handler; print(wsgi_handler.handler({'path': '/ping'}, None))")
	if got != "{'statusCode': 200, 'body': 'path /ping'}" {
		t.Errorf("handler says %q", got)
	}
}

// The handler rule holds before the sink: a function without its handler is
// never written, so an earlier zip at its path is neither replaced nor
// removed, and the layers it uses are built.
func TestBuildHandlerRuleBeforeWrite(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"lambdapack.toml": "runtime = \"python3.12\"\n[layers.deps]\ndependencies = [\"six==1.16.0\"]\n[functions.api]\nhandler = \"service.handler\"\nsource = \"src\"\nlayers = [\"deps\"]\n",
		"src/other.py":    "",
		"dist/api.zip":    "an earlier build",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "handler service.handler: no service.py or service/ in the function or its layers") {
		t.Fatalf("err = %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "dist", "api.zip")); string(data) != "an earlier build" {
		t.Errorf("dist/api.zip was touched: %q", data)
	}
	wantZip(t, rep, "deps-x86_64", sixFiles("python/")...)
	if names := testutil.DirNames(t, filepath.Join(dir, "dist")); len(names) != 3 { // api.zip, deps-x86_64.zip, the state file
		t.Errorf("dist holds %v", names)
	}
}

// A function packaged from the project folder never takes an earlier
// build's output: any folder holding a build state file (another --out than
// this run's) is left out, and so is a zip that is itself a lambdapack
// artifact; other zips are the user's data and stay.
func TestBuildLeavesEarlierOutputsOut(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"lambdapack.toml": "runtime = \"python3.12\"\n[functions.api]\nhandler = \"app.handler\"\n",
		"app.py":          "def handler(e, c): pass\n",
	})
	idx := testutil.NewIndex(t)
	// A first build into another folder, then one into dist: the first's
	// folder and zip must not be in the second's function.
	if _, err := buildHermetic(t, dir, idx, func(o *BuildOptions) { o.Out = filepath.Join(dir, "build-old") }); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "build-old", "api.zip")
	data, err := os.ReadFile(old)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFiles(t, dir, map[string]string{"vendor/api-copy.zip": string(data)})
	writeZip(t, filepath.Join(dir, "fixtures", "sample.zip"), map[string]string{"a.txt": "a"})
	rep, err := buildHermetic(t, dir, idx, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantZip(t, rep, "api", "app.py", "fixtures/sample.zip", "lambdapack.toml")
	notes := ""
	for _, n := range rep.Notes {
		notes += n.Message + "\n"
	}
	for _, want := range []string{"left out build-old/: the output folder of an earlier lambdapack build", "left out vendor/api-copy.zip: a lambdapack artifact, never packed into another"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	// lambdapack function --src takes the same care.
	files, err := collectSource(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rels []string
	for _, f := range files {
		rels = append(rels, f.Rel)
	}
	if d := cmp.Diff([]string{"app.py", "fixtures/sample.zip", "lambdapack.toml"}, rels); d != "" {
		t.Errorf("--src takes (-want +got):\n%s", d)
	}
}

// The build state never holds an index's credentials, not even hashed:
// changing the password reuses the artifacts, changing the index rebuilds.
func TestBuildStateHasNoCredentials(t *testing.T) {
	ix := testutil.StartIndex(t, testutil.IndexOptions{BasicAuth: "alice:s3cret-one"})
	ix.AddWheel(sixWheel)
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"lambdapack.toml":  "runtime = \"python3.12\"\n[functions.api]\nhandler = \"app.handler\"\nrequirements = \"requirements.txt\"\n",
		"app.py":           "def handler(e, c): pass\n",
		"requirements.txt": "six==1.16.0\n",
	})
	withAuth := func(user, pass string) string {
		return strings.Replace(ix.Server.URL, "://", "://"+user+":"+pass+"@", 1) + "/simple"
	}
	t.Setenv("PIP_EXTRA_INDEX_URL", withAuth("bob", "env-s3cret"))
	rep, err := buildHermetic(t, dir, withAuth("alice", "s3cret-one"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Artifacts[0].Unchanged == nil || *rep.Artifacts[0].Unchanged {
		t.Fatal("first build reported unchanged")
	}
	state, err := os.ReadFile(filepath.Join(dir, "dist", stateFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"s3cret-one", "env-s3cret", "alice", "bob"} {
		if strings.Contains(string(state), secret) {
			t.Errorf("the build state holds %q:\n%s", secret, state)
		}
	}
	// Another password: same inputs, reused.
	ix.SetOptions(testutil.IndexOptions{BasicAuth: "alice:s3cret-two"})
	t.Setenv("PIP_EXTRA_INDEX_URL", withAuth("bob", "env-s3cret-2"))
	rep, err = buildHermetic(t, dir, withAuth("alice", "s3cret-two"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := rep.Artifacts[0].Unchanged; u == nil || !*u {
		t.Error("a new password rebuilt the function")
	}
	// Another index: rebuilt.
	rep, err = buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	if err != nil {
		t.Fatal(err)
	}
	if u := rep.Artifacts[0].Unchanged; u == nil || *u {
		t.Error("another index reused the function")
	}
}

func TestWithoutCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@host/simple":                          "https://host/simple",
		"https://token@host/simple https://v:w@other/s":    "https://host/simple https://other/s",
		"internal=https://u:p%40x@host/simple":             "internal=https://host/simple",
		"https://host/simple":                              "https://host/simple",
		"{IndexURL:https://u:p@h/s ExtraIndexURLs:[] x:y}": "{IndexURL:https://h/s ExtraIndexURLs:[] x:y}",
	} {
		if got := withoutCredentials(in); got != want {
			t.Errorf("withoutCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}

// noDeploy packages absent from an artifact are not worth a note, and the
// lines the builds of several artifacts log alike are said once.
func TestBuildNotesOnce(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yml": "service: svc\nprovider:\n  name: aws\n  runtime: python3.9\ncustom:\n  pythonRequirements:\n    noDeploy: [boto3]\n" +
			"package:\n  individually: true\nfunctions:\n  a:\n    handler: a.h\n    module: a\n  b:\n    handler: b.h\n    module: b\n",
		"a/a.py": "def h(e, c): pass\n", "a/requirements.txt": "six==1.16.0\n",
		"b/b.py": "def h(e, c): pass\n", "b/requirements.txt": "six==1.16.0\n",
	})
	var log bytes.Buffer
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), func(o *BuildOptions) { o.Env.Log = &log })
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rep.Notes {
		if strings.Contains(n.Message, "boto3") {
			t.Errorf("a note about the absent noDeploy package: %+v", n)
		}
	}
	wantZip(t, rep, "a", append(sixFiles(""), "a.py", "requirements.txt")...)
	wantZip(t, rep, "b", append(sixFiles(""), "b.py", "requirements.txt")...)
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	seen := map[string]int{}
	for _, l := range lines {
		seen[l]++
		if seen[l] == 2 {
			t.Errorf("said twice: %q", l)
		}
	}
	// Both builds warn that python3.9 is deprecated: the log says it once.
	if n := strings.Count(log.String(), "python3.9 was deprecated on 2025-12-15"); n != 1 {
		t.Errorf("the deprecation said %d times:\n%s", n, log.String())
	}
}

// A layer whose CompatibleRuntimes lists a retired runtime beside the
// function's is built for the supported ones, not refused: the project
// builds, the layer holds its folder as it is and the function its code.
func TestBuildLayerListingRetiredRuntime(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": samT + "  Shared:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: shared/\n      CompatibleRuntimes: [python3.8, python3.9, python3.12]\n" +
			"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n      Layers: [!Ref Shared]\n",
		"shared/python/greeting.py": "def hi():\n    return 'hi'\n",
		"src/app.py":                "from greeting import hi\ndef handler(e, c):\n    return hi()\n",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	if err != nil {
		t.Fatal(err)
	}
	layer := wantZip(t, rep, "Shared-x86_64", "python/greeting.py")
	fn := wantZip(t, rep, "Fn", "app.py")
	if out := importHandler(t, fn, "app.handler", layer); out != "hi" {
		t.Errorf("handler says %q", out)
	}
}

// A layer whose Makefile target pip-installs named packages and copies
// nothing (no requirements.txt) holds those packages, as sam build makes it;
// before, the folder's own files went under python/ and the packages were
// missing from a layer reported built.
func TestBuildMakefileLayerOfNamedPackages(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml": samT + "  Deps:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: ./\n      CompatibleRuntimes: [python3.12]\n    Metadata:\n      BuildMethod: makefile\n" +
			"  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ./\n      Handler: handlers.auth.handler\n      Runtime: python3.12\n      Layers: [!Ref Deps]\n",
		"Makefile":         ".PHONY: build-Deps\nbuild-Deps:\n\tmkdir -p \"$(ARTIFACTS_DIR)/python\"\n\tpip install six -t \"$(ARTIFACTS_DIR)/python\"\n",
		"handlers/auth.py": "import six\ndef handler(e, c):\n    return six.__version__\n",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	if err != nil {
		t.Fatal(err)
	}
	layer := wantZip(t, rep, "Deps-x86_64", sixFiles("python/")...)
	fn := wantZip(t, rep, "Fn", "Makefile", "handlers/auth.py", "template.yaml")
	path := []string{testutil.Unzip(t, fn), filepath.Join(testutil.Unzip(t, layer), "python")}
	if out := runPy(t, []string{testutil.Python(t, "3.12")}, path, "import handlers.auth as m; print(m.handler({}, None))"); out != "1.16.0" {
		t.Errorf("handler says %q", out)
	}
}

// serverless-lift's queue worker is built beside the service's functions,
// with the service's files.
func TestBuildLiftQueueWorker(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yml": "service: s\nprovider: {name: aws, runtime: python3.12}\nconstructs:\n  jobs:\n    type: queue\n    worker:\n      handler: handler.consumer\nfunctions:\n  producer:\n    handler: handler.producer\nplugins:\n  - serverless-lift\n",
		"handler.py":     "def producer(e, c):\n    return 'p'\ndef consumer(e, c):\n    return 'c'\n",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantZip(t, rep, "producer", "handler.py")
	w := wantZip(t, rep, "jobsWorker", "handler.py")
	if out := importHandler(t, w, "handler.consumer"); out != "c" {
		t.Errorf("worker says %q", out)
	}
}

// A note of a layer that serves several runtimes (one part each, both
// slimmed) names the layer once, not once per part: "note (deps-x86_64,
// deps-x86_64): slimming removed ...".
func TestBuildNoteNamesArtifactOnce(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"lambdapack.toml": "[layers.deps]\ndependencies = [\"fast==1.0\"]\nruntimes = [\"python3.11\", \"python3.12\"]\nslim = true\n",
	})
	var wheels []testutil.Wheel
	for _, py := range []string{"311", "312"} {
		wheels = append(wheels, testutil.Wheel{Name: "fast", Version: "1.0", Tags: []string{"cp" + py + "-cp" + py + "-manylinux_2_17_x86_64"},
			Files: map[string][]byte{"fast/__init__.py": []byte("X = " + py + "\n"), "fast/__init__.pyi": []byte("X: int\n")}})
	}
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, wheels...), nil)
	if err != nil {
		t.Fatal(err)
	}
	slimmed := false
	for _, n := range rep.Notes {
		if strings.Contains(n.Message, "slimming removed") {
			slimmed = true
		}
		seen := map[string]bool{}
		for _, a := range n.Artifacts {
			if seen[a] {
				t.Errorf("note %q names %s twice: %v", n.Message, a, n.Artifacts)
			}
			seen[a] = true
		}
	}
	if !slimmed {
		t.Errorf("no slimming note: %+v", rep.Notes)
	}
}

// A SAM template kept as serverless.yaml is built as the SAM template it is:
// its function with its CodeUri's requirements, not "serverless.yml defines
// no functions" (found in a public project built with sam build -t
// serverless.yaml).
func TestBuildSAMTemplateNamedServerless(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"serverless.yaml":      samT + "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n      Runtime: python3.12\n",
		"src/app.py":           "import six\ndef handler(e, c):\n    return six.__version__\n",
		"src/requirements.txt": "six==1.16.0\n",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := wantZip(t, rep, "Fn", append(sixFiles(""), "app.py", "requirements.txt")...)
	if out := importHandler(t, fn, "app.handler"); out != "1.16.0" {
		t.Errorf("handler says %q", out)
	}
}

// A SAM template whose Runtime is !Ref of a parameter without a Default
// (given at build time, as in a public project) builds with the value of
// --parameter-overrides, for that runtime.
func TestBuildSAMParameterOverride(t *testing.T) {
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"template.yaml":        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nParameters:\n  PythonRuntime:\n    Type: String\nGlobals:\n  Function:\n    Runtime: !Ref PythonRuntime\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.handler\n",
		"src/app.py":           "import six\ndef handler(e, c):\n    return six.__version__\n",
		"src/requirements.txt": "six==1.16.0\n",
	})
	if _, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), nil); err == nil || !strings.Contains(err.Error(), "--parameter-overrides PythonRuntime=VALUE") {
		t.Fatalf("without a value: %v", err)
	}
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, sixWheel), func(o *BuildOptions) { o.Params = map[string]string{"PythonRuntime": "python3.12"} })
	if err != nil {
		t.Fatal(err)
	}
	fn := wantZip(t, rep, "Fn", append(sixFiles(""), "app.py", "requirements.txt")...)
	if rt := rep.Artifacts[0].Runtime; rt != "python3.12" {
		t.Errorf("runtime %s", rt)
	}
	if out := importHandler(t, fn, "app.handler"); out != "1.16.0" {
		t.Errorf("handler says %q", out)
	}
}

// A wheel's .data/data files, which a Lambda artifact has no place for, are
// left out with one note per wheel and scheme, not one per file (networkx
// 3.0 ships some 70 example files there: 70 notes in a public project's
// report).
func TestBuildDataFilesOneNote(t *testing.T) {
	docs := testutil.Wheel{Name: "docs", Version: "1.0", Files: map[string][]byte{
		"docs/__init__.py":                      []byte("V = '1.0'\n"),
		"docs-1.0.data/data/share/docs/a.txt":   []byte("a"),
		"docs-1.0.data/data/share/docs/b.txt":   []byte("b"),
		"docs-1.0.data/data/share/docs/ex/c.py": []byte("c"),
		"docs-1.0.data/headers/docs/docs.h":     []byte("h"),
	}}
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{
		"lambdapack.toml": "runtime = \"python3.12\"\n[functions.fn]\nhandler = \"app.handler\"\ndependencies = [\"docs==1.0\"]\n",
		"app.py":          "import docs\ndef handler(e, c):\n    return docs.V\n",
	})
	rep, err := buildHermetic(t, dir, testutil.NewIndex(t, docs), nil)
	if err != nil {
		t.Fatal(err)
	}
	fn := wantZip(t, rep, "fn", "app.py", "lambdapack.toml", "docs/__init__.py", "docs-1.0.dist-info/INSTALLER", "docs-1.0.dist-info/METADATA", "docs-1.0.dist-info/RECORD", "docs-1.0.dist-info/WHEEL")
	var dropped []string
	for _, n := range rep.Notes {
		if strings.Contains(n.Message, "has no place for") {
			dropped = append(dropped, n.Message)
		}
	}
	sort.Strings(dropped)
	want := []string{
		"docs-1.0-py3-none-any.whl: 3 files of .data/data left out, data/docs-1.0.data/data/share/docs/a.txt among them (a Lambda artifact has no place for .data/data)",
		"docs-1.0-py3-none-any.whl: headers/docs-1.0.data/headers/docs/docs.h left out (a Lambda artifact has no place for .data/headers)",
	}
	if d := cmp.Diff(want, dropped); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
	if out := importHandler(t, fn, "app.handler"); out != "1.0" {
		t.Errorf("handler says %q", out)
	}
}
