package app

import (
	"archive/zip"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// RuleHandler is the verification rule that a function's handler is in its
// zip or in one of its layers.
const RuleHandler = "handler"

// artifactFile is a file of a built artifact, as its zip lists it.
type artifactFile struct {
	Path string
	Mode fs.FileMode
}

// zipFiles lists the files (not folders) of a zip.
func zipFiles(path string) ([]artifactFile, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer zr.Close()
	var out []artifactFile
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		out = append(out, artifactFile{Path: f.Name, Mode: f.Mode()})
	}
	return out, nil
}

var layerSitePackages = regexp.MustCompile(`^python/lib/python(3\.[0-9]+)/site-packages/`)

// importPath returns where a layer file is seen by the Python of a
// function: under /opt/python or /opt/python/lib/python3.X/site-packages
// for the function's own 3.X; ok is false for a file Python does not
// import from.
func importPath(layerFile, python string) (string, bool) {
	if m := layerSitePackages.FindStringSubmatch(layerFile); m != nil {
		if m[1] != python {
			return "", false
		}
		return layerFile[len(m[0]):], true
	}
	if rest, ok := strings.CutPrefix(layerFile, "python/"); ok {
		return rest, true
	}
	return "", false
}

// checkHandler is the handler rule: a function's handler module ("app" for
// "app.handler": app.py or an app/ package) must be in the function's zip or
// importable from one of its layers (for the function's own Python); a
// script handler ("run.sh") must be an executable file of the zip. Whatever
// made the zip, an empty or handler-less function never passes. external
// names layers lambdapack cannot see: the handler missing then is a warning
// that names them, not an error.
func checkHandler(handler, python string, fn []artifactFile, layers map[string][]artifactFile, external []string) *verify.Finding {
	if handler == "" {
		return nil
	}
	if strings.HasSuffix(handler, ".sh") || handler == "bootstrap" {
		for _, f := range fn {
			if f.Path == handler {
				if f.Mode&0o111 == 0 {
					return &verify.Finding{Severity: verify.Error, Rule: RuleHandler, File: handler,
						Message: fmt.Sprintf("handler %s is not executable in the zip", handler), Fix: "chmod +x " + handler + " in your source folder"}
				}
				return nil
			}
		}
		return handlerMissing(handler, handler, external)
	}
	mod, ok := project.HandlerModule(handler)
	if !ok {
		return &verify.Finding{Severity: verify.Error, Rule: RuleHandler, Message: fmt.Sprintf("handler %s is not module.function", handler), Fix: `write it as "module.function", e.g. "app.handler"`}
	}
	has := func(p string) bool {
		return p == mod+".py" || strings.HasPrefix(p, mod+"/") && strings.HasSuffix(p, ".py") || strings.HasPrefix(p, mod+".") && (strings.HasSuffix(p, ".so") || strings.HasSuffix(p, ".pyc")) && !strings.Contains(p[len(mod):], "/")
	}
	for _, f := range fn {
		if has(f.Path) {
			return nil
		}
	}
	for _, files := range layers {
		for _, f := range files {
			if p, ok := importPath(f.Path, python); ok && has(p) {
				return nil
			}
		}
	}
	return handlerMissing(handler, fmt.Sprintf("%s.py or %s/", mod, mod), external)
}

func handlerMissing(handler, what string, external []string) *verify.Finding {
	f := &verify.Finding{Severity: verify.Error, Rule: RuleHandler,
		Message: fmt.Sprintf("handler %s: no %s in the function or its layers", handler, what),
		Fix:     "check the handler and the folder the function is packaged from (CodeUri, module, source, package patterns)"}
	if len(external) > 0 {
		f.Severity = verify.Warning
		f.Message += fmt.Sprintf(" built here; it may be in the external layers %s, which lambdapack cannot see", strings.Join(external, ", "))
	}
	return f
}
