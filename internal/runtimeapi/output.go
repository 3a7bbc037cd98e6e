package runtimeapi

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"time"
)

// maxLine bounds a line held back waiting for its newline: longer output is
// passed on in pieces, so a process printing megabytes without a newline
// costs no more memory than this.
const maxLine = 64 * 1024

// output reads a process's stdout and stderr (one pipe) and passes them on
// line by line. The Runtime API learns of an answer over HTTP, possibly
// before this reader has read what the process printed just before it; so
// the reader keeps the pipe's write end too and, to catch up, writes a marker
// into the pipe and waits until it comes out: everything the process wrote
// before posting its answer is in front of it.
type output struct {
	r, w   *os.File
	emit   func([]byte)
	token  []byte
	mu     sync.Mutex
	seq    int
	synced map[int]chan struct{}
	done   chan struct{}
}

func newOutput(emit func([]byte)) (*output, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating the runtime's output pipe: %w", err)
	}
	o := &output{r: r, w: w, emit: emit, synced: map[int]chan struct{}{}, done: make(chan struct{})}
	o.token = []byte("\x00\x1blambdapack-sync-" + newID() + ":")
	go o.read()
	return o, nil
}

// sync waits until everything written to the pipe before the call has been
// passed on, or until timeout.
func (o *output) sync(timeout time.Duration) {
	o.mu.Lock()
	o.seq++
	n := o.seq
	ch := make(chan struct{})
	o.synced[n] = ch
	o.mu.Unlock()
	marker := append(append([]byte{}, o.token...), []byte(fmt.Sprintf("%d\x00", n))...)
	if _, err := o.w.Write(marker); err != nil {
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ch:
	case <-o.done:
	case <-t.C:
	}
}

// close passes on what is left and stops reading. The process must be gone.
func (o *output) close() {
	o.sync(2 * time.Second)
	o.w.Close()
	o.r.Close()
	<-o.done
}

func (o *output) read() {
	defer close(o.done)
	buf := make([]byte, 0, 2*maxLine)
	chunk := make([]byte, 32*1024)
	for {
		n, err := o.r.Read(chunk)
		buf = append(buf, chunk[:n]...)
		buf = o.scan(buf)
		if err != nil {
			if len(buf) > 0 {
				o.emit(buf)
			}
			return
		}
	}
}

// scan passes on the complete lines of buf, acknowledges markers, and
// returns what is left (a partial line).
func (o *output) scan(buf []byte) []byte {
	for {
		if i := bytes.Index(buf, o.token); i >= 0 {
			end := bytes.IndexByte(buf[i+len(o.token):], 0)
			if end < 0 {
				// The marker's number is not all here yet.
				if i > 0 {
					o.emitLines(buf[:i], true)
					buf = append(buf[:0], buf[i:]...)
				}
				return buf
			}
			var n int
			fmt.Sscanf(string(buf[i+len(o.token):i+len(o.token)+end]), "%d", &n)
			// What came before the marker is all the process wrote: pass
			// on a partial last line too.
			o.emitLines(buf[:i], true)
			buf = append(buf[:0], buf[i+len(o.token)+end+1:]...)
			o.mu.Lock()
			if ch, ok := o.synced[n]; ok {
				close(ch)
				delete(o.synced, n)
			}
			o.mu.Unlock()
			continue
		}
		rest := o.emitLines(buf, false)
		if len(rest) > maxLine {
			// A long line: pass it on, keeping what could be the start of a
			// marker.
			keep := len(o.token)
			o.emit(rest[:len(rest)-keep])
			rest = rest[len(rest)-keep:]
		}
		return append(buf[:0], rest...)
	}
}

// emitLines passes on the complete lines of p (all of p when partial is
// true) and returns the rest.
func (o *output) emitLines(p []byte, partial bool) []byte {
	if partial {
		if len(p) > 0 {
			o.emit(p)
		}
		return nil
	}
	i := bytes.LastIndexByte(p, '\n')
	if i < 0 {
		return p
	}
	o.emit(p[:i+1])
	return p[i+1:]
}
