package runtimeapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"
)

// Lambda's payload limits.
const (
	// MaxRequestPayload is the largest event a synchronous invocation takes.
	MaxRequestPayload = 6 * 1024 * 1024 // 6,291,456 bytes
	// MaxResponsePayload is the largest result a runtime may post.
	MaxResponsePayload = 6*1024*1024 + 100 // 6,291,556 bytes
	// MaxAsyncPayload is the largest event an asynchronous (Event) invocation takes.
	MaxAsyncPayload = 1024 * 1024 // 1 MiB since 2025; 256 KB before
	// LogTailBytes is how much of an invocation's log X-Amz-Log-Result holds.
	LogTailBytes = 4096
)

// Error types Lambda itself reports (the function's own come from its runtime).
const (
	ErrorTypeTimeout         = "Sandbox.Timedout"
	ErrorTypeExit            = "Runtime.ExitError"
	ErrorTypeResponseTooBig  = "Function.ResponseSizeTooLarge"
	ErrorTypeInitTimeout     = "Runtime.InitTimeout"
	ErrorTypeUnknown         = "Runtime.Unknown"
	ErrorTypeInvalidResponse = "Runtime.InvalidResponseModeHeader"
)

// Invocation is one event for a function.
type Invocation struct {
	// RequestID is the invocation's id; "" makes a new one.
	RequestID string
	Payload   []byte
	// ClientContext and CognitoIdentity are JSON documents passed to the
	// runtime as they are ("" for none).
	ClientContext   string
	CognitoIdentity string
	// TraceID is the X-Ray trace header; "" makes a new one.
	TraceID string
}

// Status says how an invocation ended.
type Status string

// Statuses of an invocation.
const (
	StatusSuccess Status = "success"
	// StatusError: the function (or its runtime, or its init) failed.
	StatusError Status = "error"
	// StatusTimeout: the function ran past its timeout and was stopped.
	StatusTimeout Status = "timeout"
)

// Result is what an invocation returned and what it cost.
type Result struct {
	RequestID string
	// Payload is the function's response, or the error document (JSON with
	// errorMessage and errorType) when ErrorType is set.
	Payload     []byte
	ContentType string
	// ErrorType is "" when the function succeeded; else the function's own
	// error type ("ValueError"), its runtime's ("Runtime.ImportModuleError")
	// or Lambda's ("Sandbox.Timedout", "Runtime.ExitError").
	ErrorType string
	Status    Status
	// Duration runs from the event reaching the runtime to its answer;
	// InitDuration, on the first invocation of a process, from the process's
	// start to its first request for an event.
	Duration, InitDuration time.Duration
	// MemorySizeMB is the configured memory; MaxMemoryUsedMB the process's
	// peak resident memory (0 when unknown).
	MemorySizeMB, MaxMemoryUsedMB int
	// LogTail is the end of the invocation's log (at most LogTailBytes),
	// START to REPORT.
	LogTail []byte
}

// Failed reports whether the invocation ended in an error.
func (r *Result) Failed() bool { return r.ErrorType != "" }

// BilledDuration is what Lambda bills: the duration rounded up to a
// millisecond, plus, since August 2025, the init duration of a cold start.
func (r *Result) BilledDuration() time.Duration {
	ms := math.Ceil(float64(r.Duration) / float64(time.Millisecond))
	if r.InitDuration > 0 {
		ms += math.Ceil(float64(r.InitDuration) / float64(time.Millisecond))
	}
	return time.Duration(ms) * time.Millisecond
}

// ErrorDocument is the JSON body of a function error.
type ErrorDocument struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	StackTrace   []string `json:"stackTrace,omitempty"`
	RequestID    string   `json:"requestId,omitempty"`
}

// ParseError reads an error document; ok is false when body is not one.
func ParseError(body []byte) (ErrorDocument, bool) {
	var raw struct {
		ErrorMessage any             `json:"errorMessage"`
		ErrorType    string          `json:"errorType"`
		StackTrace   json.RawMessage `json:"stackTrace"`
		RequestID    string          `json:"requestId"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return ErrorDocument{}, false
	}
	d := ErrorDocument{ErrorType: raw.ErrorType, RequestID: raw.RequestID}
	switch m := raw.ErrorMessage.(type) {
	case string:
		d.ErrorMessage = m
	case nil:
	default:
		b, _ := json.Marshal(m)
		d.ErrorMessage = string(b)
	}
	var lines []string
	if json.Unmarshal(raw.StackTrace, &lines) == nil {
		d.StackTrace = lines
	}
	return d, d.ErrorType != "" || d.ErrorMessage != ""
}

// lambdaError is an error document Lambda itself writes (a timeout, a
// runtime that exited).
func lambdaError(errorType, requestID, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}{errorType, fmt.Sprintf("RequestId: %s Error: %s", requestID, msg)})
	return b
}

// Process is one running runtime: an interpreter with its runtime client,
// pointed at a Runtime API address.
type Process interface {
	// Wait waits for the process to exit and says how it exited (an
	// *exec.ExitError, or nil for status 0).
	Wait() error
	// Kill stops the process and everything it started, at once. It may be
	// called more than once, and after the process exited.
	Kill()
	// MaxRSS is the process's peak resident memory in bytes so far (0 when
	// unknown). It is read between invocations, so it may be called after
	// Wait returned.
	MaxRSS() int64
}

// Spawn is what a StartFunc is given.
type Spawn struct {
	// RuntimeAPI is the host:port for AWS_LAMBDA_RUNTIME_API.
	RuntimeAPI string
	// Output is where the process's stdout and stderr go; the StartFunc
	// hands it to the process (the caller closes its own copy).
	Output *os.File
}

// StartFunc starts one runtime process. It returns once the process runs;
// ctx bounds only the start, not the process's life.
type StartFunc func(ctx context.Context, s Spawn) (Process, error)

// newID returns a random RFC 4122 version 4 UUID, Lambda's request id form.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID returns an X-Ray trace header: Root=1-<epoch hex>-<96 random
// bits>;Parent=<64 random bits>;Sampled=0.
func newTraceID(now time.Time) string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", now.Unix(), h[:24], h[24:40])
}

// exitMessage says how a runtime exited, as Lambda does ("Runtime exited
// with error: exit status 1", "Runtime exited without providing a reason").
func exitMessage(err error) string {
	if err == nil {
		return "Runtime exited without providing a reason"
	}
	return "Runtime exited with error: " + err.Error()
}

// seconds formats a timeout as Lambda does: "3.00".
func seconds(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
