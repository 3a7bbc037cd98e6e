package publish

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/lambdapack/lambdapack/internal/target"
)

// Lambda's limits on PublishLayerVersion and on direct uploads.
const (
	MaxRuntimes       = 15
	MaxArchitectures  = 2
	MaxDescription    = 256
	MaxLicenseInfo    = 512
	MaxDirectUpload   = 52_428_800 // 50 MB: larger zips must go through S3
	maxLayerNameChars = 140
)

// NormalizeRuntimes checks each runtime against internal/target's runtime table and
// returns them deduplicated and sorted.
func NormalizeRuntimes(rs []string) ([]string, error) {
	var out []string
	for _, r := range rs {
		for _, part := range strings.Split(r, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			rt, err := target.LookupRuntime(part)
			if err != nil {
				return nil, err
			}
			out = append(out, rt.Name)
		}
	}
	out = union(out)
	if len(out) > MaxRuntimes {
		return nil, fmt.Errorf("%d compatible runtimes: Lambda accepts at most %d", len(out), MaxRuntimes)
	}
	return out, nil
}

// ParseArch returns Lambda's name for an architecture, x86_64 or arm64,
// accepting target.ParseArch's aliases (amd64, aarch64...).
func ParseArch(s string) (string, error) {
	a, err := target.ParseArch(s)
	return string(a), err
}

// NormalizeArchitectures parses each architecture (comma-separated values
// allowed) and returns Lambda's names, deduplicated, x86_64 first.
func NormalizeArchitectures(as []string) ([]string, error) {
	var out []string
	for _, a := range as {
		for _, part := range strings.Split(a, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			p, err := ParseArch(part)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
	out = union(out)
	sort.Sort(sort.Reverse(sort.StringSlice(out))) // x86_64 before arm64
	if len(out) > MaxArchitectures {
		return nil, fmt.Errorf("%d architectures: Lambda accepts at most %d", len(out), MaxArchitectures)
	}
	return out, nil
}

var layerNameRE = regexp.MustCompile(`^(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:([a-zA-Z0-9_-]+)|([a-zA-Z0-9_-]+))$`)

// layerShortName checks a layer name (a name or a layer ARN) and returns the
// bare name, used in S3 keys.
func layerShortName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("no layer name: pass --name")
	}
	if len(name) > maxLayerNameChars {
		return "", fmt.Errorf("layer name %q is %d characters: Lambda allows %d", name, len(name), maxLayerNameChars)
	}
	m := layerNameRE.FindStringSubmatch(name)
	if m == nil {
		return "", fmt.Errorf("layer name %q: use letters, digits, '-' and '_' (or a layer ARN)", name)
	}
	if m[2] != "" {
		return m[2], nil
	}
	return m[3], nil
}

var functionNameRE = regexp.MustCompile(`^(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:function:)?([a-zA-Z0-9_-]+)(:(\$LATEST|[a-zA-Z0-9_-]+))?$`)

// functionShortName checks a function name, partial or full ARN and returns
// the bare name, used in S3 keys.
func functionShortName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("no function name: pass --function-name")
	}
	if m := functionNameRE.FindStringSubmatch(name); m != nil {
		return m[2], nil
	}
	// Partial ARNs (123456789012:function:name) are accepted by Lambda too.
	if i := strings.LastIndex(name, ":function:"); i >= 0 {
		rest := name[i+len(":function:"):]
		if j := strings.IndexByte(rest, ':'); j >= 0 {
			rest = rest[:j]
		}
		if rest != "" {
			return rest, nil
		}
	}
	return "", fmt.Errorf("function name %q: use the function's name or ARN", name)
}
