package testutil

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// AddWheelFile lists a wheel whose bytes the test already has (a file
// committed under testdata, so that what is served never depends on the
// Go version that writes zips). Its PEP 658 metadata file is the wheel's
// own .dist-info/METADATA. The file name must be a wheel's.
func (ix *Index) AddWheelFile(filename string, body []byte, opts ...FileOption) error {
	parts := strings.Split(strings.TrimSuffix(filename, ".whl"), "-")
	if !strings.HasSuffix(filename, ".whl") || len(parts) < 5 {
		return fmt.Errorf("%s is not a wheel file name", filename)
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return fmt.Errorf("%s: %w", filename, err)
	}
	var meta []byte
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".dist-info/METADATA") && strings.Count(f.Name, "/") == 1 {
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("%s: %w", filename, err)
			}
			meta, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", filename, err)
			}
		}
	}
	if meta == nil {
		return fmt.Errorf("%s has no .dist-info/METADATA", filename)
	}
	ix.add(&indexFile{project: canonicalName(parts[0]), version: parts[1], filename: filename, body: body, metadata: meta}, opts)
	return nil
}
