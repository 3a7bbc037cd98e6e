package resolve

import (
	"testing"

	"github.com/lambdapack/lambdapack/internal/index"
)

// SetScenarioSdists lets the external tests (package resolve_test, which can
// import internal/sdist without a cycle) give the packse harness its sdist
// metadata reader.
func SetScenarioSdists(f func(t *testing.T, client *index.Client) SdistMetadataFunc) {
	scenarioSdists = f
}
