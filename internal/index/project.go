package index

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/netlimit"
)

// Project lists the files of a project: from the first index (in the order
// IndexURL, ExtraIndexURLs) that has it, plus every find-links location.
// When none has it the error is a *NotFoundError (errors.Is ErrNotFound).
// Results are memoised for the client's lifetime.
func (c *Client) Project(ctx context.Context, name string) (*Project, error) {
	if !names.Valid(name) {
		return nil, fmt.Errorf("looking up project %q: not a valid project name (PEP 508 names are letters, digits, '-', '_' and '.')", name)
	}
	canon := names.Canonical(name)
	c.mu.Lock()
	call, ok := c.projects[canon]
	if !ok {
		call = &projectCall{done: make(chan struct{})}
		c.projects[canon] = call
		c.mu.Unlock()
		call.p, call.err = c.lookup(ctx, canon)
		if call.err != nil {
			c.mu.Lock()
			delete(c.projects, canon) // errors are not memoised
			c.mu.Unlock()
		}
		close(call.done)
	} else {
		c.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if call.err != nil {
		return nil, call.err
	}
	// Hand out a copy so callers may sort or filter freely.
	p := *call.p
	p.Files = append([]File(nil), call.p.Files...)
	return &p, nil
}

func (c *Client) lookup(ctx context.Context, canon string) (*Project, error) {
	p := &Project{Name: canon}
	found := false
	for _, ix := range c.cfg.Indexes() {
		files, versions, err := c.projectPage(ctx, ix, canon)
		if errors.Is(err, errPageNotFound) {
			c.log.Debug("project not on index", "project", canon, "index", Redact(ix))
			continue
		}
		if err != nil {
			return nil, err
		}
		p.Index = Redact(ix)
		for i := range files {
			files[i].Index = p.Index
		}
		p.Files, p.Versions, found = files, versions, true
		c.log.Debug("project found", "project", canon, "index", p.Index, "files", len(files))
		break // the first index that has a project is the only one used for it
	}
	for _, fl := range c.cfg.FindLinks {
		files, err := c.findLinks(ctx, fl)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if fileProject(f.Filename, canon) {
				p.Files = append(p.Files, f)
				found = true
			}
		}
	}
	if !found {
		e := &NotFoundError{Name: canon, FindLinks: redactAll(c.cfg.FindLinks)}
		e.Indexes = redactAll(c.cfg.Indexes())
		return nil, e
	}
	return p, nil
}

func redactAll(us []string) []string {
	var out []string
	for _, u := range us {
		out = append(out, Redact(u))
	}
	return out
}

var errPageNotFound = errors.New("page not found")

// projectPage fetches and parses one index's page for a project.
func (c *Client) projectPage(ctx context.Context, indexURL, canon string) ([]File, []string, error) {
	pageURL := ensureSlash(indexURL) + canon + "/"
	var files []File
	var versions []string
	parse := func(ct string, final *url.URL, body []byte) error {
		var err error
		switch pageKind(ct) {
		case "json":
			files, versions, err = c.parseJSONCached(body, final)
		case "html":
			files, err = parseHTMLPage(body, final)
			versions = nil
		default:
			return fmt.Errorf("%w %q (want %s or text/html; is this a simple index URL?)", ErrContentType, ct, jsonType)
		}
		return err
	}
	notFound, err := c.cachedGet(ctx, pageURL, acceptPages, "the index page", Event{Project: canon}, parse)
	if err != nil {
		return nil, nil, &Error{Op: "fetching the project page", Index: Redact(indexURL), Package: canon, URL: Redact(pageURL), Err: err}
	}
	if notFound {
		return nil, nil, errPageNotFound
	}
	return files, versions, nil
}

// cachedGet GETs a page through the on-disk cache: a fresh entry (max-age)
// is used as is, a stale one is revalidated with ETag / Last-Modified. parse
// sees every body before it is cached, so nothing that fails to parse (or
// is past the page size limit) is stored. notFound is true for 404 and 410.
// Credentials never reach the disk: entries are keyed and labelled by the
// URL without its userinfo, and a body that holds a known secret is not
// stored.
func (c *Client) cachedGet(ctx context.Context, rawURL, accept, what string, ev Event, parse func(ct string, final *url.URL, body []byte) error) (notFound bool, err error) {
	ev.Kind, ev.URL = EventPage, Redact(rawURL)
	defer func() {
		if err == nil {
			c.report(ev)
		}
	}()
	bare := stripUserinfo(rawURL)
	k := key("page", bare, accept)
	now := time.Now()
	e, body := c.cache.loadPage(k)
	parseEntry := func(e *cacheEntry, body []byte) error {
		fu, err := url.Parse(e.FinalURL)
		if err != nil {
			return err
		}
		return parse(e.ContentType, fu, body)
	}
	if e != nil {
		if e.Status == http.StatusNotFound {
			if c.offline || e.fresh(now) {
				ev.Cached = true
				return true, nil
			}
			e = nil
		} else if c.offline || e.fresh(now) {
			if err := parseEntry(e, body); err == nil {
				c.log.Debug("index page from cache", "url", Redact(rawURL))
				ev.Cached = true
				return false, nil
			}
			c.cache.dropPage(k)
			e = nil
		}
	}
	if c.offline {
		return false, fmt.Errorf("%w (run once without --offline to fill the cache)", ErrOffline)
	}
	hdr := http.Header{"Accept": {accept}}
	if e != nil {
		if e.ETag != "" {
			hdr.Set("If-None-Match", e.ETag)
		}
		if e.LastModified != "" {
			hdr.Set("If-Modified-Since", e.LastModified)
		}
	}
	resp, err := c.fetchAll(ctx, rawURL, hdr, getOpts{what: what, limit: c.lim.MaxPageSize,
		hint: "set " + netlimit.EnvMaxPageSize + " if your index really serves pages this large"})
	if err != nil {
		return false, err
	}
	ev.Bytes = int64(len(resp.Body))
	maxAge, noStore, noCache := cacheControl(resp.Header, int(c.heuristic/time.Second))
	switch resp.Status {
	case http.StatusNotModified:
		if e == nil {
			return false, fmt.Errorf("server answered 304 Not Modified to an unconditional request")
		}
		if err := parseEntry(e, body); err != nil {
			c.cache.dropPage(k)
			return false, err
		}
		c.log.Debug("index page revalidated", "url", Redact(rawURL))
		ev.Revalidated = true
		e.StoredAt = now
		if len(resp.Header.Values("Cache-Control")) > 0 {
			// A 304 without Cache-Control keeps the stored freshness rules.
			e.MaxAge, e.NoCache = maxAge, noCache
		}
		if et := resp.Header.Get("ETag"); et != "" {
			e.ETag = et
		}
		if noStore {
			c.cache.dropPage(k)
		} else if err := c.cache.storePage(k, e, body); err != nil {
			c.log.Warn("not caching index page", "err", err)
		}
		return false, nil
	case http.StatusOK:
		final, err := url.Parse(resp.FinalURL)
		if err != nil {
			return false, err
		}
		ct := resp.Header.Get("Content-Type")
		if err := parse(ct, final, resp.Body); err != nil {
			return false, err
		}
		if noStore || c.auth.holdsSecret(resp.Body) {
			c.cache.dropPage(k)
			return false, nil
		}
		ne := &cacheEntry{URL: bare, FinalURL: resp.FinalURL, Status: 200, ContentType: ct,
			ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
			StoredAt: now, MaxAge: maxAge, NoCache: noCache}
		if err := c.cache.storePage(k, ne, resp.Body); err != nil {
			c.log.Warn("not caching index page", "err", err)
		}
		return false, nil
	case http.StatusNotFound, http.StatusGone:
		if !noStore {
			// No heuristic freshness for a miss: a project published a
			// minute later must be seen.
			realMaxAge, _, _ := cacheControl(resp.Header, 0)
			ne := &cacheEntry{URL: bare, FinalURL: resp.FinalURL, Status: http.StatusNotFound, StoredAt: now, MaxAge: realMaxAge, NoCache: noCache}
			_ = c.cache.storePage(k, ne, nil)
		}
		return true, nil
	}
	return false, &statusError{Status: resp.Status}
}

// fileProject reports whether a distribution filename belongs to project
// canon (a canonical name).
func fileProject(filename, canon string) bool {
	lower := strings.ToLower(filename)
	if strings.HasSuffix(lower, ".whl") {
		name, _, ok := strings.Cut(filename, "-")
		return ok && names.Canonical(name) == canon
	}
	stem := ""
	for _, ext := range []string{".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz"} {
		if strings.HasSuffix(lower, ext) {
			stem = filename[:len(filename)-len(ext)]
			break
		}
	}
	if stem == "" {
		return false
	}
	for i := 0; i < len(stem); i++ {
		if stem[i] == '-' && i+1 < len(stem) && names.Canonical(stem[:i]) == canon {
			return true
		}
	}
	return false
}

// isDistFile reports whether a file name looks like a wheel or sdist.
func isDistFile(name string) bool {
	l := strings.ToLower(name)
	for _, ext := range []string{".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz"} {
		if strings.HasSuffix(l, ext) {
			return true
		}
	}
	return false
}

type flResult struct {
	once  sync.Once
	files []File
	err   error
}

// findLinks lists one find-links location (local folder, local HTML file,
// file:// URL or flat HTML page), once per client.
func (c *Client) findLinks(ctx context.Context, loc string) ([]File, error) {
	c.mu.Lock()
	if c.flCache == nil {
		c.flCache = map[string]*flResult{}
	}
	r, ok := c.flCache[loc]
	if !ok {
		r = &flResult{}
		c.flCache[loc] = r
	}
	c.mu.Unlock()
	r.once.Do(func() { r.files, r.err = c.listFindLinks(ctx, loc) })
	return r.files, r.err
}

func (c *Client) listFindLinks(ctx context.Context, loc string) ([]File, error) {
	u, err := url.Parse(loc)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		var files []File
		parse := func(ct string, final *url.URL, body []byte) error {
			if k := pageKind(ct); k != "html" {
				return fmt.Errorf("%w %q (a find-links page must be HTML)", ErrContentType, ct)
			}
			var err error
			files, err = parseHTMLPage(body, final)
			return err
		}
		notFound, err := c.cachedGet(ctx, loc, "text/html", "the find-links page", Event{}, parse)
		if err == nil && notFound {
			err = &statusError{Status: http.StatusNotFound}
		}
		if err != nil {
			return nil, &Error{Op: "reading the find-links page", Index: Redact(loc), Err: err}
		}
		var out []File
		for _, f := range files {
			if isDistFile(f.Filename) {
				f.Index = Redact(loc)
				out = append(out, f)
			}
		}
		return out, nil
	}
	path := loc
	if err == nil && u.Scheme == "file" {
		path = u.Path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("reading find-links location %s: %w", loc, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		c.warnOnce("fl:"+loc, "find-links location is missing; skipping it", "location", loc, "err", err)
		return nil, nil
	}
	if !st.IsDir() {
		if strings.HasSuffix(strings.ToLower(abs), ".html") || strings.HasSuffix(strings.ToLower(abs), ".htm") {
			body, err := os.ReadFile(abs)
			if err != nil {
				return nil, fmt.Errorf("reading find-links page %s: %w", abs, err)
			}
			files, err := parseHTMLPage(body, &url.URL{Scheme: "file", Path: filepath.ToSlash(abs)})
			if err != nil {
				return nil, fmt.Errorf("reading find-links page %s: %w", abs, err)
			}
			for i := range files {
				files[i].Index = loc
			}
			return files, nil
		}
		if isDistFile(abs) {
			f, err := localFile(abs, loc)
			if err != nil {
				return nil, err
			}
			return []File{f}, nil
		}
		c.warnOnce("fl:"+loc, "find-links location is neither a folder, an HTML page nor a distribution; skipping it", "location", loc)
		return nil, nil
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("listing find-links folder %s: %w", abs, err)
	}
	var out []File
	for _, e := range entries {
		if e.IsDir() || !isDistFile(e.Name()) {
			continue
		}
		f, err := localFile(filepath.Join(abs, e.Name()), loc)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		c.warnOnce("fl:"+loc, "find-links folder has no wheels or sdists", "location", loc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Filename < out[j].Filename })
	return out, nil
}

// localFile describes a distribution on disk, with its sha256 so locks can
// record it.
func localFile(path, loc string) (File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("reading find-links file %s: %w", path, err)
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return File{}, fmt.Errorf("hashing find-links file %s: %w", path, err)
	}
	f := File{
		Filename: filepath.Base(path),
		URL:      (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String(),
		Hashes:   map[string]string{"sha256": hex.EncodeToString(h.Sum(nil))},
		Size:     n,
		Index:    loc,
	}
	return f, nil
}
