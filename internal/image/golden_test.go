package image

import (
	"archive/zip"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/lambdapack/lambdapack/internal/tree"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden/LAYER")

// TestLayerGolden writes a layer from committed wheel members (three
// spliced, one compressed here) and generated files, and compares its
// digest and diffID with testdata/golden/LAYER: the same inputs give these
// bytes on every machine and with every future build of lambdapack, until
// a change says otherwise.
func TestLayerGolden(t *testing.T) {
	zr, err := zip.OpenReader(filepath.Join("testdata", "golden", "members.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var files []*tree.File
	for _, m := range zr.File {
		files = append(files, &tree.File{Path: m.Name, Origin: tree.FromWheel, Member: m, Size: int64(m.UncompressedSize64), Mode: 0o644})
	}
	files = append(files,
		&tree.File{Path: "goldsplice-1.0.dist-info/INSTALLER", Origin: tree.FromBytes, Data: []byte("lambdapack\n"), Size: 11},
		&tree.File{Path: "bin/goldtool", Origin: tree.FromBytes, Data: []byte("#!/usr/bin/env python3\n"), Size: 23, Mode: 0o755})
	info, err := WriteLayer(context.Background(), &bytes.Buffer{}, files, LayerOptions{Root: "var/task", Epoch: time.Unix(0, 0).UTC(), MediaType: types.OCILayer})
	if err != nil {
		t.Fatal(err)
	}
	if info.Spliced != 3 {
		t.Fatalf("spliced %d members, want 3", info.Spliced)
	}
	got := fmt.Sprintf("digest %s\ndiff_id %s\nsize %d\n", info.Digest, info.DiffID, info.Size)
	p := filepath.Join("testdata", "golden", "LAYER")
	if *updateGolden {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(got) != strings.TrimSpace(string(want)) {
		t.Errorf("the golden layer changed:\n%s\nwant (testdata/golden/LAYER)\n%s\nif intended, rerun with -update-golden and say why in the commit", got, want)
	}
}
