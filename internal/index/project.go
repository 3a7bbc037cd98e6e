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
	"weak"

	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/netlimit"
)

// Project lists the files of a project: from the first index (in the order
// IndexURL, ExtraIndexURLs) that has it, plus every find-links location.
// When none has it the error is a *NotFoundError (errors.Is ErrNotFound).
// Results are memoised for the client's lifetime: a project is looked up
// once, and while the answer can be read again from the disk cache, the
// memo holds it weakly, so that a long run (a project build) does not keep
// every page it ever read in memory; a page let go is read again from the
// disk cache as it was, without asking the index.
func (c *Client) Project(ctx context.Context, name string) (*Project, error) {
	if !names.Valid(name) {
		return nil, fmt.Errorf("looking up project %q: not a valid project name (PEP 508 names are letters, digits, '-', '_' and '.')", name)
	}
	canon := names.Canonical(name)
	for {
		c.mu.Lock()
		call, ok := c.projects[canon]
		if !ok {
			return c.lookupOnce(ctx, canon, false) // unlocks c.mu
		}
		c.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if call.err != nil {
			return nil, call.err
		}
		if p := call.value(); p != nil {
			return p.clone(), nil
		}
		// Collected: read it again from the disk cache, once.
		c.mu.Lock()
		if c.projects[canon] == call {
			return c.lookupOnce(ctx, canon, true) // unlocks c.mu
		}
		c.mu.Unlock()
	}
}

// lookupOnce makes canon's call the one every other caller waits for, looks
// the project up (from the disk cache alone when fromDisk) and settles the
// call. The caller holds c.mu; lookupOnce releases it before looking up.
func (c *Client) lookupOnce(ctx context.Context, canon string, fromDisk bool) (*Project, error) {
	call := &projectCall{done: make(chan struct{})}
	c.projects[canon] = call
	c.mu.Unlock()
	p, reread, err := c.lookup(ctx, canon, fromDisk)
	c.settle(canon, call, p, reread, err)
	if err != nil {
		return nil, err
	}
	return p.clone(), nil
}

// settle records a lookup's answer: errors are not memoised; an answer the
// disk cache can give again is held weakly, any other strongly.
func (c *Client) settle(canon string, call *projectCall, p *Project, reread bool, err error) {
	call.err = err
	switch {
	case err != nil:
		c.mu.Lock()
		delete(c.projects, canon)
		c.mu.Unlock()
	case reread:
		call.weak = weak.Make(p)
	default:
		call.p = p
	}
	close(call.done)
}

func (call *projectCall) value() *Project {
	if call.p != nil {
		return call.p
	}
	return call.weak.Value()
}

// clone hands out a copy, so callers may sort or filter freely.
func (p *Project) clone() *Project {
	q := *p
	q.Files = append([]File(nil), p.Files...)
	return &q
}

// lookup finds a project; reread says whether the disk cache holds the
// page it came from, so that it can be read again as it was. fromDisk reads
// the cached page whatever its age.
func (c *Client) lookup(ctx context.Context, canon string, fromDisk bool) (*Project, bool, error) {
	p := &Project{Name: canon}
	found, reread := false, false
	for _, ix := range c.cfg.Indexes() {
		d, err := c.projectPage(ctx, ix, canon, fromDisk)
		if errors.Is(err, errPageNotFound) {
			c.log.Debug("project not on index", "project", canon, "index", Redact(ix))
			continue
		}
		if err != nil {
			return nil, false, err
		}
		p.Index = Redact(ix)
		for i := range d.Files {
			d.Files[i].Index = p.Index
		}
		p.Files, p.Versions, p.Elsewhere, found, reread = d.Files, d.Versions, d.Elsewhere, true, d.stored
		c.log.Debug("project found", "project", canon, "index", p.Index, "files", len(d.Files))
		break // the first index that has a project is the only one used for it
	}
	for _, fl := range c.cfg.FindLinks {
		files, err := c.findLinks(ctx, fl)
		if err != nil {
			return nil, false, err
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
		return nil, false, e
	}
	return p, reread, nil
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
func (c *Client) projectPage(ctx context.Context, indexURL, canon string, fromDisk bool) (*pageData, error) {
	pageURL := ensureSlash(indexURL) + canon + "/"
	d, notFound, err := c.cachedGet(ctx, pageURL, acceptPages, "the index page", Event{Project: canon}, fromDisk, parseProjectPage)
	if err != nil {
		return nil, &Error{Op: "fetching the project page", Index: Redact(indexURL), Package: canon, URL: Redact(pageURL), Err: err}
	}
	if notFound {
		return nil, errPageNotFound
	}
	return d, nil
}

// pageParser reads a page's body of content type ct, served from final, as
// a stream. It reports malformed pages with ErrMalformed or ErrContentType;
// an error reading body is returned as it is.
type pageParser func(ct string, final *url.URL, body io.Reader) (*pageData, error)

// parseProjectPage parses a project page: PEP 691 JSON as it streams in,
// PEP 503 HTML once read; either way only the files a Lambda target may
// use are kept (lambda.go).
func parseProjectPage(ct string, final *url.URL, body io.Reader) (*pageData, error) {
	switch pageKind(ct) {
	case "json":
		return parseJSONStream(body, final)
	case "html":
		b, err := io.ReadAll(body)
		if err != nil {
			return nil, err
		}
		files, err := parseHTMLPage(b, final)
		if err != nil {
			return nil, err
		}
		d := &pageData{}
		d.Files, d.Elsewhere = filterFiles(files)
		return d, nil
	}
	return nil, fmt.Errorf("%w %q (want %s or text/html; is this a simple index URL?)", ErrContentType, ct, jsonType)
}

// pageBody counts and bounds a page's body as it is read: past limit it
// fails with a tooLargeError, and short of a declared length with
// ErrTruncated. readErr records that the failure was the body's, not the
// parser's.
type pageBody struct {
	r        io.Reader
	n, limit int64
	declared int64
	what     string
	hint     string
	readErr  error
}

func (b *pageBody) Read(p []byte) (int, error) {
	if b.readErr != nil {
		return 0, b.readErr
	}
	if left := b.limit + 1 - b.n; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	switch {
	case b.n > b.limit:
		b.readErr = &tooLargeError{what: b.what, limit: b.limit, declared: -1, hint: b.hint}
		return 0, b.readErr
	case err == io.EOF && b.declared >= 0 && b.n != b.declared,
		errors.Is(err, io.ErrUnexpectedEOF):
		b.readErr = fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, b.n, b.declared)
		return n, b.readErr
	case err != nil && err != io.EOF:
		b.readErr = err
	}
	return n, err
}

// cachedGet GETs a page through the on-disk cache: a fresh entry (max-age)
// is used as is, a stale one is revalidated with ETag / Last-Modified. The
// body is parsed as it streams in, and only the parsed, compact form is
// stored; nothing that fails to parse (or is past the page size limit) is.
// notFound is true for 404 and 410. Credentials never reach the disk:
// entries are keyed and labelled by the URL without its userinfo, and an
// entry that would hold a known secret is not stored. fromDisk takes a
// cached entry whatever its age (a page read again within one run). The
// answer's stored field says whether the disk cache holds it.
func (c *Client) cachedGet(ctx context.Context, rawURL, accept, what string, ev Event, fromDisk bool, parse pageParser) (d *pageData, notFound bool, err error) {
	ev.Kind, ev.URL = EventPage, Redact(rawURL)
	defer func() {
		if err == nil {
			c.report(ev)
		}
	}()
	bare := stripUserinfo(rawURL)
	k := key("page", bare, accept)
	now := time.Now()
	e, form := c.cache.loadPage(k)
	var stale *pageData
	if e != nil && e.Status != http.StatusNotFound {
		if stale, err = decodePage(form); err != nil {
			c.cache.dropPage(k)
			e, stale = nil, nil
		}
	}
	if e != nil && (c.offline || fromDisk || e.fresh(now)) {
		ev.Cached = true
		if e.Status == http.StatusNotFound {
			return nil, true, nil
		}
		c.log.Debug("index page from cache", "url", Redact(rawURL))
		stale.stored = true
		return stale, false, nil
	}
	if e != nil && e.Status == http.StatusNotFound {
		e = nil
	}
	if c.offline {
		return nil, false, fmt.Errorf("%w (run once without --offline to fill the cache)", ErrOffline)
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
	hint := "set " + netlimit.EnvMaxPageSize + " if your index really serves pages this large"
	var fresh *pageData
	stream := func(body io.Reader, resp *http.Response) ([]byte, error) {
		if resp.ContentLength > c.lim.MaxPageSize {
			return nil, &tooLargeError{what: what, limit: c.lim.MaxPageSize, declared: resp.ContentLength, hint: hint}
		}
		pb := &pageBody{r: body, limit: c.lim.MaxPageSize, declared: resp.ContentLength, what: what, hint: hint}
		final, err := url.Parse(stripUserinfo(resp.Request.URL.String()))
		if err != nil {
			return nil, &permanentError{err}
		}
		fresh, err = parse(resp.Header.Get("Content-Type"), final, pb)
		ev.Bytes = pb.n
		if err != nil && pb.readErr == nil {
			// The whole body is read before a page is judged malformed: a
			// body cut short or stalled is the network's fault, retried.
			_, _ = io.Copy(io.Discard, pb)
			ev.Bytes = pb.n
		}
		if err != nil {
			if pb.readErr != nil {
				return nil, pb.readErr
			}
			return nil, &permanentError{err}
		}
		if _, err := io.Copy(io.Discard, pb); err != nil {
			return nil, err // a truncated or oversized tail
		}
		return nil, nil
	}
	resp, err := c.fetchAll(ctx, rawURL, hdr, getOpts{what: what, limit: c.lim.MaxPageSize, hint: hint, whole: stream})
	if err != nil {
		var pe *permanentError
		if errors.As(err, &pe) {
			err = pe.err
		}
		return nil, false, err
	}
	maxAge, noStore, noCache := cacheControl(resp.Header, int(c.heuristic/time.Second))
	switch resp.Status {
	case http.StatusNotModified:
		if e == nil {
			return nil, false, fmt.Errorf("server answered 304 Not Modified to an unconditional request")
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
		} else if err := c.cache.storePage(k, e, form); err != nil {
			c.log.Warn("not caching index page", "err", err)
		} else {
			stale.stored = true
		}
		return stale, false, nil
	case http.StatusOK:
		if fresh == nil {
			return nil, false, fmt.Errorf("no page body was read")
		}
		if noStore || c.cache == nil {
			c.cache.dropPage(k)
			return fresh, false, nil
		}
		form := encodePage(fresh)
		if c.auth.holdsSecret(form) {
			c.cache.dropPage(k)
			return fresh, false, nil
		}
		ne := &cacheEntry{URL: bare, FinalURL: resp.FinalURL, Status: 200, ContentType: resp.Header.Get("Content-Type"),
			ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
			StoredAt: now, MaxAge: maxAge, NoCache: noCache}
		if err := c.cache.storePage(k, ne, form); err != nil {
			c.log.Warn("not caching index page", "err", err)
		} else {
			fresh.stored = true
		}
		return fresh, false, nil
	case http.StatusNotFound, http.StatusGone:
		if !noStore {
			// No heuristic freshness for a miss: a project published a
			// minute later must be seen.
			realMaxAge, _, _ := cacheControl(resp.Header, 0)
			ne := &cacheEntry{URL: bare, FinalURL: resp.FinalURL, Status: http.StatusNotFound, StoredAt: now, MaxAge: realMaxAge, NoCache: noCache}
			_ = c.cache.storePage(k, ne, nil)
		}
		return nil, true, nil
	}
	return nil, false, &statusError{Status: resp.Status}
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
		parse := func(ct string, final *url.URL, body io.Reader) (*pageData, error) {
			if k := pageKind(ct); k != "html" {
				return nil, fmt.Errorf("%w %q (a find-links page must be HTML)", ErrContentType, ct)
			}
			b, err := io.ReadAll(body)
			if err != nil {
				return nil, err
			}
			files, err := parseHTMLPage(b, final)
			if err != nil {
				return nil, err
			}
			// A flat page lists many projects: the summary of what was
			// left out cannot be told apart by project, so none is kept.
			var pf pageFilter
			d := &pageData{}
			for _, f := range files {
				if isDistFile(f.Filename) && pf.keep(f.Filename) {
					d.Files = append(d.Files, f)
				}
			}
			return d, nil
		}
		d, notFound, err := c.cachedGet(ctx, loc, "text/html", "the find-links page", Event{}, false, parse)
		if err == nil && notFound {
			err = &statusError{Status: http.StatusNotFound}
		}
		if err != nil {
			return nil, &Error{Op: "reading the find-links page", Index: Redact(loc), Err: err}
		}
		out := make([]File, 0, len(d.Files))
		for _, f := range d.Files {
			f.Index = Redact(loc)
			out = append(out, f)
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
			files, _ = filterFiles(files)
			for i := range files {
				files[i].Index = loc
			}
			return files, nil
		}
		var pf pageFilter
		if isDistFile(abs) && pf.keep(filepath.Base(abs)) {
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
	var pf pageFilter
	for _, e := range entries {
		if e.IsDir() || !isDistFile(e.Name()) || !pf.keep(e.Name()) {
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
