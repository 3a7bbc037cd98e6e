package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Payload formats of API Gateway's Lambda proxy integrations.
const (
	Format1 = "1.0" // REST APIs (and HTTP APIs that ask for it)
	Format2 = "2.0" // HTTP APIs and function URLs
)

// HTTPRequest is one HTTP request to an API, with how the API routed it.
type HTTPRequest struct {
	Method   string
	Path     string // the raw path, "/items/42"
	RawQuery string // without "?"
	Header   http.Header
	Body     []byte
	SourceIP string
	Protocol string // "HTTP/1.1"

	// Resource is the REST API's resource ("/items/{id}"); RouteKey the
	// HTTP API's route ("GET /items/{id}", "$default").
	Resource, RouteKey string
	PathParameters     map[string]string
	StageVariables     map[string]string
	Stage              string // "$default" for HTTP APIs and function URLs

	// FunctionURL makes a 2.0 event a function URL's (no route, no stage
	// variables, a lambda-url domain).
	FunctionURL bool

	RequestID, APIID string
	Region, Account  string
	Time             time.Time
}

func (r *HTTPRequest) defaults() {
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	if r.Path == "" {
		r.Path = "/"
	}
	if r.Protocol == "" {
		r.Protocol = "HTTP/1.1"
	}
	if r.SourceIP == "" {
		r.SourceIP = "127.0.0.1"
	}
	if r.Region == "" {
		r.Region = "us-east-1"
	}
	if r.Account == "" {
		r.Account = "123456789012"
	}
	if r.APIID == "" {
		r.APIID = "1234567890"
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if r.RequestID == "" {
		r.RequestID = deterministicID("request", r.Method, r.Path, r.RawQuery, r.Time.String())
	}
	if r.Stage == "" {
		r.Stage = "$default"
	}
}

// requestTime is API Gateway's "12/Mar/2020:19:03:58 +0000".
func requestTime(t time.Time) string { return t.UTC().Format("02/Jan/2006:15:04:05 -0700") }

// body returns the body as the event holds it: text as it is, anything else
// base64-encoded (isBase64Encoded true).
func (r *HTTPRequest) body() (*string, bool) {
	if len(r.Body) == 0 {
		return nil, false
	}
	if isText(r.Header.Get("Content-Type")) && utf8.Valid(r.Body) {
		s := string(r.Body)
		return &s, false
	}
	s := base64.StdEncoding.EncodeToString(r.Body)
	return &s, true
}

// isText reports whether a content type is textual (JSON, XML, form data,
// text/*), or absent.
func isText(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "xml") ||
		mt == "application/x-www-form-urlencoded" || mt == "application/javascript" || mt == "application/graphql"
}

// V1Request is API Gateway's payload format 1.0 (a REST API's proxy event).
type V1Request struct {
	// Version is "1.0" in an HTTP API's 1.0 event; a REST API's has none.
	Version                         string              `json:"version,omitempty"`
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	RequestContext                  V1Context           `json:"requestContext"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

// V1Context is a 1.0 event's requestContext.
type V1Context struct {
	AccountID         string     `json:"accountId"`
	APIID             string     `json:"apiId"`
	DomainName        string     `json:"domainName"`
	DomainPrefix      string     `json:"domainPrefix"`
	ExtendedRequestID string     `json:"extendedRequestId"`
	HTTPMethod        string     `json:"httpMethod"`
	Identity          V1Identity `json:"identity"`
	Path              string     `json:"path"`
	Protocol          string     `json:"protocol"`
	RequestID         string     `json:"requestId"`
	RequestTime       string     `json:"requestTime"`
	RequestTimeEpoch  int64      `json:"requestTimeEpoch"`
	ResourceID        string     `json:"resourceId"`
	ResourcePath      string     `json:"resourcePath"`
	Stage             string     `json:"stage"`
}

// V1Identity is the caller's identity in a 1.0 event (all null but the
// source address and user agent for an unauthenticated call).
type V1Identity struct {
	AccessKey                     *string `json:"accessKey"`
	AccountID                     *string `json:"accountId"`
	Caller                        *string `json:"caller"`
	CognitoAuthenticationProvider *string `json:"cognitoAuthenticationProvider"`
	CognitoAuthenticationType     *string `json:"cognitoAuthenticationType"`
	CognitoIdentityID             *string `json:"cognitoIdentityId"`
	CognitoIdentityPoolID         *string `json:"cognitoIdentityPoolId"`
	PrincipalOrgID                *string `json:"principalOrgId"`
	SourceIP                      string  `json:"sourceIp"`
	User                          *string `json:"user"`
	UserAgent                     string  `json:"userAgent"`
	UserArn                       *string `json:"userArn"`
}

// V1 returns r as a REST API's proxy event (payload format 1.0), or an HTTP
// API's 1.0 event when r has a RouteKey.
func V1(r HTTPRequest) *V1Request {
	if r.Stage == "" {
		r.Stage = "Prod"
	}
	r.defaults()
	resource := r.Resource
	if resource == "" {
		resource = r.Path
	}
	ev := &V1Request{
		Resource: resource, Path: r.Path, HTTPMethod: r.Method,
		PathParameters: nilIfEmpty(r.PathParameters), StageVariables: nilIfEmpty(r.StageVariables),
	}
	if r.RouteKey != "" {
		ev.Version = Format1
	}
	if len(r.Header) > 0 {
		ev.Headers, ev.MultiValueHeaders = map[string]string{}, map[string][]string{}
		for k, vs := range r.Header {
			ev.Headers[k] = vs[len(vs)-1]
			ev.MultiValueHeaders[k] = slices.Clone(vs)
		}
	}
	if q, err := url.ParseQuery(r.RawQuery); err == nil && len(q) > 0 {
		ev.QueryStringParameters, ev.MultiValueQueryStringParameters = map[string]string{}, map[string][]string{}
		for k, vs := range q {
			ev.QueryStringParameters[k] = vs[len(vs)-1]
			ev.MultiValueQueryStringParameters[k] = vs
		}
	}
	ev.Body, ev.IsBase64Encoded = r.body()
	domain := r.APIID + ".execute-api." + r.Region + ".amazonaws.com"
	ev.RequestContext = V1Context{
		AccountID: r.Account, APIID: r.APIID, DomainName: domain, DomainPrefix: r.APIID,
		ExtendedRequestID: r.RequestID, HTTPMethod: r.Method,
		Identity: V1Identity{SourceIP: r.SourceIP, UserAgent: r.Header.Get("User-Agent")},
		Path:     stagePath(r.Stage, r.Path), Protocol: r.Protocol, RequestID: r.RequestID,
		RequestTime: requestTime(r.Time), RequestTimeEpoch: r.Time.UnixMilli(),
		ResourceID: deterministicID("resource", resource)[:6], ResourcePath: resource, Stage: r.Stage,
	}
	return ev
}

// stagePath is the path as the API's URL has it: after the stage, except
// for the $default stage, whose URL has none.
func stagePath(stage, path string) string {
	if stage == "$default" {
		return path
	}
	return "/" + stage + path
}

// V2Request is payload format 2.0 (an HTTP API's or a function URL's event).
type V2Request struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        V2Context         `json:"requestContext"`
	Body                  *string           `json:"body,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
}

// V2Context is a 2.0 event's requestContext.
type V2Context struct {
	AccountID    string `json:"accountId"`
	APIID        string `json:"apiId"`
	DomainName   string `json:"domainName"`
	DomainPrefix string `json:"domainPrefix"`
	HTTP         V2HTTP `json:"http"`
	RequestID    string `json:"requestId"`
	RouteKey     string `json:"routeKey"`
	Stage        string `json:"stage"`
	Time         string `json:"time"`
	TimeEpoch    int64  `json:"timeEpoch"`
}

// V2HTTP describes the request in a 2.0 event's requestContext.
type V2HTTP struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// V2 returns r as an HTTP API's event (payload format 2.0), or a function
// URL's when r.FunctionURL is set.
func V2(r HTTPRequest) *V2Request {
	r.defaults()
	route := r.RouteKey
	if route == "" || r.FunctionURL {
		route = "$default"
	}
	ev := &V2Request{
		Version: "2.0", RouteKey: route, RawPath: r.Path, RawQueryString: r.RawQuery,
		Headers: map[string]string{}, PathParameters: nilIfEmpty(r.PathParameters), StageVariables: nilIfEmpty(r.StageVariables),
	}
	for k, vs := range r.Header {
		k = strings.ToLower(k)
		if k == "cookie" {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[k] = strings.Join(vs, ",")
	}
	if q, err := url.ParseQuery(r.RawQuery); err == nil && len(q) > 0 {
		ev.QueryStringParameters = map[string]string{}
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	ev.Body, ev.IsBase64Encoded = r.body()
	domain := r.APIID + ".execute-api." + r.Region + ".amazonaws.com"
	if r.FunctionURL {
		domain = r.APIID + ".lambda-url." + r.Region + ".on.aws"
		ev.PathParameters, ev.StageVariables = nil, nil
	}
	ev.RequestContext = V2Context{
		AccountID: r.Account, APIID: r.APIID, DomainName: domain, DomainPrefix: r.APIID,
		HTTP:      V2HTTP{Method: r.Method, Path: r.Path, Protocol: r.Protocol, SourceIP: r.SourceIP, UserAgent: r.Header.Get("User-Agent")},
		RequestID: r.RequestID, RouteKey: route, Stage: r.Stage,
		Time: requestTime(r.Time), TimeEpoch: r.Time.UnixMilli(),
	}
	if r.FunctionURL {
		ev.RequestContext.Stage = "$default"
	}
	return ev
}

func nilIfEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// HTTPResponse is what the API answers the client.
type HTTPResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// BadGateway is what API Gateway answers when the function failed or its
// answer is not a proxy response (REST APIs spell the message in lower
// case).
func BadGateway(format string) HTTPResponse {
	msg := `{"message":"Internal Server Error"}`
	if format == Format1 {
		msg = `{"message": "Internal server error"}`
	}
	return HTTPResponse{Status: http.StatusBadGateway, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(msg)}
}

// proxyResponse is a function's answer to a proxy event.
type proxyResponse struct {
	StatusCode        *int                       `json:"statusCode"`
	Headers           map[string]json.RawMessage `json:"headers"`
	MultiValueHeaders map[string][]string        `json:"multiValueHeaders"`
	Cookies           []string                   `json:"cookies"`
	Body              *json.RawMessage           `json:"body"`
	IsBase64Encoded   bool                       `json:"isBase64Encoded"`
}

// Response turns a function's answer to a proxy event into the HTTP
// response, as API Gateway does for format: for 1.0, the answer must be a
// {statusCode, headers, multiValueHeaders, body, isBase64Encoded} object;
// for 2.0, an answer without statusCode is taken as a JSON body with status
// 200. An answer that does not fit gives the error that says why, and the
// caller answers BadGateway.
func Response(payload []byte, format string) (HTTPResponse, error) {
	out := HTTPResponse{Status: http.StatusOK, Header: http.Header{}}
	trimmed := bytes.TrimSpace(payload)
	var pr proxyResponse
	isObject := len(trimmed) > 0 && trimmed[0] == '{'
	if isObject {
		if err := json.Unmarshal(trimmed, &pr); err != nil {
			return out, fmt.Errorf("the function's answer is not a proxy response: %w", err)
		}
	}
	if format == Format2 && (!isObject || pr.StatusCode == nil) {
		// An HTTP API or function URL infers the response.
		if !json.Valid(trimmed) {
			return out, fmt.Errorf("the function's answer is not JSON")
		}
		out.Header.Set("Content-Type", "application/json")
		if len(trimmed) > 0 && trimmed[0] == '"' {
			var s string
			_ = json.Unmarshal(trimmed, &s)
			out.Body = []byte(s)
		} else {
			out.Body = trimmed
		}
		return out, nil
	}
	if !isObject || pr.StatusCode == nil {
		return out, fmt.Errorf("the function's answer has no statusCode (a REST API's proxy integration needs {\"statusCode\": 200, \"body\": \"...\"})")
	}
	if *pr.StatusCode < 100 || *pr.StatusCode > 599 {
		return out, fmt.Errorf("the function's answer has statusCode %d", *pr.StatusCode)
	}
	out.Status = *pr.StatusCode
	for k, raw := range pr.Headers {
		v, err := scalar(raw)
		if err != nil {
			return out, fmt.Errorf("header %s: %w", k, err)
		}
		out.Header.Set(k, v)
	}
	for k, vs := range pr.MultiValueHeaders {
		out.Header.Del(k)
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	for _, c := range pr.Cookies {
		out.Header.Add("Set-Cookie", c)
	}
	if pr.Body != nil {
		var s string
		if err := json.Unmarshal(*pr.Body, &s); err != nil {
			if format == Format1 {
				return out, fmt.Errorf("the answer's body is not a string")
			}
			s = string(*pr.Body)
		}
		if pr.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return out, fmt.Errorf("the answer says isBase64Encoded but its body is not base64: %w", err)
			}
			out.Body = b
		} else {
			out.Body = []byte(s)
		}
	}
	if format == Format2 && out.Header.Get("Content-Type") == "" && len(out.Body) > 0 {
		out.Header.Set("Content-Type", "application/json")
	}
	return out, nil
}

// scalar reads a header value: a string, number or boolean.
func scalar(raw json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("not a string")
}
