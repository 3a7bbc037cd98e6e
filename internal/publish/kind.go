package publish

import (
	"archive/zip"
	"fmt"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/record"
)

// zipNames lists the member names of the zip at path.
func zipNames(path string) ([]string, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s as a zip: %w", path, err)
	}
	defer z.Close()
	names := make([]string, len(z.File))
	for i, f := range z.File {
		names[i] = f.Name
	}
	return names, nil
}

// kind says what the artifact is and how that is known: its record's
// kind, else what its layout shows (record.InferKind), else "".
func (a *artifact) kind() (record.Kind, string) {
	if a.hasRec && a.record.Kind != "" {
		return a.record.Kind, "its lambdapack record says so"
	}
	switch record.InferKind(a.names) {
	case record.KindLayer:
		return record.KindLayer, "it has packages under python/ and no code at its root"
	case record.KindFunction:
		return record.KindFunction, "it has code at its root and nothing under python/"
	}
	return "", ""
}

// checkKind refuses to publish the artifact as the other kind of artifact:
// a function zip as a layer puts its code under /opt where no function
// imports it; a layer zip as a function's code puts its packages under
// /var/task/python, where the runtime does not look. An artifact whose kind
// cannot be told (no record, a layout that shows neither) passes. With
// force a mismatch is a warning, returned for the result.
func (a *artifact) checkKind(want record.Kind, force bool) (warning string, err error) {
	got, why := a.kind()
	if got == "" || got == want {
		return "", nil
	}
	var msg string
	switch want {
	case record.KindLayer:
		msg = fmt.Sprintf("%s is a %s zip, not a layer (%s): as a layer its files would land in /opt where nothing imports them; publish it with `lambdapack publish function`, or build a layer (lambdapack layer)",
			a.path, got, why)
	default:
		msg = fmt.Sprintf("%s is a %s zip, not a function's code (%s): as a function its packages would sit under /var/task/python/, where the runtime does not look, and the handler would not be found; publish it with `lambdapack publish layer`, or build the function (lambdapack function)",
			a.path, got, why)
	}
	if !force {
		return "", fmt.Errorf("%s (or pass --force)", msg)
	}
	return msg + "; published anyway because of --force", nil
}

// checkFunctionTarget compares what a function zip was built for (its
// record) with what the function will run it on: the architecture it is
// sent with (--arch) or already has, and its runtime. Code with native
// modules built for another architecture or Python fails at import, so a
// mismatch is an error unless force; a pure-Python artifact on another
// Python is a warning (its wheels may still declare Requires-Python).
func checkFunctionTarget(o FunctionOptions, rec record.Record, arch, archFrom, runtime string) (warnings []string, err error) {
	var errs []string
	if built := rec.CompatibleArchitectures(); len(built) > 0 && !slices.Contains(built, arch) {
		fix := fmt.Sprintf("build it with --arch %s", arch)
		if archFrom == "function" {
			fix = fmt.Sprintf("pass --arch %s to switch the function, or build it with --arch %s", built[0], arch)
		}
		errs = append(errs, fmt.Sprintf("%s was built for %s but function %s would run it on %s (%s): its native code would not load (%s)",
			o.ZipPath, strings.Join(built, ", "), o.FunctionName, arch, archFromText(archFrom), fix))
	}
	built := rec.CompatibleRuntimes()
	if runtime != "" && len(built) > 0 && !slices.Contains(built, runtime) {
		msg := fmt.Sprintf("%s was built for %s but function %s uses %s", o.ZipPath, strings.Join(built, ", "), o.FunctionName, runtime)
		switch {
		case !strings.HasPrefix(runtime, "python"):
			errs = append(errs, msg+": it is Python code for a function of another language (check --function-name)")
		case !rec.Pure():
			errs = append(errs, fmt.Sprintf("%s: its extension modules are built for another Python and would fail at import (build it with --runtime %s, or change the function's runtime to %s)",
				msg, runtime, built[0]))
		default:
			warnings = append(warnings, msg+" (it is pure Python, so it may work; build it with --runtime "+runtime+" to be sure)")
		}
	}
	if len(errs) == 0 {
		return warnings, nil
	}
	if !o.Force {
		return nil, fmt.Errorf("%s (or pass --force)", strings.Join(errs, "; "))
	}
	for _, e := range errs {
		warnings = append(warnings, e+"; published anyway because of --force")
	}
	return warnings, nil
}

func archFromText(from string) string {
	if from == "function" {
		return "its current architecture"
	}
	return "--arch"
}
