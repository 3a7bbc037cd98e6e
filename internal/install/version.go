package install

import (
	"strings"

	"github.com/lambdapack/lambdapack/internal/pep440"
)

// sameVersion reports whether a wheel file name's version and its METADATA's
// are the same PEP 440 version ("1.0" and "1.0.0" are); versions that do not
// parse must be written identically.
func sameVersion(a, b string) bool {
	va, erra := pep440.Parse(a)
	vb, errb := pep440.Parse(b)
	if erra == nil && errb == nil {
		return va.Equal(vb)
	}
	return strings.TrimSpace(a) == strings.TrimSpace(b)
}
