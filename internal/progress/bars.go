package progress

import (
	"io"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/lambdapack/lambdapack/internal/index"
)

// Bars shows one bar per download or zip being written (cache.Reporter,
// zipsink.Progress) and one line counting the index's answers
// (index.Reporter).
type Bars struct {
	p     *mpb.Progress
	mu    sync.Mutex
	bars  map[string]*mpb.Bar
	index *mpb.Bar
}

// Report counts the index pages and metadata files read (index.Reporter).
func (b *Bars) Report(e index.Event) {
	if e.Kind != index.EventPage && e.Kind != index.EventMetadata {
		return
	}
	b.mu.Lock()
	if b.index == nil {
		b.index = b.p.AddBar(0,
			mpb.PrependDecorators(decor.Name("index", decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.CurrentNoUnit("%d pages and metadata files read")),
			mpb.BarRemoveOnComplete(),
		)
	}
	bar := b.index
	b.mu.Unlock()
	bar.Increment()
}

// New draws bars on w (a terminal).
func New(w io.Writer) *Bars {
	return &Bars{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(32)), bars: map[string]*mpb.Bar{}}
}

// Start begins a bar for name; size -1 is unknown.
func (b *Bars) Start(name string, size int64) {
	if size < 0 {
		size = 0
	}
	bar := b.p.AddBar(size,
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.CountersKibiByte("% .1f / % .1f")),
		mpb.BarRemoveOnComplete(),
	)
	b.mu.Lock()
	b.bars[name] = bar
	b.mu.Unlock()
}

// Advance moves name's bar by n bytes.
func (b *Bars) Advance(name string, n int64) {
	b.mu.Lock()
	bar := b.bars[name]
	b.mu.Unlock()
	if bar != nil {
		bar.IncrInt64(n)
	}
}

// Done ends name's bar.
func (b *Bars) Done(name string, err error) {
	b.mu.Lock()
	bar := b.bars[name]
	delete(b.bars, name)
	b.mu.Unlock()
	if bar == nil {
		return
	}
	if err != nil {
		bar.Abort(true)
		return
	}
	bar.SetTotal(-1, true)
}

// Wait ends drawing; call it before printing anything else.
func (b *Bars) Wait() {
	b.mu.Lock()
	for n, bar := range b.bars {
		bar.Abort(true)
		delete(b.bars, n)
	}
	if b.index != nil {
		b.index.Abort(true)
		b.index = nil
	}
	b.mu.Unlock()
	b.p.Wait()
}
