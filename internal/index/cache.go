package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/cache"
)

// pageCache stores index pages and metadata files under a folder. Every
// write is atomic (temp file + rename); an entry that does not decode is a
// miss. Each entry served is marked used (cache.MarkUsed) for `lambdapack
// cache prune`.
//
//	pages-v3/ab/<key>            one file per page (URL without credentials,
//	                             and Accept): a JSON line of validators, then
//	                             the page's compact form (pagecodec.go)
//	metadata-v2/sha256/ab/<hex>  core metadata files, by the sha256 of their
//	                             bytes: stored once however many wheels share
//	                             them
//	metadata-v2/by-file/ab/<key> the sha256 of a wheel's metadata, when the
//	                             index gives none (read from the wheel)
type pageCache struct{ dir string }

// Older layouts: simple-v1 keyed pages by URLs with their credentials;
// simple-v2 kept raw pages and parsed-v1 a second, parsed copy of each
// (keyed by the body's hash, so a changed page left the old copy forever);
// metadata-v1 stored a metadata file once per wheel URL. All are removed
// when a client opens the cache: a page cache is only a cache, and an older
// lambdapack running meanwhile sees a miss and fetches again.
var oldLayouts = []string{"simple-v1", "simple-v2", "parsed-v1", "metadata-v1"}

// cacheEntry is the header line of a cached page.
type cacheEntry struct {
	URL          string    `json:"url"`
	FinalURL     string    `json:"final_url"`
	Status       int       `json:"status"`
	ContentType  string    `json:"content_type"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	StoredAt     time.Time `json:"stored_at"`
	MaxAge       int       `json:"max_age"` // seconds; -1 when not given
	NoCache      bool      `json:"no_cache,omitempty"`
}

func (e *cacheEntry) fresh(now time.Time) bool {
	return !e.NoCache && e.MaxAge > 0 && now.Before(e.StoredAt.Add(time.Duration(e.MaxAge)*time.Second))
}

func newPageCache(dir string) (*pageCache, error) {
	for _, old := range oldLayouts {
		if _, err := os.Lstat(filepath.Join(dir, old)); err == nil {
			_ = os.RemoveAll(filepath.Join(dir, old))
		}
	}
	for _, sub := range []string{"pages-v3", "metadata-v2"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("creating the index cache folder %s: %w (pick another with --cache-dir)", dir, err)
		}
	}
	return &pageCache{dir: dir}, nil
}

func key(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (pc *pageCache) pagePath(k string) string { return filepath.Join(pc.dir, "pages-v3", k[:2], k) }
func (pc *pageCache) metaPath(sum string) string {
	return filepath.Join(pc.dir, "metadata-v2", "sha256", sum[:2], sum)
}
func (pc *pageCache) metaPointer(k string) string {
	return filepath.Join(pc.dir, "metadata-v2", "by-file", k[:2], k)
}

// loadPage returns the cached entry and its page's compact form for a key,
// or nil.
func (pc *pageCache) loadPage(k string) (*cacheEntry, []byte) {
	if pc == nil {
		return nil, nil
	}
	path := pc.pagePath(k)
	// Marked before it is read, so that the mark does not depend on how
	// the mount records access times.
	cache.MarkUsed(path)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil
	}
	head, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, nil
	}
	var e cacheEntry
	if err := json.Unmarshal(head, &e); err != nil {
		return nil, nil
	}
	return &e, body
}

func (pc *pageCache) storePage(k string, e *cacheEntry, body []byte) error {
	if pc == nil {
		return nil
	}
	head, err := json.Marshal(e)
	if err != nil {
		return err
	}
	out := make([]byte, 0, len(head)+1+len(body))
	return writeAtomic(pc.pagePath(k), append(append(append(out, head...), '\n'), body...))
}

func (pc *pageCache) dropPage(k string) {
	if pc != nil {
		os.Remove(pc.pagePath(k))
	}
}

// loadMeta returns the metadata file of sha256 sum, checked, or nil.
func (pc *pageCache) loadMeta(sum string) []byte {
	if pc == nil || !isSHA256(sum) {
		return nil
	}
	path := pc.metaPath(sum)
	cache.MarkUsed(path)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
		os.Remove(path)
		return nil
	}
	return b
}

// loadMetaPointer returns the sha256 a pointer records, or "".
func (pc *pageCache) loadMetaPointer(k string) string {
	if pc == nil {
		return ""
	}
	path := pc.metaPointer(k)
	cache.MarkUsed(path)
	b, err := os.ReadFile(path)
	if err != nil || !isSHA256(string(b)) {
		return ""
	}
	return string(b)
}

// storeMeta stores a metadata file by its sha256 (once), and a pointer to
// it under k when k is not "".
func (pc *pageCache) storeMeta(k string, b []byte) error {
	if pc == nil {
		return nil
	}
	sum := sha256.Sum256(b)
	hexSum := hex.EncodeToString(sum[:])
	path := pc.metaPath(hexSum)
	if _, err := os.Stat(path); err != nil {
		if err := writeAtomic(path, b); err != nil {
			return err
		}
	} else {
		cache.MarkUsed(path)
	}
	if k == "" {
		return nil
	}
	return writeAtomic(pc.metaPointer(k), []byte(hexSum))
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// writeAtomic writes data to path through a temp file in the same folder.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing cache file: %w", err)
	}
	return nil
}

// cacheControl reads max-age, no-store and no-cache from a response.
// heuristic (seconds) is used as max-age when there is no Cache-Control.
func cacheControl(h http.Header, heuristic int) (maxAge int, noStore, noCache bool) {
	maxAge = -1
	if len(h.Values("Cache-Control")) == 0 && heuristic > 0 {
		return heuristic, false, false
	}
	for _, v := range h.Values("Cache-Control") {
		for _, d := range strings.Split(v, ",") {
			d = strings.ToLower(strings.TrimSpace(d))
			switch {
			case d == "no-store":
				noStore = true
			case d == "no-cache":
				noCache = true
			case strings.HasPrefix(d, "max-age="):
				if n, err := strconv.Atoi(strings.Trim(d[len("max-age="):], `"`)); err == nil {
					maxAge = n
				}
			}
		}
	}
	return
}
