package install

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// RecordEntry is one row of a wheel's RECORD: a path, an optional hash
// ("sha256=<urlsafe base64, no padding>") and an optional size.
type RecordEntry struct {
	Path string
	// Algorithm and Digest split the hash; both empty when there is none.
	Algorithm string
	Digest    string
	// Size is -1 when the row has none.
	Size int64
}

// InvalidRecordEntryError lists what is wrong with one RECORD row.
type InvalidRecordEntryError struct {
	Elements [3]string
	Issues   []string
}

func (e *InvalidRecordEntryError) Error() string {
	return fmt.Sprintf("invalid RECORD row %q: %s", strings.Join(e.Elements[:], ","), strings.Join(e.Issues, "; "))
}

// ParseRecordEntry checks the three elements of a RECORD row, as
// pypa/installer's RecordEntry.from_elements does.
func ParseRecordEntry(path, hash, size string) (RecordEntry, error) {
	var issues []string
	e := RecordEntry{Path: path, Size: -1}
	if path == "" {
		issues = append(issues, "`path` cannot be empty")
	}
	if hash != "" {
		alg, val, ok := strings.Cut(hash, "=")
		if !ok {
			issues = append(issues, "`hash` does not follow the required format")
		} else {
			e.Algorithm, e.Digest = alg, val
		}
	}
	if size != "" {
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil || n < 0 {
			issues = append(issues, "`size` cannot be non-integer")
		} else {
			e.Size = n
		}
	}
	if issues != nil {
		return RecordEntry{}, &InvalidRecordEntryError{Elements: [3]string{path, hash, size}, Issues: issues}
	}
	return e, nil
}

// ParseRecord reads a RECORD file: CSV rows of exactly three elements.
// Backslashes in paths become slashes, as pypa/installer does. An error
// names the row.
func ParseRecord(data []byte) ([]RecordEntry, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var out []RecordEntry
	for row := 1; ; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("RECORD row %d: %w", row, err)
		}
		if len(rec) != 3 {
			return nil, fmt.Errorf("RECORD row %d has %d elements, want 3 (path,hash,size)", row, len(rec))
		}
		e, err := ParseRecordEntry(strings.ReplaceAll(rec[0], "\\", "/"), rec[1], rec[2])
		if err != nil {
			return nil, fmt.Errorf("RECORD row %d: %w", row, err)
		}
		out = append(out, e)
	}
}

// newHash returns a hasher for a RECORD hash algorithm; md5 and sha1 are
// refused (PEP 427).
func newHash(alg string) (hash.Hash, error) {
	switch alg {
	case "sha256":
		return sha256.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("hash algorithm %q is not accepted (use sha256)", alg)
}

// Validate reports whether data matches the row's hash and size (a row
// without them accepts anything).
func (e RecordEntry) Validate(data []byte) bool {
	if e.Size >= 0 && int64(len(data)) != e.Size {
		return false
	}
	if e.Algorithm == "" {
		return true
	}
	h, err := newHash(e.Algorithm)
	if err != nil {
		return false
	}
	h.Write(data)
	return digestString(h.Sum(nil)) == e.Digest
}

// String renders the row as RECORD holds it.
func (e RecordEntry) String() string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	h, s := "", ""
	if e.Algorithm != "" {
		h = e.Algorithm + "=" + e.Digest
	}
	if e.Size >= 0 {
		s = strconv.FormatInt(e.Size, 10)
	}
	w.Write([]string{e.Path, h, s})
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

func digestString(sum []byte) string { return base64.RawURLEncoding.EncodeToString(sum) }
