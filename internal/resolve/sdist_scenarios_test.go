package resolve_test

import (
	"testing"

	"github.com/lambdapack/lambdapack/internal/cache"
	"github.com/lambdapack/lambdapack/internal/index"
	"github.com/lambdapack/lambdapack/internal/resolve"
	"github.com/lambdapack/lambdapack/internal/sdist"
)

// The packse scenarios read sdists the way the CLI does: through an
// sdist.Builder on the scenario's index, with a cache of the test's own.
func init() {
	resolve.SetScenarioSdists(func(t *testing.T, client *index.Client) resolve.SdistMetadataFunc {
		c, err := cache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		b := &sdist.Builder{Cache: c, Index: client}
		return b.FileMetadata
	})
}
