package install

import (
	"archive/zip"
	"cmp"
	"fmt"
	"slices"
)

// refuseOverlaps refuses, before anything is inflated, a wheel whose
// members share compressed data (overlapping entries): no real zip has
// them, and a few megabytes of them inflate to terabytes, each copy hashed
// against RECORD in turn. size is the wheel file's size.
func refuseOverlaps(files []*zip.File, size int64) error {
	type span struct {
		start, end int64
		name       string
	}
	spans := make([]span, 0, len(files))
	for _, f := range files {
		if f.CompressedSize64 == 0 {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			return fmt.Errorf("member %q: %w", f.Name, err)
		}
		if f.CompressedSize64 > uint64(size) || off < 0 || off+int64(f.CompressedSize64) > size {
			return fmt.Errorf("member %q: its %d compressed bytes run past the end of the file (truncated or corrupt)", f.Name, f.CompressedSize64)
		}
		spans = append(spans, span{off, off + int64(f.CompressedSize64), f.Name})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return fmt.Errorf("members %q and %q share compressed data (overlapping entries, the mark of a zip bomb)", spans[i-1].name, spans[i].name)
		}
	}
	return nil
}
