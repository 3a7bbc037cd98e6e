package remote

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
)

// Timeouts of every registry request.
var (
	HeaderTimeout = 60 * time.Second
	IdleTimeout   = 60 * time.Second
)

// Options are how to reach registries.
type Options struct {
	// Keychain finds credentials; nil means Keychain().
	Keychain authn.Keychain
	// Transport carries the requests; nil means a transport with
	// lambdapack's timeouts.
	Transport http.RoundTripper
	// Insecure allows plain HTTP to the registry (a loopback test
	// registry is allowed without it).
	Insecure bool
	// Backoff, when set, replaces go-containerregistry's retry backoff.
	Backoff *ggcr.Backoff
}

func (o Options) nameOpts() []name.Option {
	if o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// ParseReference parses an image reference ("repo:tag", "repo@sha256:...").
func (o Options) ParseReference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s, o.nameOpts()...)
	if err != nil {
		return nil, fmt.Errorf("%q is not an image reference (want REGISTRY/REPOSITORY[:TAG] or @sha256:...): %w", s, err)
	}
	return ref, nil
}

// ParseRepository parses REPO[:TAG] for a push: the repository and the tag
// ("" when none is given).
func (o Options) ParseRepository(s string) (name.Repository, string, error) {
	if ref, err := name.NewTag(s, append(o.nameOpts(), name.StrictValidation)...); err == nil {
		return ref.Repository, ref.TagStr(), nil
	}
	repo, err := name.NewRepository(s, o.nameOpts()...)
	if err != nil {
		return name.Repository{}, "", fmt.Errorf("--push %q is not a repository (want REGISTRY/REPOSITORY[:TAG], e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-function:v1): %w", s, err)
	}
	return repo, "", nil
}

func (o Options) remoteOpts(ctx context.Context) []ggcr.Option {
	kc := o.Keychain
	if kc == nil {
		kc = Keychain()
	}
	tr := o.Transport
	if tr == nil {
		tr = DefaultTransport()
	}
	opts := []ggcr.Option{ggcr.WithContext(ctx), ggcr.WithAuthFromKeychain(kc), ggcr.WithTransport(tr), ggcr.WithUserAgent("lambdapack")}
	if o.Backoff != nil {
		opts = append(opts, ggcr.WithRetryBackoff(*o.Backoff))
	}
	return opts
}

// Get fetches the manifest (or index) ref names.
func Get(ctx context.Context, ref name.Reference, o Options) (*ggcr.Descriptor, error) {
	d, err := ggcr.Get(ref, o.remoteOpts(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	return d, nil
}

// Image returns the image ref names (a digest reference: its blobs are read
// lazily, each through the same options).
func Image(ctx context.Context, ref name.Reference, o Options) (v1.Image, error) {
	img, err := ggcr.Image(ref, o.remoteOpts(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	return img, nil
}

// Write pushes img to ref (a tag or a digest reference).
func Write(ctx context.Context, ref name.Reference, img v1.Image, o Options) error {
	if err := ggcr.Write(ref, img, o.remoteOpts(ctx)...); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// WriteIndex pushes idx (and the images it lists) to ref.
func WriteIndex(ctx context.Context, ref name.Reference, idx v1.ImageIndex, o Options) error {
	if err := ggcr.WriteIndex(ref, idx, o.remoteOpts(ctx)...); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

var (
	defaultTransport     http.RoundTripper
	defaultTransportOnce sync.Once
)

// DefaultTransport is an HTTP transport whose responses must start within
// HeaderTimeout and whose bodies may not stall for IdleTimeout.
func DefaultTransport() http.RoundTripper {
	defaultTransportOnce.Do(func() {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 30 * time.Second
		t.ResponseHeaderTimeout = HeaderTimeout
		defaultTransport = &idleTransport{base: t, idle: IdleTimeout}
	})
	return defaultTransport
}

// idleTransport cuts off a response body that stalls.
type idleTransport struct {
	base http.RoundTripper
	idle time.Duration
}

func (t *idleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	timer := time.AfterFunc(t.idle, cancel)
	resp.Body = &idleBody{ReadCloser: resp.Body, timer: timer, idle: t.idle, cancel: cancel}
	return resp, nil
}

type idleBody struct {
	io.ReadCloser
	timer  *time.Timer
	idle   time.Duration
	cancel context.CancelFunc
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.timer.Reset(b.idle)
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
