package app

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/lambdapack/lambdapack/internal/human"
	"github.com/lambdapack/lambdapack/internal/pins"
	"github.com/lambdapack/lambdapack/internal/verify"
)

// sizeSlack is how far over the unzipped limit the wheels must be, as
// downloaded, before their size alone refuses an artifact. A wheel's
// compressed size is a lower bound of what it unzips to but for its zip
// headers (about a hundred bytes a file, 1 to 5% of real wheels) and the
// .data headers and data the installer drops (rare): 10% over the limit is
// over it whatever those are. What is nearer is left to verification,
// which counts the installed files exactly.
const sizeSlack = 1.10

// sizeBound is the most the wheels may add up to.
const sizeBound = int64(sizeSlack * UnzippedLimit)

// wheelSize is one wheel's share of an artifact's size lower bound.
type wheelSize struct {
	name string
	size int64
}

// checkSizes is the step between pins and fetch: it refuses an artifact
// whose wheels, by the sizes the index lists (PEP 700), the lock records or
// the cache already holds, cannot fit in Lambda's unzipped limit for a
// function and its layers, before anything is downloaded. Wheels of unknown
// size count for nothing here; the returned option makes the fetch count
// them by the length their server announces (Content-Length) and stop as
// soon as the sum is over. --no-verify skips the check and --force turns
// it into a warning, as with verification; --slim and --strip-pattern,
// which remove files only the downloaded wheels show, skip it.
func (env *Env) checkSizes(o ArtifactOptions, parts []*partPins) ([]pins.FetchOption, error) {
	if o.NoVerify || o.Slim || len(o.StripPatterns) > 0 {
		return nil, nil
	}
	skip := excluder(o.ExcludePackages)
	var total int64
	var unknown int
	var sizes []wheelSize
	for _, p := range parts {
		for _, pin := range p.set.Pins {
			if skip != nil && skip(pin.Name) {
				continue
			}
			n := pin.File.Size
			if n <= 0 {
				if b, ok := env.Cache.Lookup(pin.SHA256); ok {
					n = b.Size
				}
			}
			if n <= 0 {
				unknown++
				continue
			}
			total += n
			sizes = append(sizes, wheelSize{pin.Name + " " + pin.Version, n})
		}
	}
	tooBig := func(total int64, how, when string) error {
		slices.SortStableFunc(sizes, func(a, b wheelSize) int { return cmp.Compare(b.size, a.size) })
		var big []string
		for _, s := range sizes[:min(len(sizes), 5)] {
			big = append(big, s.name+" "+human.Bytes(s.size))
		}
		listed := ""
		if len(big) > 0 {
			listed = " (" + strings.Join(big, ", ") + ")"
		}
		what := fmt.Sprintf("the wheels to install are %s as downloaded%s, and unzipped they hold at least as much: %.1f times Lambda's limit of 262,144,000 bytes for a function and all its layers",
			human.Bytes(total), listed, float64(total)/UnzippedLimit)
		if o.Force {
			env.log.Warn(what + "; going on because of --force")
			return nil
		}
		tg := parts[0].targets[0]
		// The report reads like verify's: one size error, before any file.
		report := fmt.Sprintf("%-7s %s: (the wheels, by %s)\n        %s; refused %s\n        fix: %s\n",
			verify.Error, verify.RuleSize, how, what, when,
			"drop what the runtime provides (--exclude-package boto3,botocore,s3transfer) or what you do not need, split the packages between functions, or ship a container image (10 GB limit)")
		return &VerifyError{Output: o.Output, Target: tg, Report: report}
	}
	if total > sizeBound {
		return nil, tooBig(total, "the sizes the index lists", "before downloading anything")
	}
	if unknown == 0 || o.Force {
		return nil, nil
	}
	return []pins.FetchOption{pins.StopOver(total, sizeBound, skip, func(sum int64) error {
		return tooBig(sum, "the sizes the index lists and the lengths its servers announce", "as the downloads started")
	})}, nil
}
