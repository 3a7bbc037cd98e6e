package invoke

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/events"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/runtimeapi"
)

// Gateway answers HTTP requests as API Gateway and function URLs do: it
// matches the request to a route, sends the function the event of the
// route's payload format, and turns the answer into the HTTP response.
type Gateway struct {
	Routes []Route
	// URLs are the functions with a function URL: each answers requests
	// whose Host is <name>.localhost (and every request, when no route is
	// defined and only one function has a URL).
	URLs []string
	// Table, when set, gives the routes and URLs for each request in place
	// of Routes and URLs (serve --watch: a config edit changes them).
	Table  func() (routes []Route, urls []string)
	Invoke func(ctx context.Context, function string, payload []byte) (*runtimeapi.Result, error)
	Region string
	// Log hears why a request got a 502 (the function's answer did not
	// fit its payload format).
	Log io.Writer
}

// Route is one HTTP route to a function: one of the function's API Gateway
// events in the project model (app.Routes makes them). A PayloadFormat of
// "" is 2.0; a Stage of "" is "Prod" for a REST API, "$default" for an HTTP
// API.
type Route struct {
	Function string
	project.Route
}

// REST reports whether the route is a REST API's (payload 1.0, 403 where
// no route matches).
func (r Route) REST() bool { return r.API == project.APIREST }

func (r Route) format() string {
	if r.PayloadFormat == "" {
		return events.Format2
	}
	return r.PayloadFormat
}

type match struct {
	route  Route
	params map[string]string
}

// Match finds the route for a method and path, as API Gateway chooses:
// the route with the most literal segments, a method over ANY, a greedy
// {proxy+} last, and an HTTP API's $default when nothing else matches.
func (g *Gateway) Match(method, path string) (Route, map[string]string, bool) {
	routes, _ := g.table()
	return matchRoute(routes, method, path)
}

func (g *Gateway) table() ([]Route, []string) {
	if g.Table != nil {
		return g.Table()
	}
	return g.Routes, g.URLs
}

func matchRoute(routes []Route, method, path string) (Route, map[string]string, bool) {
	var best *match
	bestScore := -1
	for _, r := range routes {
		if r.Path == "" {
			continue
		}
		if r.Method != "ANY" && r.Method != method {
			continue
		}
		params, literal, greedy, ok := matchPath(r.Path, path)
		if !ok {
			continue
		}
		score := literal * 4
		if !greedy {
			score += 2
		}
		if r.Method != "ANY" {
			score++
		}
		if score > bestScore {
			best, bestScore = &match{r, params}, score
		}
	}
	if best != nil {
		return best.route, best.params, true
	}
	for _, r := range routes {
		if r.Path == "" {
			return r, nil, true
		}
	}
	return Route{}, nil, false
}

// matchPath matches path against a template ("/items/{id}",
// "/files/{path+}").
func matchPath(template, path string) (params map[string]string, literal int, greedy, ok bool) {
	ts := splitPath(template)
	ps := splitPath(path)
	for i, t := range ts {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "+}") {
			if i >= len(ps) {
				return nil, 0, false, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[t[1:len(t)-2]] = strings.Join(ps[i:], "/")
			return params, literal, true, true
		}
		if i >= len(ps) {
			return nil, 0, false, false
		}
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if params == nil {
				params = map[string]string{}
			}
			v, err := url.PathUnescape(ps[i])
			if err != nil {
				v = ps[i]
			}
			params[t[1:len(t)-1]] = v
			continue
		}
		if t != ps[i] {
			return nil, 0, false, false
		}
		literal++
	}
	return params, literal, false, len(ts) == len(ps)
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	req := events.HTTPRequest{
		Method: r.Method, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Protocol: r.Proto,
		Region: g.Region, Time: time.Now(),
	}
	req.Header.Set("Host", r.Host)
	if ip, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		req.SourceIP = ip
		req.Header.Set("X-Forwarded-For", ip)
		_, sport, _ := net.SplitHostPort(r.Host)
		if sport == "" {
			sport = port
		}
		req.Header.Set("X-Forwarded-Port", sport)
		req.Header.Set("X-Forwarded-Proto", "http")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, runtimeapi.MaxRequestPayload+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return
	}
	if len(body) > runtimeapi.MaxRequestPayload {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	req.Body = body

	var function, format string
	var payload []byte
	routes, urls := g.table()
	if name, ok := urlFunction(routes, urls, host); ok {
		function, format = name, events.Format2
		req.Path = r.URL.EscapedPath()
		req.FunctionURL = true
		req.APIID = urlID(name)
		payload = mustMarshal(events.V2(req))
	} else {
		route, params, ok := matchRoute(routes, r.Method, r.URL.Path)
		if !ok {
			if len(routes) > 0 && allREST(routes) {
				writeMessage(w, http.StatusForbidden, "Missing Authentication Token")
			} else {
				writeMessage(w, http.StatusNotFound, "Not Found")
			}
			return
		}
		function, format = route.Function, route.format()
		req.PathParameters = params
		req.Stage = route.Stage
		if route.REST() {
			req.Resource, req.Path = route.Path, r.URL.Path
		} else {
			if req.Stage == "" {
				req.Stage = "$default"
			}
			req.RouteKey = route.String()
			if route.Path == "" {
				req.RouteKey = "$default"
			}
			req.Path, req.Resource = r.URL.EscapedPath(), route.Path
			if format == events.Format1 {
				req.Path = r.URL.Path
				if req.Resource == "" {
					req.Resource = "$default"
				}
			}
		}
		if format == events.Format1 {
			payload = mustMarshal(events.V1(req))
		} else {
			payload = mustMarshal(events.V2(req))
		}
	}
	res, err := g.Invoke(r.Context(), function, payload)
	if err != nil {
		if r.Context().Err() == nil {
			g.logf("%s %s: %s: %v", r.Method, r.URL.Path, function, err)
			bg := events.BadGateway(format)
			writeResponse(w, bg)
		}
		return
	}
	if res.Failed() {
		writeResponse(w, events.BadGateway(format))
		return
	}
	out, err := events.Response(res.Payload, format)
	if err != nil {
		g.logf("%s %s: %s answered a 502: %v", r.Method, r.URL.Path, function, err)
		writeResponse(w, events.BadGateway(format))
		return
	}
	writeResponse(w, out)
}

// urlFunction finds the function whose URL the host names.
func urlFunction(routes []Route, urls []string, host string) (string, bool) {
	if len(urls) == 0 {
		return "", false
	}
	if first, _, ok := strings.Cut(host, "."); ok {
		for _, n := range urls {
			if strings.EqualFold(n, first) {
				return n, true
			}
		}
	}
	if len(routes) == 0 && len(urls) == 1 {
		return urls[0], true
	}
	return "", false
}

// urlID is a function URL's id for a function name: 32 lower-case letters
// and digits.
func urlID(name string) string {
	id := strings.ToLower(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, name))
	return (id + strings.Repeat("0", 32))[:32]
}

func allREST(rs []Route) bool {
	return !slices.ContainsFunc(rs, func(r Route) bool { return !r.REST() })
}

func (g *Gateway) logf(format string, args ...any) {
	if g.Log != nil {
		fmt.Fprintf(g.Log, format+"\n", args...)
	}
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(mustMarshal(map[string]string{"message": msg}), '\n'))
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// writeResponse writes the function's answer. Without a Content-Type of
// its own, the answer is application/json, as API Gateway says it (never
// what Go would sniff from the body).
func writeResponse(w http.ResponseWriter, res events.HTTPResponse) {
	for k, vs := range res.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(res.Status)
	_, _ = w.Write(res.Body)
}
