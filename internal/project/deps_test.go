package project

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPoetryConstraint(t *testing.T) {
	for in, want := range map[string]string{
		"^1.2.3":           ">=1.2.3,<2.0.0",
		"^1.2":             ">=1.2,<2.0",
		"^1":               ">=1,<2",
		"^0.2.3":           ">=0.2.3,<0.3.0",
		"^0.0.3":           ">=0.0.3,<0.0.4",
		"^0.0":             ">=0.0,<0.1",
		"^0":               ">=0,<1",
		"~1.2.3":           ">=1.2.3,<1.3.0",
		"~1.2":             ">=1.2,<1.3",
		"~1":               ">=1,<2",
		"~=1.4":            "~=1.4",
		"*":                "",
		"":                 "",
		"2.32.3":           "==2.32.3",
		"1.2.*":            "==1.2.*",
		"=1.0":             "==1.0",
		">=1.2,<2.0":       ">=1.2,<2.0",
		">= 1.2, < 2.0":    ">=1.2,<2.0",
		">=1.2 <2.0":       ">=1.2,<2.0",
		"^2.0.0b1":         ">=2.0.0b1,<3.0.0",
		"!=1.5":            "!=1.5",
		"^1.26.0,!=1.26.5": ">=1.26.0,<2.0.0,!=1.26.5",
	} {
		got, err := PoetryConstraint(in)
		if err != nil || got != want {
			t.Errorf("PoetryConstraint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := PoetryConstraint("^1.0 || ^2.0"); err == nil {
		t.Error("|| accepted")
	}
}

func TestPoetryTables(t *testing.T) {
	for _, c := range []struct {
		name string
		v    any
		want []string
	}{
		{"requests", map[string]any{"version": "^2.31", "extras": []any{"socks"}}, []string{"requests[socks]>=2.31,<3.0"}},
		{"tomli", map[string]any{"version": "^2.0", "python": "<3.11"}, []string{`tomli>=2.0,<3.0 ; python_version < "3.11"`}},
		{"uvloop", map[string]any{"version": "*", "markers": "sys_platform != 'win32'"}, []string{"uvloop ; (sys_platform != 'win32')"}},
		{"opt", map[string]any{"version": "^1", "optional": true}, nil},
		{"numpy", []any{map[string]any{"version": "^1.26", "python": ">=3.9,<3.12"}, map[string]any{"version": "^2.1", "python": ">=3.12"}},
			[]string{`numpy>=1.26,<2.0 ; python_version >= "3.9" and python_version < "3.12"`, `numpy>=2.1,<3.0 ; python_version >= "3.12"`}},
		{"lib", map[string]any{"git": "https://example.invalid/lib.git", "tag": "v1"}, []string{"lib @ git+https://example.invalid/lib.git@v1"}},
	} {
		got, err := poetryRequirement(c.name, c.v)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	if _, err := poetryRequirement("local", map[string]any{"path": "../lib", "develop": true}); err == nil {
		t.Error("a path dependency was accepted")
	}
}

const slsPlain = `service: s
provider:
  name: aws
  runtime: python3.12
plugins: [serverless-python-requirements]
functions:
  api:
    handler: app.handler
`

// serverless-python-requirements' order: a Poetry project, then a Pipfile,
// then the requirements file; a lockfile beside a declaration wins; a
// declaration without a lock is read (PEP 508, Poetry converted).
func TestServerlessDependencySources(t *testing.T) {
	poetryPy := "[build-system]\nrequires = [\"poetry-core>=1.0\"]\nbuild-backend = \"poetry.core.masonry.api\"\n[tool.poetry]\nname = \"x\"\n[tool.poetry.dependencies]\npython = \"^3.12\"\nrequests = \"^2.32.3\"\nsix = \"~1.16\"\n[tool.poetry.group.dev.dependencies]\npytest = \"^8\"\n"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"requirements.txt", map[string]string{"requirements.txt": "six==1.16.0\n"}, "req:requirements.txt"},
		{"poetry without lock", map[string]string{"pyproject.toml": poetryPy, "requirements.txt": "stale==1\n"}, "inline:requests>=2.32.3,<3.0.0;six>=1.16,<1.17"},
		{"poetry with lock", map[string]string{"pyproject.toml": poetryPy, "poetry.lock": "# lock\n"}, "lock:poetry.lock"},
		{"poetry 2 [project]", map[string]string{"pyproject.toml": "[project]\nname='x'\ndependencies = [\"attrs==24.2.0\"]\n[build-system]\nrequires=[\"poetry-core>=2\"]\n"}, "inline:attrs==24.2.0"},
		{"pipfile without lock", map[string]string{"Pipfile": "[packages]\nrequests = \"*\"\nsix = \"==1.16.0\"\nattrs = {version = \">=23\", extras = [\"tests\"]}\n[dev-packages]\npytest = \"*\"\n"}, "inline:attrs[tests]>=23;requests;six==1.16.0"},
		{"pipfile with lock", map[string]string{"Pipfile": "[packages]\nrequests = \"*\"\n", "Pipfile.lock": "{}\n"}, "lock:Pipfile.lock"},
		{"[project] dependencies", map[string]string{"pyproject.toml": "[project]\nname='x'\ndependencies = [\"attrs==24.2.0\", \"tomli; python_version < '3.11'\"]\n"}, "inline:attrs==24.2.0;tomli; python_version < '3.11'"},
		{"[project] with uv.lock", map[string]string{"pyproject.toml": "[project]\nname='x'\ndependencies = [\"attrs\"]\n", "uv.lock": "version = 1\n"}, "lock:uv.lock"},
		{"nothing", map[string]string{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"serverless.yml": slsPlain, "app.py": ""}
			for k, v := range c.files {
				files[k] = v
			}
			cfg := load(t, writeTree(t, files))
			if got := fn(t, cfg, "api").Deps; got != c.want {
				t.Errorf("deps = %q, want %q", got, c.want)
			}
		})
	}
	// usePoetry: false and usePipenv: false fall back to the requirements file.
	cfg := load(t, writeTree(t, map[string]string{
		"serverless.yml":   slsPlain + "custom:\n  pythonRequirements:\n    usePoetry: false\n    usePipenv: false\n",
		"app.py":           "",
		"pyproject.toml":   poetryPy,
		"Pipfile":          "[packages]\nrequests = \"*\"\n",
		"requirements.txt": "six==1.16.0\n",
	}))
	if got := fn(t, cfg, "api").Deps; got != "req:requirements.txt" {
		t.Errorf("usePoetry/usePipenv false: deps = %q", got)
	}
}

// A fileName the config names must exist: building without the
// dependencies it declares would ship a broken function with exit 0.
func TestServerlessMissingFileName(t *testing.T) {
	err := loadErr(t, map[string]string{
		"serverless.yml":   slsPlain + "custom:\n  pythonRequirements:\n    fileName: requirements-prod.txt\n",
		"app.py":           "",
		"requirements.txt": "six\n",
	})
	wantErr(t, err, "serverless.yml:11:", "custom.pythonRequirements.fileName names requirements-prod.txt, which does not exist")
}

// SAM reads requirements.txt; other declarations are read too (sam build
// would drop them), with a note.
func TestSAMDependencySources(t *testing.T) {
	tpl := "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: fn/\n      Handler: app.handler\n      Runtime: python3.12\n"
	cfg := load(t, writeTree(t, map[string]string{
		"template.yaml":     tpl,
		"fn/app.py":         "",
		"fn/pyproject.toml": "[project]\nname='fn'\ndependencies=[\"six==1.16.0\"]\n",
	}))
	if got := fn(t, cfg, "Fn").Deps; got != "inline:six==1.16.0" {
		t.Errorf("deps %q", got)
	}
	wantNote(t, cfg, "fn/pyproject.toml [project] dependencies declares the dependencies of fn/ (sam build reads only requirements.txt")
	cfg = load(t, writeTree(t, map[string]string{
		"template.yaml":       tpl,
		"fn/app.py":           "",
		"fn/requirements.txt": "six\n",
		"fn/pyproject.toml":   "[project]\nname='fn'\ndependencies=[\"attrs\"]\n",
	}))
	if got := fn(t, cfg, "Fn").Deps; got != "req:fn/requirements.txt" {
		t.Errorf("deps %q", got)
	}
}
