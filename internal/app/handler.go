package app

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// RuleHandler is the verification rule that a function's handler is in its
// zip or in one of its layers.
const RuleHandler = "handler"

// artifactFile is a file of an artifact: its path and mode.
type artifactFile struct {
	Path string
	Mode fs.FileMode
}

// UsedLayer is a built layer a function runs with.
type UsedLayer struct {
	Name string // for messages
	Path string // the layer's zip
	// Targets are those the layer was verified for when it was built; for
	// any other, it is verified again for the function's own.
	Targets []target.Target
}

// checkFunction runs the checks that take a function's tree together with
// the layers it uses, for the function's target: each layer's files
// verified for the function's own runtime and architecture when the layer
// was built for another (Lambda treats CompatibleRuntimes and
// CompatibleArchitectures as metadata; the content decides), and the
// handler rule. extras are the layers as verify reads them.
func (env *Env) checkFunction(ctx context.Context, t *tree.Tree, o CheckOptions, extras []verify.Extra) ([]verify.Finding, error) {
	if len(t.Parts) == 0 {
		return nil, nil
	}
	tg := t.Parts[0].Target()
	var findings []verify.Finding
	for i, l := range o.Layers {
		if slices.Contains(l.Targets, tg) {
			continue // verified for this target when it was built
		}
		vopts := verify.Options{Kind: KindLayer}
		if env.facts != nil {
			vopts.Facts = env.facts
		}
		for j, x := range extras {
			if j != i {
				vopts.With = append(vopts.With, x)
			}
		}
		rep, err := verify.Check(ctx, verify.PathSource(l.Path), tg, vopts)
		if err != nil {
			return nil, fmt.Errorf("verifying layer %s for %s: %w", l.Name, tg, err)
		}
		built := "another target"
		if len(l.Targets) > 0 {
			built = l.Targets[0].String()
		}
		for _, x := range rep.Problems() {
			x.Message = fmt.Sprintf("layer %s (built for %s) used by this function on %s: %s", l.Name, built, tg, x.Message)
			findings = append(findings, x)
		}
	}
	if h := t.Record.Handler; h != "" {
		fn := make([]artifactFile, len(t.Files))
		for i, f := range t.Files {
			fn[i] = artifactFile{Path: f.Path, Mode: f.Mode}
		}
		layers := map[string][]artifactFile{}
		for i, x := range extras {
			for _, p := range x.Files {
				layers[o.Layers[i].Name] = append(layers[o.Layers[i].Name], artifactFile{Path: p})
			}
		}
		if f := checkHandler(h, tg.Python(), fn, layers, o.ExternalLayers); f != nil {
			if t.Record.Kind == record.KindImage && f.File != "" {
				f.Message = strings.Replace(f.Message, "in the function or its layers", "in the image's code or packages", 1)
				f.Fix = "check the handler (the image's CMD, --handler) and the code folder (--src, or the function's source in the project)"
			}
			findings = append(findings, *f)
		}
	}
	if hasErrors(findings, o.Strict) && !o.Force {
		var b strings.Builder
		with := " with its layers"
		if t.Record.Kind == record.KindImage {
			with = ""
		}
		fmt.Fprintf(&b, "verify %s for %s%s\n", filepath.Base(o.Name), tg, with)
		writeFindings(&b, findings)
		return nil, &VerifyError{Output: o.Name, Target: tg, Report: b.String()}
	}
	return findings, nil
}

// layerExtras reads the layers a function uses as verify takes them.
func layerExtras(ctx context.Context, layers []UsedLayer) ([]verify.Extra, error) {
	out := make([]verify.Extra, len(layers))
	for i, l := range layers {
		x, err := verify.ExtraFrom(ctx, l.Path)
		if err != nil {
			return nil, fmt.Errorf("reading layer %s (%s): %w", l.Name, l.Path, err)
		}
		x.Name, x.Kind = l.Name, KindLayer
		out[i] = x
	}
	return out, nil
}

// writeFindings writes findings as verify's text report does.
func writeFindings(b *strings.Builder, fs []verify.Finding) {
	for _, f := range fs {
		loc := f.File
		if loc == "" {
			loc = "(artifact)"
		}
		if f.Package != "" {
			loc += " [" + f.Package + "]"
		}
		fmt.Fprintf(b, "%-7s %s: %s\n        %s\n", f.Severity, f.Rule, loc, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(b, "        fix: %s\n", f.Fix)
		}
	}
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
		return handlerMissing(handler, handler, handler, external)
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
	return handlerMissing(handler, mod+".py", fmt.Sprintf("%s.py or %s/", mod, mod), external)
}

func handlerMissing(handler, file, what string, external []string) *verify.Finding {
	f := &verify.Finding{Severity: verify.Error, Rule: RuleHandler, File: file,
		Message: fmt.Sprintf("handler %s: no %s in the function or its layers", handler, what),
		Fix:     "check the handler and the folder the function is packaged from (CodeUri, module, source, package patterns)"}
	if len(external) > 0 {
		f.Severity = verify.Warning
		f.Message += fmt.Sprintf(" built here; it may be in the external layers %s, which lambdapack cannot see", strings.Join(external, ", "))
	}
	return f
}
