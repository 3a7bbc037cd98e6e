package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
)

// pageCache stores index pages (with their validators) and metadata files
// under a folder. Every write is atomic (temp file + rename); an entry that
// does not parse is treated as a miss.
type pageCache struct{ dir string }

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
	// simple-v1 keyed and labelled pages by their URL with its
	// credentials: remove what an older version left there.
	_ = os.RemoveAll(filepath.Join(dir, "simple-v1"))
	for _, sub := range []string{"simple-v2", "metadata-v1", "parsed-v1"} {
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

func (pc *pageCache) pagePath(k string) string { return filepath.Join(pc.dir, "simple-v2", k[:2], k) }
func (pc *pageCache) metaPath(k string) string { return filepath.Join(pc.dir, "metadata-v1", k[:2], k) }
func (pc *pageCache) parsedPath(k string) string {
	return filepath.Join(pc.dir, "parsed-v1", k[:2], k)
}

// parsedPage is a JSON project page as parseJSONPage returns it, kept so
// that a warm run decodes a compact gob instead of parsing megabytes of
// JSON again (the JSON parse was half of a warm layer build's CPU).
type parsedPage struct {
	Files    []File
	Versions []string
}

// parseJSONCached is parseJSONPage memoised on disk by the page's URL and
// bytes: the same bytes always parse the same.
func (c *Client) parseJSONCached(body []byte, final *url.URL) ([]File, []string, error) {
	if c.cache == nil {
		return parseJSONPage(body, final)
	}
	sum := sha256.Sum256(body)
	k := key("parsed", final.String(), hex.EncodeToString(sum[:]))
	if data, err := os.ReadFile(c.cache.parsedPath(k)); err == nil {
		var pp parsedPage
		if gob.NewDecoder(bytes.NewReader(data)).Decode(&pp) == nil {
			return pp.Files, pp.Versions, nil
		}
	}
	files, versions, err := parseJSONPage(body, final)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	if gob.NewEncoder(&buf).Encode(parsedPage{Files: files, Versions: versions}) == nil {
		if err := writeAtomic(c.cache.parsedPath(k), buf.Bytes()); err != nil {
			c.log.Warn("not caching a parsed index page", "err", err)
		}
	}
	return files, versions, nil
}

// loadPage returns the cached entry and body for a key, or nil.
func (pc *pageCache) loadPage(k string) (*cacheEntry, []byte) {
	if pc == nil {
		return nil, nil
	}
	data, err := os.ReadFile(pc.pagePath(k))
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
	return writeAtomic(pc.pagePath(k), append(append(head, '\n'), body...))
}

func (pc *pageCache) dropPage(k string) {
	if pc != nil {
		os.Remove(pc.pagePath(k))
	}
}

func (pc *pageCache) loadMeta(k string) []byte {
	if pc == nil {
		return nil
	}
	b, err := os.ReadFile(pc.metaPath(k))
	if err != nil {
		return nil
	}
	return b
}

func (pc *pageCache) storeMeta(k string, b []byte) error {
	if pc == nil {
		return nil
	}
	return writeAtomic(pc.metaPath(k), b)
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
