package project

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadMakeTarget(t *testing.T) {
	dir := writeTree(t, map[string]string{"Makefile": `.PHONY: build-Deps build-Code
# the layer of named packages
build-Deps:
	mkdir -p "$(ARTIFACTS_DIR)/python"
	pip install requests -t "$(ARTIFACTS_DIR)/python"
	python3 -m pip install 'python-jose[cryptography]==3.3.0' \
	    --target "$(ARTIFACTS_DIR)/python" --no-deps
	@pip3 install --upgrade cryptography -t "$(ARTIFACTS_DIR)/python"

build-Code build-Other:
	cp *.py $(ARTIFACTS_DIR)/python && pip install -r requirements.txt -t $(ARTIFACTS_DIR)/python
	zip -r x.zip .

build-Two:
	pip install -r a.txt -r b.txt -t $(ARTIFACTS_DIR)
`})
	got, ok := readMakeTarget(dir, "build-Deps")
	want := makeBuild{Target: "build-Deps", Packages: []string{"requests", "python-jose[cryptography]==3.3.0", "cryptography"}}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("build-Deps (ok %v, -want +got):\n%s", ok, diff)
	}
	got, ok = readMakeTarget(dir, "build-Other")
	want = makeBuild{Target: "build-Other", Requirements: []string{"requirements.txt"}, Copies: true, Other: "zip -r x.zip ."}
	if diff := cmp.Diff(want, got); !ok || diff != "" {
		t.Errorf("build-Other (ok %v, -want +got):\n%s", ok, diff)
	}
	if _, ok := readMakeTarget(dir, "build-Missing"); ok {
		t.Error("a missing target was found")
	}
	if _, ok := readMakeTarget(dir, "build-Two"); ok {
		t.Error("a target reading two requirements files is read (a Deps holds one)")
	}
	if _, ok := readMakeTarget(t.TempDir(), "build-Deps"); ok {
		t.Error("no Makefile, yet a target")
	}
}

// A layer built by a Makefile that pip-installs named packages and copies
// nothing is those packages alone (not the folder's files under python/
// without them); one that copies and installs requirements.txt is built as
// before. A function's Makefile packages add to its dependencies.
func TestSAMMakefileTargets(t *testing.T) {
	cfg := load(t, writeTree(t, map[string]string{
		"template.yaml": samHead + `Resources:
  Combined:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: ./
      CompatibleRuntimes: [python3.12]
    Metadata:
      BuildMethod: makefile
  Copied:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: copied/
      CompatibleRuntimes: [python3.12]
    Metadata:
      BuildMethod: makefile
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./
      Handler: handlers.auth.handler
      Runtime: python3.12
      Layers: [!Ref Combined, !Ref Copied]
    Metadata:
      BuildMethod: makefile
`,
		"Makefile":                "build-Combined:\n\tmkdir -p \"$(ARTIFACTS_DIR)/python\"\n\tpip install six==1.16.0 -t \"$(ARTIFACTS_DIR)/python\"\n\nbuild-Fn:\n\tcp -r handlers $(ARTIFACTS_DIR)\n\tpip install idna -t $(ARTIFACTS_DIR)\n",
		"handlers/auth.py":        "",
		"copied/Makefile":         "build-Copied:\n\tcp *.py \"$(ARTIFACTS_DIR)/python\"\n\tpython3 -m pip install -r requirements.txt -t \"$(ARTIFACTS_DIR)/python\"\n",
		"copied/requirements.txt": "six==1.16.0\n",
		"copied/shared.py":        "",
	}))
	if diff := cmp.Diff(lySum{Name: "Combined", Pkg: "none", Deps: "inline:six==1.16.0", Runtimes: []string{"python3.12"}, Archs: []string{"x86_64"}}, ly(t, cfg, "Combined")); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff(lySum{Name: "Copied", Pkg: "folder:copied>python/", Deps: "req:copied/requirements.txt", Runtimes: []string{"python3.12"}, Archs: []string{"x86_64"}}, ly(t, cfg, "Copied")); diff != "" {
		t.Error(diff)
	}
	if got := fn(t, cfg, "Fn").Deps; got != "inline:idna" {
		t.Errorf("Fn deps %s", got)
	}
	wantNote(t, cfg,
		"layer Combined: Metadata.BuildMethod makefile: lambdapack does not run the Makefile; it builds what target build-Combined installs (six==1.16.0) and copies none of the folder's files",
		"layer Copied: Metadata.BuildMethod makefile: lambdapack does not run the Makefile; it builds what target build-Copied installs (copied/requirements.txt) and copies the folder's files",
		"function Fn: Metadata.BuildMethod makefile: lambdapack does not run the Makefile; it builds what target build-Fn installs (idna)")
}
