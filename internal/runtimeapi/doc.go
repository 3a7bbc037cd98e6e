// Package runtimeapi serves AWS Lambda's Runtime API to runtime processes and
// the Lambda Invoke API in front of them, the way Lambda does: it hands one
// event at a time to a process, collects its answer, enforces the deadline
// and the payload limits, and writes Lambda's START, END and REPORT lines
// around the process's own output.
//
// It knows nothing of zips, images or interpreters. A Function is given a
// StartFunc that starts one runtime process (the interpreter with its
// runtime client) pointed at a Runtime API address; the package keeps such
// processes warm between invocations, one invocation at a time each, and
// starts more of them, up to Config.Concurrency, under concurrent load.
//
// The Runtime API (base http://$AWS_LAMBDA_RUNTIME_API/2018-06-01):
//
//	GET  /runtime/invocation/next             the next event, with the Lambda-Runtime-* headers
//	POST /runtime/invocation/{id}/response    the function's result (at most 6,291,556 bytes)
//	POST /runtime/invocation/{id}/error       a function error; its type comes from the
//	                                          Lambda-Runtime-Function-Error-Type header, else the body
//	POST /runtime/init/error                  the runtime could not start the handler
//
// The Invoke API: POST /2015-03-31/functions/{name}/invocations, with
// X-Amz-Invocation-Type (RequestResponse, Event, DryRun), X-Amz-Log-Type:
// Tail (the last 4 KB of the invocation's log in X-Amz-Log-Result) and
// X-Amz-Client-Context; a function error answers 200 with
// X-Amz-Function-Error: Unhandled and the error document as the body.
package runtimeapi
