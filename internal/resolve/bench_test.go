package resolve

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lambdapack/lambdapack/internal/index"
)

// largeSet is a realistic Lambda application's requirements (about 60
// packages once resolved).
var largeSet = []string{
	"fastapi", "pydantic", "cryptography", "numpy", "orjson", "boto3", "requests", "httpx",
	"sqlalchemy", "psycopg[binary]", "pandas", "pyjwt", "jinja2", "aws-lambda-powertools[tracer]",
	"structlog", "tenacity", "redis", "python-dateutil", "pyyaml", "rich", "click", "mangum",
	"email-validator", "passlib[bcrypt]", "python-multipart", "aiohttp",
}

// BenchmarkResolveLarge resolves largeSet against the real index, cold
// (empty on-disk cache, new client) and warm (the on-disk cache of the cold
// run, new client and resolver). Run with -bench ResolveLarge -benchtime 1x.
func BenchmarkResolveLarge(b *testing.B) { benchResolve(b, largeSet) }

// BenchmarkResolveBacktrack walks boto3 back about 1,400 versions to the
// one that accepts an old botocore (each version's metadata is needed).
func BenchmarkResolveBacktrack(b *testing.B) { benchResolve(b, []string{"botocore<1.20", "boto3"}) }

func benchResolve(b *testing.B, set []string) {
	cfg, err := index.DiscoverConfig(index.Overrides{})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	var opts []index.Option
	opts = append(opts, index.WithCacheDir(dir))
	if os.Getenv("LAMBDAPACK_BENCH_LOG") != "" {
		opts = append(opts, index.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	runtime, arch := "python3.12", "x86_64"
	if v := os.Getenv("LAMBDAPACK_BENCH_TARGET"); v != "" {
		runtime, arch, _ = strings.Cut(v, "/")
	}
	tg := mustTarget(b, runtime, arch)
	rq := reqs(b, set...)
	for i := 0; i < b.N; i++ {
		for _, phase := range []string{"cold", "warm"} {
			client, err := index.NewClient(cfg, opts...)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			res, err := Resolve(context.Background(), IndexSource{Client: client}, tg, rq, Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s %s: %d packages in %s (%d pages, %d metadata, %d decisions, %d conflicts)",
				tg, phase, len(res.Packages), time.Since(start).Round(time.Millisecond), res.Stats.Projects, res.Stats.Metadata, res.Stats.Decisions, res.Stats.Conflicts)
			if path := os.Getenv("LAMBDAPACK_BENCH_LIST"); phase == "warm" && path != "" {
				// For comparing with another resolver's output.
				var lines []string
				for _, p := range res.Packages {
					lines = append(lines, p.Name+"=="+p.Version.String()+"\n")
				}
				if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}
