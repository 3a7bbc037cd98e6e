package runtimeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// instance is one runtime process with its own Runtime API endpoint (the
// runtime client finds it through AWS_LAMBDA_RUNTIME_API and cannot say who
// it is, so each process has its own port).
type instance struct {
	f   *Function
	gen int

	ln      net.Listener
	srv     *http.Server
	out     *output
	proc    Process
	started time.Time

	nextCh    chan *call    // an invocation for the waiting /next
	firstNext chan struct{} // closed on the runtime's first /next
	initErrCh chan struct{} // closed when the runtime posts /init/error
	exited    chan struct{} // closed when the process exited
	stopped   chan struct{} // closed by stop
	exitErr   error

	mu         sync.Mutex
	initDone   bool
	initDur    time.Duration
	initPosted *posted
	cur        *call // the invocation the runtime holds
	dead       bool  // no further invocation may run here
	stopOnce   sync.Once

	logMu      sync.Mutex
	logCall    *call // the invocation whose log is being written
	lineClosed bool  // the last byte written ended a line
}

// posted is an answer the runtime posted.
type posted struct {
	body        []byte
	contentType string
	errorType   string // "" for a response
	tooLarge    int64  // the size of a response over the limit
}

// call is one invocation on an instance.
type call struct {
	inv       Invocation
	deadline  time.Time
	start     time.Time
	delivered chan struct{}
	answer    chan *posted
	tail      []byte
}

func newInstance(f *Function, gen int) *instance {
	return &instance{
		f: f, gen: gen,
		nextCh:     make(chan *call),
		firstNext:  make(chan struct{}),
		initErrCh:  make(chan struct{}),
		exited:     make(chan struct{}),
		stopped:    make(chan struct{}),
		lineClosed: true,
	}
}

// usable reports whether the instance may take another invocation.
func (i *instance) usable() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.dead {
		return false
	}
	select {
	case <-i.exited:
		return false
	default:
		return true
	}
}

func (i *instance) markDead() {
	i.mu.Lock()
	i.dead = true
	i.mu.Unlock()
}

// start opens the endpoint and starts the process.
func (i *instance) start() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("opening a Runtime API endpoint for %s: %w", i.f.cfg.Name, err)
	}
	i.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", i.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", i.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", i.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", i.handleInitError)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeRuntimeError(w, http.StatusNotFound, "InvalidRequest", fmt.Sprintf("%s %s is not part of the Runtime API this emulator serves", r.Method, r.URL.Path))
	})
	i.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = i.srv.Serve(ln) }()

	i.out, err = newOutput(i.emitOutput)
	if err != nil {
		i.srv.Close()
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	i.started = time.Now()
	proc, err := i.f.cfg.Start(ctx, Spawn{RuntimeAPI: ln.Addr().String(), Output: i.out.w})
	if err != nil {
		i.srv.Close()
		i.out.close()
		return fmt.Errorf("starting the runtime of %s: %w", i.f.cfg.Name, err)
	}
	i.proc = proc
	go func() {
		err := proc.Wait()
		i.mu.Lock()
		i.exitErr = err
		i.mu.Unlock()
		close(i.exited)
	}()
	return nil
}

// stop kills the process and closes the endpoint; it waits for the process
// to be gone.
func (i *instance) stop() {
	i.stopOnce.Do(func() {
		i.markDead()
		close(i.stopped)
		if i.proc != nil {
			i.proc.Kill()
			select {
			case <-i.exited:
			case <-time.After(10 * time.Second):
			}
		}
		if i.srv != nil {
			i.srv.Close()
		}
		if i.out != nil {
			i.out.close()
		}
	})
}

// invoke runs inv: starting the process first when it is new.
func (i *instance) invoke(inv Invocation) (*Result, error) {
	cfg := i.f.cfg
	c := &call{inv: inv, delivered: make(chan struct{}), answer: make(chan *posted, 1)}
	if i.proc == nil {
		if err := i.start(); err != nil {
			i.markDead()
			return nil, err
		}
	}
	res := &Result{RequestID: inv.RequestID, MemorySizeMB: cfg.MemoryMB, ContentType: "application/json"}

	// Init: wait for the runtime's first request for an event.
	i.mu.Lock()
	initDone := i.initDone
	i.mu.Unlock()
	if !initDone {
		t := time.NewTimer(cfg.InitTimeout)
		defer t.Stop()
		select {
		case <-i.firstNext:
		case <-i.initErrCh:
			// The runtime exits after posting; give it a moment so its
			// last lines are logged, then make sure.
			select {
			case <-i.exited:
			case <-time.After(time.Second):
			}
			i.proc.Kill()
			i.markDead()
			i.mu.Lock()
			p := i.initPosted
			i.mu.Unlock()
			res.InitDuration = time.Since(i.started)
			res.Payload, res.ErrorType, res.Status = p.body, p.errorType, StatusError
			i.out.sync(time.Second)
			i.initReport(c, res, "error")
			i.report(c, res, true)
			return res, nil
		case <-i.exited:
			i.markDead()
			res.InitDuration = time.Since(i.started)
			msg := exitMessage(i.exitError())
			res.Payload, res.ErrorType, res.Status = lambdaError(ErrorTypeExit, inv.RequestID, msg), ErrorTypeExit, StatusError
			i.out.sync(time.Second)
			i.logLines(c, fmt.Sprintf("RequestId: %s Error: %s\n%s\n", inv.RequestID, msg, ErrorTypeExit))
			i.initReport(c, res, "error")
			i.report(c, res, true)
			return res, nil
		case <-t.C:
			i.proc.Kill()
			i.markDead()
			res.InitDuration = cfg.InitTimeout
			msg := fmt.Sprintf("Init phase timed out after %s seconds", seconds(cfg.InitTimeout))
			res.Payload, res.ErrorType, res.Status = lambdaError(ErrorTypeTimeout, inv.RequestID, msg), ErrorTypeTimeout, StatusTimeout
			i.out.sync(time.Second)
			i.logLines(c, fmt.Sprintf("%s %s %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.RequestID, msg))
			i.initReport(c, res, "timeout")
			i.report(c, res, true)
			return res, nil
		}
		i.mu.Lock()
		res.InitDuration = i.initDur
		i.initDone = true
		i.mu.Unlock()
	}

	// Deliver the event to the waiting /next.
	i.setLogCall(c)
	i.logLines(nil, fmt.Sprintf("START RequestId: %s Version: %s\n", inv.RequestID, cfg.Version))
	select {
	case i.nextCh <- c:
	case <-i.exited:
		return i.exitedDuring(c, res), nil
	}
	<-c.delivered
	timer := time.NewTimer(time.Until(c.deadline))
	defer timer.Stop()
	select {
	case p := <-c.answer:
		res.Duration = time.Since(c.start)
		i.out.sync(time.Second)
		switch {
		case p.tooLarge > 0:
			res.ErrorType, res.Status = ErrorTypeResponseTooBig, StatusError
			res.Payload = mustJSON(ErrorDocument{
				ErrorType:    ErrorTypeResponseTooBig,
				ErrorMessage: fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", p.tooLarge, MaxResponsePayload),
			})
		case p.errorType != "":
			res.ErrorType, res.Status, res.Payload = p.errorType, StatusError, p.body
			if p.contentType != "" {
				res.ContentType = p.contentType
			}
		default:
			res.Status, res.Payload = StatusSuccess, p.body
			if p.contentType != "" {
				res.ContentType = p.contentType
			}
		}
		i.report(c, res, p.tooLarge > 0)
		return res, nil
	case <-i.exited:
		return i.exitedDuring(c, res), nil
	case <-timer.C:
		i.proc.Kill()
		i.markDead()
		res.Duration = cfg.Timeout
		msg := fmt.Sprintf("Task timed out after %s seconds", seconds(cfg.Timeout))
		res.ErrorType, res.Status = ErrorTypeTimeout, StatusTimeout
		res.Payload = lambdaError(ErrorTypeTimeout, inv.RequestID, msg)
		i.out.sync(time.Second)
		i.logLines(c, fmt.Sprintf("%s %s %s\n", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.RequestID, msg))
		i.report(c, res, true)
		return res, nil
	}
}

func (i *instance) exitError() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.exitErr
}

// exitedDuring ends an invocation whose runtime exited before answering.
func (i *instance) exitedDuring(c *call, res *Result) *Result {
	i.markDead()
	if !c.start.IsZero() {
		res.Duration = time.Since(c.start)
	}
	msg := exitMessage(i.exitError())
	res.ErrorType, res.Status = ErrorTypeExit, StatusError
	res.Payload = lambdaError(ErrorTypeExit, c.inv.RequestID, msg)
	i.out.sync(time.Second)
	i.logLines(c, fmt.Sprintf("RequestId: %s Error: %s\n%s\n", c.inv.RequestID, msg, ErrorTypeExit))
	i.report(c, res, true)
	return res
}

// initReport writes Lambda's INIT_REPORT line for a failed init, and the
// START of the invocation that gets the error.
func (i *instance) initReport(c *call, res *Result, status string) {
	i.setLogCall(c)
	i.logLines(nil, fmt.Sprintf("INIT_REPORT Init Duration: %s ms\tPhase: init\tStatus: %s\tError Type: %s\nSTART RequestId: %s Version: %s\n",
		ms(res.InitDuration), status, res.ErrorType, res.RequestID, i.f.cfg.Version))
}

// report writes END and REPORT and closes the invocation's log. platform
// says the invocation failed outside the handler (its init, a timeout, the
// runtime's exit, a response over the limit): REPORT then gives its status
// and error type, as Lambda's does.
func (i *instance) report(c *call, res *Result, platform bool) {
	if i.proc != nil {
		if rss := i.proc.MaxRSS(); rss > 0 {
			res.MaxMemoryUsedMB = int((rss + 1<<20 - 1) >> 20)
		}
	}
	i.setLogCall(c)
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %s ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		res.RequestID, ms(res.Duration), res.BilledDuration().Milliseconds(), res.MemorySizeMB, res.MaxMemoryUsedMB)
	if res.InitDuration > 0 {
		line += fmt.Sprintf("Init Duration: %s ms\t", ms(res.InitDuration))
	}
	if platform {
		line += fmt.Sprintf("Status: %s\t", res.Status)
		if res.Status == StatusError {
			line += fmt.Sprintf("Error Type: %s\t", res.ErrorType)
		}
	}
	i.logLines(nil, fmt.Sprintf("END RequestId: %s\n%s\n", res.RequestID, line))
	if res.MaxMemoryUsedMB > res.MemorySizeMB {
		// Memory is not enforced here (an emulator's own memory would
		// count): say what Lambda would do.
		i.logLines(nil, fmt.Sprintf("lambdapack: %s used %d MB, more than its %d MB: Lambda would stop it (Runtime.OutOfMemory); raise MemorySize\n",
			i.f.cfg.Name, res.MaxMemoryUsedMB, res.MemorySizeMB))
	}
	i.logMu.Lock()
	res.LogTail = c.tail
	i.logCall = nil
	i.logMu.Unlock()
}

func (i *instance) setLogCall(c *call) {
	i.logMu.Lock()
	i.logCall = c
	i.logMu.Unlock()
}

// emitOutput passes on the process's output. A carriage return that ends
// no line (the Python runtime client joins the lines of an error with it)
// starts a new one, as Lambda's log shows it.
func (i *instance) emitOutput(p []byte) {
	if bytes.IndexByte(p, '\r') >= 0 {
		p = bytes.ReplaceAll(bytes.ReplaceAll(p, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
	}
	i.logMu.Lock()
	defer i.logMu.Unlock()
	i.write(i.logCall, p)
}

// logLines writes lines of our own, starting on a fresh line.
func (i *instance) logLines(c *call, s string) {
	i.logMu.Lock()
	defer i.logMu.Unlock()
	if c == nil {
		c = i.logCall
	}
	if !i.lineClosed {
		s = "\n" + s
	}
	i.write(c, []byte(s))
}

func (i *instance) write(c *call, p []byte) {
	if len(p) == 0 {
		return
	}
	i.f.writeLog(p)
	i.lineClosed = p[len(p)-1] == '\n'
	if c != nil {
		c.tail = appendTail(c.tail, p, LogTailBytes)
	}
}

// appendTail appends p to tail and keeps the last n bytes.
func appendTail(tail, p []byte, n int) []byte {
	if len(p) >= n {
		return append(tail[:0], p[len(p)-n:]...)
	}
	if over := len(tail) + len(p) - n; over > 0 {
		tail = append(tail[:0], tail[over:]...)
	}
	return append(tail, p...)
}

// The Runtime API's handlers.

func (i *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	if i.cur != nil {
		i.mu.Unlock()
		writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition", "the runtime asked for the next event before answering "+i.cur.inv.RequestID)
		return
	}
	if !i.initDone {
		select {
		case <-i.firstNext:
		default:
			i.initDur = time.Since(i.started)
			close(i.firstNext)
		}
	}
	i.mu.Unlock()
	var c *call
	select {
	case c = <-i.nextCh:
	case <-i.stopped:
		return
	case <-r.Context().Done():
		return
	}
	now := time.Now()
	c.start = now
	c.deadline = now.Add(i.f.cfg.Timeout)
	i.mu.Lock()
	i.cur = c
	i.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", c.inv.RequestID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(c.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", i.f.cfg.ARN)
	h.Set("Lambda-Runtime-Trace-Id", c.inv.TraceID)
	if c.inv.ClientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", c.inv.ClientContext)
	}
	if c.inv.CognitoIdentity != "" {
		h.Set("Lambda-Runtime-Cognito-Identity", c.inv.CognitoIdentity)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(c.inv.Payload)))
	close(c.delivered)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(c.inv.Payload)
}

// current returns the invocation the runtime holds if its id is id.
func (i *instance) current(w http.ResponseWriter, id string) *call {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.cur == nil || i.cur.inv.RequestID != id {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", fmt.Sprintf("no invocation %s is waiting for an answer", id))
		return nil
	}
	c := i.cur
	i.cur = nil
	return c
}

// readAnswer reads a posted body up to the limit; over it, it counts the
// rest and reports the size.
func readAnswer(r *http.Request) (body []byte, size int64, err error) {
	body, err = io.ReadAll(io.LimitReader(r.Body, MaxResponsePayload+1))
	if err != nil {
		return nil, 0, err
	}
	if len(body) <= MaxResponsePayload {
		return body, int64(len(body)), nil
	}
	rest, err := io.Copy(io.Discard, io.LimitReader(r.Body, 1<<40))
	return nil, int64(len(body)) + rest, err
}

func (i *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	c := i.current(w, r.PathValue("id"))
	if c == nil {
		return
	}
	body, size, err := readAnswer(r)
	if err != nil {
		c.answer <- &posted{errorType: ErrorTypeUnknown, body: lambdaError(ErrorTypeUnknown, c.inv.RequestID, "reading the runtime's response: "+err.Error())}
		return
	}
	if body == nil {
		c.answer <- &posted{tooLarge: size}
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxResponsePayload))
		return
	}
	c.answer <- &posted{body: body, contentType: r.Header.Get("Content-Type")}
	writeAccepted(w)
}

func (i *instance) handleError(w http.ResponseWriter, r *http.Request) {
	c := i.current(w, r.PathValue("id"))
	if c == nil {
		return
	}
	body, size, err := readAnswer(r)
	if err != nil {
		c.answer <- &posted{errorType: ErrorTypeUnknown, body: lambdaError(ErrorTypeUnknown, c.inv.RequestID, "reading the runtime's error: "+err.Error())}
		return
	}
	if body == nil {
		c.answer <- &posted{tooLarge: size}
		writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxResponsePayload))
		return
	}
	c.answer <- errorAnswer(r, body)
	writeAccepted(w)
}

// errorAnswer takes the error type from the Lambda-Runtime-Function-Error-Type
// header, else from the body's errorType (the Python runtime client sends no
// header), else "Unhandled". A body that is not an error document is
// wrapped in one, as Lambda does.
func errorAnswer(r *http.Request, body []byte) *posted {
	typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	doc, ok := ParseError(body)
	if typ == "" && ok {
		typ = doc.ErrorType
	}
	if typ == "" {
		typ = "Unhandled"
	}
	if !ok {
		body = mustJSON(ErrorDocument{ErrorType: typ, ErrorMessage: string(body)})
	}
	return &posted{body: body, errorType: typ, contentType: "application/json"}
}

func (i *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _, err := readAnswer(r)
	if err != nil || body == nil {
		body = lambdaError(ErrorTypeUnknown, "", "the runtime's init error could not be read")
	}
	p := errorAnswer(r, body)
	i.mu.Lock()
	defer i.mu.Unlock()
	select {
	case <-i.firstNext:
		writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition", "init/error after the runtime's init ended")
		return
	default:
	}
	if i.initPosted != nil {
		writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition", "init/error posted twice")
		return
	}
	i.initPosted = p
	close(i.initErrCh)
	writeAccepted(w)
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}` + "\n"))
}

func writeRuntimeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
