package pep508

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/pep440"
)

// UndefinedComparisonError reports a comparison packaging leaves undefined:
// "~=" or "===" between strings that are not versions, or a set-valued
// variable ("extras", "dependency_groups") on the left of a comparison.
type UndefinedComparisonError struct {
	Op, LHS, RHS string
	Msg          string
}

func (e *UndefinedComparisonError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return fmt.Sprintf("undefined marker comparison %s between %q and %q", e.Op, e.LHS, e.RHS)
}

// UndefinedEnvironmentNameError reports a marker variable missing from the
// environment it is evaluated in.
type UndefinedEnvironmentNameError struct{ Name string }

func (e *UndefinedEnvironmentNameError) Error() string {
	return fmt.Sprintf("marker variable %q is not set in the environment", e.Name)
}

// versionVariables are compared as PEP 440 versions when both sides parse.
var versionVariables = map[string]bool{
	"implementation_version": true,
	"platform_release":       true,
	"python_full_version":    true,
	"python_version":         true,
}

// Evaluate reports whether the marker holds in env, as packaging's
// Marker.evaluate(env) does in its default (metadata) context: "extra" is ""
// unless env sets it, and is compared PEP 685-normalised. A nil marker is
// true. Where packaging raises (a variable missing from env, an undefined
// comparison) Evaluate returns false; EvaluateErr returns the error.
func (m *Marker) Evaluate(env Environment) bool {
	ok, err := m.EvaluateErr(env)
	return ok && err == nil
}

// EvaluateErr is Evaluate that reports, instead of hiding, the conditions
// under which packaging raises UndefinedEnvironmentName or
// UndefinedComparison.
func (m *Marker) EvaluateErr(env Environment) (bool, error) {
	if m == nil {
		return true, nil
	}
	e := evalEnv{strs: prepare(env, true)}
	return e.list(m.list)
}

// EvaluateLockFile evaluates the marker in PEP 751's lock-file context, where
// "extras" and "dependency_groups" are the sets of extras and dependency
// groups requested (nil means none) and "extra" has no default.
func (m *Marker) EvaluateLockFile(env Environment, extras, dependencyGroups []string) (bool, error) {
	if m == nil {
		return true, nil
	}
	e := evalEnv{
		strs: prepare(env, false),
		sets: map[string][]string{"extras": extras, "dependency_groups": dependencyGroups},
	}
	return e.list(m.list)
}

// prepare copies env with packaging's fix-ups: a default empty "extra" (in
// the metadata context), "extra" normalised, and a python_full_version that
// ends in "+" (an untagged CPython build) made PEP 440-valid.
func prepare(env Environment, metadataContext bool) map[string]string {
	out := make(map[string]string, len(env)+1)
	if metadataContext {
		out["extra"] = ""
	}
	for k, v := range env {
		out[k] = v
	}
	if x, ok := out["extra"]; ok && x != "" {
		out["extra"] = names.Canonical(x)
	}
	if v, ok := out["python_full_version"]; ok && strings.HasSuffix(v, "+") {
		out["python_full_version"] = v + "local"
	}
	return out
}

type evalEnv struct {
	strs map[string]string
	sets map[string][]string
}

// list evaluates like packaging's _evaluate_markers: every item is
// evaluated (so errors surface even where the result is already known), and
// the result is any(all(group)) over the groups split at "or".
func (e evalEnv) list(list []node) (bool, error) {
	result, group := false, true
	for _, n := range list {
		switch n.kind {
		case nodeGroup:
			v, err := e.list(n.group)
			if err != nil {
				return false, err
			}
			group = group && v
		case nodeItem:
			v, err := e.item(n.item)
			if err != nil {
				return false, err
			}
			group = group && v
		case nodeOr:
			result = result || group
			group = true
		}
	}
	return result || group, nil
}

// lookup returns a string value, or a set value (isSet) for the lock-file
// set variables.
func (e evalEnv) lookup(key string) (s string, set []string, isSet bool, err error) {
	if v, ok := e.sets[key]; ok {
		return "", v, true, nil
	}
	if v, ok := e.strs[key]; ok {
		return v, nil, false, nil
	}
	return "", nil, false, &UndefinedEnvironmentNameError{Name: key}
}

func (e evalEnv) item(it item) (bool, error) {
	var key, lhs, rhs string
	var rhsSet []string
	rhsIsSet := false
	if it.lhs.variable {
		key = it.lhs.value
		v, _, isSet, err := e.lookup(key)
		if err != nil {
			return false, err
		}
		if isSet {
			return false, &UndefinedComparisonError{Op: it.op, LHS: key, RHS: it.rhs.value,
				Msg: fmt.Sprintf("set-valued marker %q can only be used with the membership form (e.g. \"<name>\" in %s); it cannot appear on the left-hand side of %q", key, key, it.op)}
		}
		lhs, rhs = v, it.rhs.value
	} else {
		key = it.rhs.value
		lhs = it.lhs.value
		v, set, isSet, err := e.lookup(key)
		if err != nil {
			return false, err
		}
		rhs, rhsSet, rhsIsSet = v, set, isSet
	}
	if it.spec != nil {
		return it.spec.ContainsString(lhs, pep440.PrereleaseAllow), nil
	}
	if setVariables[key] {
		lhs = names.Canonical(lhs)
		if rhsIsSet {
			norm := make([]string, len(rhsSet))
			for i, s := range rhsSet {
				norm[i] = names.Canonical(s)
			}
			rhsSet = norm
		} else {
			rhs = names.Canonical(rhs)
		}
	}
	if rhsIsSet {
		switch it.op {
		case "in":
			return slices.Contains(rhsSet, lhs), nil
		case "not in":
			return !slices.Contains(rhsSet, lhs), nil
		case "!=":
			return true, nil
		case "==", "<=", ">=", "<", ">":
			return false, nil
		}
		return false, &UndefinedComparisonError{Op: it.op, LHS: lhs, RHS: key}
	}
	return compare(lhs, it.op, rhs, key)
}

// compare is packaging's _eval_op: version variables compare as PEP 440
// when "<op><rhs>" is a valid specifier, everything else as strings.
func compare(lhs, op, rhs, key string) (bool, error) {
	if versionVariables[key] {
		if sp, err := pep440.ParseSpecifier(op + rhs); err == nil {
			return sp.ContainsString(lhs, pep440.PrereleaseAllow), nil
		}
	}
	switch op {
	case "in":
		return strings.Contains(rhs, lhs), nil
	case "not in":
		return !strings.Contains(rhs, lhs), nil
	case "<", ">":
		return false, nil
	case "<=", "==", ">=":
		return lhs == rhs, nil
	case "!=":
		return lhs != rhs, nil
	}
	return false, &UndefinedComparisonError{Op: op, LHS: lhs, RHS: rhs}
}
