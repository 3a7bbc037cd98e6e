package publish

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lambdapack/lambdapack/internal/record"
)

// DefaultKeyPrefix is the S3 key prefix when none is given.
const DefaultKeyPrefix = "lambdapack"

// LayerOptions say what to publish and where.
type LayerOptions struct {
	ZipPath string // the layer zip
	Name    string // the layer's name or ARN

	// Bucket, when set, is where the zip is uploaded first (required over
	// 50 MB); the key is <KeyPrefix>/<name>/<sha256>.zip.
	Bucket    string
	KeyPrefix string // DefaultKeyPrefix when empty; "/" for none

	License     string
	Description string

	// Runtimes and Architectures are the compatible ones. When empty they
	// come from ReportPath, else from the zip's comment (see internal/record).
	Runtimes      []string
	Architectures []string
	// ReportPath is a report from `lambdapack layer --json` (optional).
	ReportPath string
	// RequirementsSHA256 goes into the S3 metadata; when empty it comes
	// from the report or the zip's comment.
	RequirementsSHA256 string
	// ToolVersion is lambdapack's version for the S3 metadata.
	ToolVersion string

	// Force publishes runtimes or architectures the zip was not built
	// for, and a zip that is not a layer (a function's), with a warning.
	Force bool

	AWS AWSOptions
	// Log, when set, receives one line per step ("uploading ...").
	Log io.Writer
}

// S3Location is where an artifact was uploaded.
type S3Location struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	// Uploaded is false when the object was already there with the same
	// sha256 and was not sent again.
	Uploaded bool `json:"uploaded"`
}

// LayerResult is what Layer did.
type LayerResult struct {
	LayerARN        string      `json:"layer_arn"`
	LayerVersionARN string      `json:"layer_version_arn"`
	Version         int64       `json:"version"`
	Changed         bool        `json:"changed"`
	CodeSHA256      string      `json:"code_sha256"` // base64, as Lambda reports it
	SHA256          string      `json:"sha256"`      // hex
	Size            int64       `json:"size"`
	Runtimes        []string    `json:"compatible_runtimes"`
	Architectures   []string    `json:"compatible_architectures"`
	S3              *S3Location `json:"s3,omitempty"`
	Region          string      `json:"region"`
	Warnings        []string    `json:"warnings,omitempty"`
}

// artifact is a zip on disk and its digest.
type artifact struct {
	path   string
	size   int64
	sum    []byte
	hex    string
	code   string // base64 std of sum: Lambda's CodeSha256
	record record.Record
	hasRec bool
	names  []string // member names
}

func openArtifact(path string) (*artifact, error) {
	if path == "" {
		return nil, errors.New("no zip given")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening the zip: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	a := &artifact{path: path, size: n, sum: h.Sum(nil)}
	a.hex = hex.EncodeToString(a.sum)
	a.code = base64.StdEncoding.EncodeToString(a.sum)
	if a.names, err = zipNames(path); err != nil {
		return nil, err
	}
	rec, err := record.ReadZip(path)
	switch {
	case err == nil:
		a.record, a.hasRec = rec, true
	case errors.Is(err, record.ErrNone):
	default:
		return nil, err
	}
	return a, nil
}

// s3Key is <prefix>/<name>/<sha256>.zip.
func s3Key(prefix, name, hexsum string) string {
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return name + "/" + hexsum + ".zip"
	}
	return prefix + "/" + name + "/" + hexsum + ".zip"
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// Layer publishes the zip as a new version of a Lambda layer, unless the
// layer's latest version already has the same code, runtimes and
// architectures (and description and license, when given): then it publishes
// nothing and returns that version with Changed false.
func Layer(ctx context.Context, o LayerOptions) (*LayerResult, error) {
	short, err := layerShortName(o.Name)
	if err != nil {
		return nil, err
	}
	if len(o.Description) > MaxDescription {
		return nil, fmt.Errorf("the description is %d characters: Lambda allows %d", len(o.Description), MaxDescription)
	}
	if len(o.License) > MaxLicenseInfo {
		return nil, fmt.Errorf("the license is %d characters: Lambda allows %d", len(o.License), MaxLicenseInfo)
	}
	art, err := openArtifact(o.ZipPath)
	if err != nil {
		return nil, err
	}
	var warnings []string
	if w, err := art.checkKind(record.KindLayer, o.Force); err != nil {
		return nil, err
	} else if w != "" {
		warnings = append(warnings, w)
	}
	rec := art.record
	source := "the zip's lambdapack record"
	if o.ReportPath != "" {
		rec, err = readReport(o.ReportPath, o.ZipPath, art.hex)
		if err != nil {
			return nil, err
		}
		source = "the build report"
	} else if !art.hasRec {
		source = ""
	}
	rts := o.Runtimes
	if len(rts) == 0 {
		rts = rec.CompatibleRuntimes()
	}
	runtimes, err := NormalizeRuntimes(rts)
	if err != nil {
		return nil, fmt.Errorf("compatible runtimes: %w", err)
	}
	ars := o.Architectures
	if len(ars) == 0 {
		ars = rec.CompatibleArchitectures()
	}
	archs, err := NormalizeArchitectures(ars)
	if err != nil {
		return nil, fmt.Errorf("compatible architectures: %w", err)
	}
	if len(runtimes) == 0 || len(archs) == 0 {
		what := "runtimes"
		if len(runtimes) != 0 {
			what = "architectures"
		} else if len(archs) == 0 {
			what = "runtimes and architectures"
		}
		if source == "" {
			return nil, fmt.Errorf("%s has no lambdapack record of its target, so its compatible %s are unknown: pass --runtime and --arch (or --report from `lambdapack layer --json`)", o.ZipPath, what)
		}
		return nil, fmt.Errorf("%s names no compatible %s for %s: pass them with --runtime / --arch", source, what, o.ZipPath)
	}
	if source != "" {
		if err := checkAgainstRecord(rec, runtimes, archs, source); err != nil {
			if !o.Force {
				return nil, err
			}
			warnings = append(warnings, strings.Replace(err.Error(), ", or pass --force)", ")", 1)+"; published anyway because of --force")
		}
	}
	reqHash := o.RequirementsSHA256
	if reqHash == "" {
		reqHash = rec.RequirementsSHA256
	}
	if o.Bucket == "" && art.size > MaxDirectUpload {
		return nil, fmt.Errorf("%s is %d bytes, over Lambda's %d-byte limit for a direct upload: pass --bucket to upload it through S3", o.ZipPath, art.size, MaxDirectUpload)
	}

	c, err := newClients(ctx, o.AWS)
	if err != nil {
		return nil, err
	}
	res := &LayerResult{CodeSHA256: art.code, SHA256: art.hex, Size: art.size,
		Runtimes: runtimes, Architectures: archs, Region: c.cfg.Region}
	for _, w := range warnings {
		res.Warnings = append(res.Warnings, w)
		logf(o.Log, "warning: %s", w)
	}

	// Idempotence: compare with the latest version.
	latest, err := c.latestLayerVersion(ctx, o.Name)
	if err != nil {
		if !isDenied(err) {
			return nil, err
		}
		// A policy that allows publishing but not reading (seed 001's
		// s3:PutObject + lambda:PublishLayerVersion) still publishes, just
		// without the duplicate check.
		w := fmt.Sprintf("cannot read the layer's versions, so a duplicate may be published: %v", err)
		res.Warnings = append(res.Warnings, w)
		logf(o.Log, "warning: %s", w)
		latest = nil
	}
	if latest != nil && sameLayer(latest, art.code, runtimes, archs, o.Description, o.License) {
		res.LayerARN = aws.ToString(latest.LayerArn)
		res.LayerVersionARN = aws.ToString(latest.LayerVersionArn)
		res.Version = latest.Version
		logf(o.Log, "layer %s version %d already has this code (sha256 %s): nothing published", o.Name, latest.Version, art.hex)
		return res, nil
	}

	in := &lambda.PublishLayerVersionInput{
		LayerName:               aws.String(o.Name),
		CompatibleRuntimes:      toRuntimes(runtimes),
		CompatibleArchitectures: toArchs(archs),
		Content:                 &ltypes.LayerVersionContentInput{},
	}
	if o.Description != "" {
		in.Description = aws.String(o.Description)
	}
	if o.License != "" {
		in.LicenseInfo = aws.String(o.License)
	}
	if o.Bucket != "" {
		meta := map[string]string{
			"sha256":        art.hex,
			"layer-name":    short,
			"runtimes":      strings.Join(runtimes, ","),
			"architectures": strings.Join(archs, ","),
		}
		if o.ToolVersion != "" {
			meta["lambdapack-version"] = o.ToolVersion
		}
		if reqHash != "" {
			meta["requirements-sha256"] = reqHash
		}
		loc, err := c.upload(ctx, art, o.Bucket, s3Key(o.KeyPrefix, short, art.hex), meta, o.Log)
		if err != nil {
			return nil, err
		}
		res.S3 = loc
		in.Content.S3Bucket = aws.String(loc.Bucket)
		in.Content.S3Key = aws.String(loc.Key)
	} else {
		data, err := os.ReadFile(art.path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", art.path, err)
		}
		in.Content.ZipFile = data
	}
	logf(o.Log, "publishing layer %s (%s; %s)", o.Name, strings.Join(runtimes, ", "), strings.Join(archs, ", "))
	out, err := c.lambda.PublishLayerVersion(ctx, in)
	if err != nil {
		return nil, c.callError(ctx, "lambda:PublishLayerVersion", o.Name, err)
	}
	res.Changed = true
	res.LayerARN = aws.ToString(out.LayerArn)
	res.LayerVersionARN = aws.ToString(out.LayerVersionArn)
	res.Version = out.Version
	if out.Content != nil && out.Content.CodeSha256 != nil && *out.Content.CodeSha256 != art.code {
		return res, fmt.Errorf("published %s, but Lambda reports CodeSha256 %s where the zip's is %s: the upload was altered; check the S3 object and publish again",
			res.LayerVersionARN, *out.Content.CodeSha256, art.code)
	}
	return res, nil
}

// latestLayerVersion returns the newest version of the layer, or nil when it
// has none.
func (c *clients) latestLayerVersion(ctx context.Context, name string) (*lambda.GetLayerVersionOutput, error) {
	list, err := c.lambda.ListLayerVersions(ctx, &lambda.ListLayerVersionsInput{LayerName: aws.String(name)})
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, c.callError(ctx, "lambda:ListLayerVersions", name, err)
	}
	var newest int64 = -1
	for _, v := range list.LayerVersions {
		if v.Version > newest {
			newest = v.Version
		}
	}
	if newest < 0 {
		return nil, nil
	}
	got, err := c.lambda.GetLayerVersion(ctx, &lambda.GetLayerVersionInput{LayerName: aws.String(name), VersionNumber: aws.Int64(newest)})
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, c.callError(ctx, "lambda:GetLayerVersion", fmt.Sprintf("%s:%d", name, newest), err)
	}
	return got, nil
}

func sameLayer(v *lambda.GetLayerVersionOutput, code string, runtimes, archs []string, desc, license string) bool {
	if v.Content == nil || aws.ToString(v.Content.CodeSha256) != code {
		return false
	}
	var rs, as []string
	for _, r := range v.CompatibleRuntimes {
		rs = append(rs, string(r))
	}
	for _, a := range v.CompatibleArchitectures {
		as = append(as, string(a))
	}
	if !sameSet(rs, runtimes) || !sameSet(as, archs) {
		return false
	}
	if desc != "" && aws.ToString(v.Description) != desc {
		return false
	}
	if license != "" && aws.ToString(v.LicenseInfo) != license {
		return false
	}
	return true
}

func sameSet(a, b []string) bool {
	a, b = union(a), union(b)
	return slices.Equal(a, b)
}

func toRuntimes(rs []string) []ltypes.Runtime {
	out := make([]ltypes.Runtime, len(rs))
	for i, r := range rs {
		out[i] = ltypes.Runtime(r)
	}
	return out
}

func toArchs(as []string) []ltypes.Architecture {
	out := make([]ltypes.Architecture, len(as))
	for i, a := range as {
		out[i] = ltypes.Architecture(a)
	}
	return out
}

// upload puts the artifact at s3://bucket/key with its SHA-256 checksum and
// metadata, unless an object with the same sha256 is already there.
func (c *clients) upload(ctx context.Context, art *artifact, bucket, key string, meta map[string]string, log io.Writer) (*S3Location, error) {
	loc := &S3Location{Bucket: bucket, Key: key}
	uri := "s3://" + bucket + "/" + key
	head, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
	if err == nil && head.Metadata["sha256"] == art.hex && head.ContentLength != nil && *head.ContentLength == art.size {
		logf(log, "%s is already there", uri)
		return loc, nil
	}
	// A missing object (or bucket) is found out by the PutObject below,
	// which says which; other HeadObject errors are not fatal either.
	f, err := os.Open(art.path)
	if err != nil {
		return nil, fmt.Errorf("opening the zip: %w", err)
	}
	defer f.Close()
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	logf(log, "uploading %s (%d bytes) to %s", art.path, art.size, uri)
	_, err = c.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:            aws.String(bucket),
		Key:               aws.String(key),
		Body:              f,
		ContentLength:     aws.Int64(art.size),
		ContentType:       aws.String("application/zip"),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256,
		ChecksumSHA256:    aws.String(art.code),
		Metadata:          meta,
	})
	if err != nil {
		return nil, c.callError(ctx, "s3:PutObject", uri, err)
	}
	loc.Uploaded = true
	return loc, nil
}

func isNotFound(err error) bool {
	var nf *ltypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

// checkAgainstRecord refuses to publish a layer as compatible with an
// architecture it was not built for, or (unless it is pure Python, built for
// both architectures) with a runtime it was not built for: Lambda would
// accept it, and the function would fail at import.
func checkAgainstRecord(rec record.Record, runtimes, archs []string, source string) error {
	builtA := rec.CompatibleArchitectures()
	for _, a := range archs {
		if !slices.Contains(builtA, a) {
			return fmt.Errorf("%s says it was built for %s, not %s: its binaries would not load there (build it for %s, or pass --force)", source, strings.Join(builtA, ", "), a, a)
		}
	}
	builtR := rec.CompatibleRuntimes()
	if len(builtA) >= 2 || len(builtR) == 0 {
		return nil
	}
	for _, r := range runtimes {
		if !slices.Contains(builtR, r) {
			return fmt.Errorf("%s says it was built for %s, not %s: its extension modules are for another Python (build it for %s, or pass --force)", source, strings.Join(builtR, ", "), r, r)
		}
	}
	return nil
}
