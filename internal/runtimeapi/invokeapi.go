package runtimeapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Lookup finds a function by name.
type Lookup func(name string) (*Function, bool)

// InvokeAPI serves Lambda's Invoke operation over the functions lookup
// finds, so that SDKs and the aws CLI pointed at it (endpoint_url,
// --endpoint-url) work unchanged.
type InvokeAPI struct {
	Lookup Lookup
	// Names lists the functions served, for the error about one that is
	// not (nil: not listed).
	Names func() []string
	// Background bounds Event (asynchronous) invocations; nil means
	// context.Background().
	Background context.Context
}

// ServeHTTP implements http.Handler.
func (a *InvokeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2015-03-31/functions/"
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, "/invocations") {
		writeAPIError(w, http.StatusNotFound, "UnknownOperationException",
			fmt.Sprintf("%s %s: this endpoint serves only Lambda's Invoke operation (POST %s{name}/invocations)", r.Method, r.URL.Path, prefix))
		return
	}
	if r.Method != http.MethodPost {
		writeAPIError(w, http.StatusMethodNotAllowed, "UnknownOperationException", r.Method+" "+r.URL.Path+": Invoke is a POST")
		return
	}
	raw := strings.TrimSuffix(strings.TrimPrefix(p, prefix), "/invocations")
	ref, err := url.PathUnescape(raw)
	if err != nil || ref == "" || strings.Contains(ref, "/") {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("%q is not a function name or ARN", raw))
		return
	}
	name := FunctionName(ref)
	fn, ok := a.Lookup(name)
	if !ok {
		msg := fmt.Sprintf("Function not found: arn:aws:lambda:us-east-1:123456789012:function:%s", name)
		if a.Names != nil {
			msg += fmt.Sprintf(" (this endpoint serves %s)", strings.Join(a.Names(), ", "))
		}
		writeAPIError(w, http.StatusNotFound, "ResourceNotFoundException", msg)
		return
	}

	typ := r.Header.Get("X-Amz-Invocation-Type")
	limit := int64(MaxRequestPayload)
	switch typ {
	case "", "RequestResponse", "DryRun":
	case "Event":
		limit = MaxAsyncPayload
	default:
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterValueException",
			fmt.Sprintf("X-Amz-Invocation-Type %q: use RequestResponse, Event or DryRun", typ))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", "reading the request body: "+err.Error())
		return
	}
	if int64(len(body)) > limit {
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
			fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", limit))
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if err := checkJSON(body); err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json: "+err.Error())
		return
	}
	inv := Invocation{Payload: body}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		dec, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(dec) {
			writeAPIError(w, http.StatusBadRequest, "InvalidParameterValueException", "X-Amz-Client-Context must be a base64-encoded JSON object")
			return
		}
		inv.ClientContext = string(dec)
	}
	if typ == "DryRun" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if typ == "Event" {
		inv.RequestID = newID()
		bg := a.Background
		if bg == nil {
			bg = context.Background()
		}
		go func() { _, _ = fn.Invoke(bg, inv) }()
		w.Header().Set("X-Amzn-Requestid", inv.RequestID)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	res, err := fn.Invoke(r.Context(), inv)
	if err != nil {
		if r.Context().Err() != nil {
			return // the caller left
		}
		writeAPIError(w, http.StatusBadGateway, "ServiceException", fmt.Sprintf("invoking %s: %v", name, err))
		return
	}
	h := w.Header()
	h.Set("X-Amzn-Requestid", res.RequestID)
	h.Set("X-Amz-Executed-Version", fn.Config().Version)
	ct := res.ContentType
	if ct == "" {
		ct = "application/json"
	}
	h.Set("Content-Type", ct)
	if res.Failed() {
		h.Set("X-Amz-Function-Error", "Unhandled")
	}
	if strings.EqualFold(r.Header.Get("X-Amz-Log-Type"), "Tail") {
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(res.LogTail))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Payload)
}

// FunctionName returns the function name in a name, a partial ARN
// (123456789012:function:name) or a full ARN, with any qualifier
// (name:alias) dropped.
func FunctionName(ref string) string {
	parts := strings.Split(ref, ":")
	for i, p := range parts {
		if p == "function" && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return parts[0]
}

// checkJSON says where body stops being JSON.
func checkJSON(body []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after the JSON value at byte %d", dec.InputOffset())
	}
	return nil
}

// writeAPIError answers as the Lambda API does: the error's type in
// X-Amzn-Errortype and a JSON body with Type and message.
func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", typ)
	h.Set("X-Amzn-Requestid", newID())
	w.WriteHeader(status)
	kind := "User"
	if status >= 500 {
		kind = "Service"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": kind, "message": msg})
}
