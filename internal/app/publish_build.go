package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/image/remote"
	"github.com/lambdapack/lambdapack/internal/project"
	"github.com/lambdapack/lambdapack/internal/publish"
	"github.com/lambdapack/lambdapack/internal/record"
)

// PublishBuildOptions are lambdapack build --publish's: where layers go,
// and how the project's functions are found in AWS.
type PublishBuildOptions struct {
	// Bucket and KeyPrefix stage layer and function zips in S3 (needed
	// over 50 MB).
	Bucket, KeyPrefix string
	// StackName is the SAM stack the project is deployed as, for functions
	// without a FunctionName; "" means samconfig's stack_name.
	StackName string
	// UpdateLayers also points each function that uses layers of the
	// project at the versions just published (UpdateFunctionConfiguration):
	// its layers become the project's it uses, in the config's order, then
	// its other layers as the config writes them (which must be ARNs).
	// Without it a function's layers are left to the deploy tool.
	UpdateLayers bool

	// Timeout and PollInterval bound the waits for Lambda's updates.
	Timeout, PollInterval time.Duration
	AWS                   publish.AWSOptions
	// Log receives step lines; Out the result of each publish (nil: none).
	Log, Out io.Writer
}

// PublishedFunction is a project function that build --publish updated.
type PublishedFunction struct {
	Name         string                        `json:"name"`          // in the config
	FunctionName string                        `json:"function_name"` // in AWS
	Code         *publish.FunctionResult       `json:"code,omitempty"`
	Image        *publish.FunctionImageResult  `json:"image,omitempty"`
	Layers       *publish.FunctionLayersResult `json:"layers,omitempty"`
}

// PublishBuild ships what a build made: every layer is published, then
// every function's code is updated as the deploy tool named it (its zip,
// through S3 when --bucket is given, or its pushed image by digest), each
// waited for, and with UpdateLayers the functions' layers set. Nothing is
// published until every function's deployed name is known, each function
// exists, and the layers to set can all be written. An update that changes nothing (the same
// CodeSha256, image, layers) is not made.
func PublishBuild(ctx context.Context, rep *BuildReport, cfg *project.Config, o PublishBuildOptions) error {
	var fns []*BuiltArtifact
	for _, a := range rep.Artifacts {
		if a.Kind == KindFunction || a.Kind == record.KindImage {
			fns = append(fns, a)
		}
	}
	if cfg.Kind == project.KindSAM {
		d, err := project.ReadSAMDeploy(cfg.Dir, "")
		if err != nil {
			return err
		}
		if d.Region != "" && o.AWS.Region == "" && o.AWS.Config == nil {
			o.AWS.Region = d.Region
			logLine(o.Log, "Region %s, from %s", d.Region, filepath.Base(d.File))
		}
		if o.StackName == "" {
			o.StackName = d.StackName
		}
	}
	names, err := deployedNames(ctx, cfg, fns, o)
	if err != nil {
		return err
	}
	layersOf, err := functionLayers(cfg, rep, fns, o)
	if err != nil {
		return err
	}
	var all []string
	for _, a := range fns {
		all = append(all, names[a.Name])
	}
	if err := publish.FunctionsExist(ctx, o.AWS, all); err != nil {
		return err
	}

	// Layers first: functions may need their new versions.
	arns := map[string]string{}
	for _, a := range rep.Artifacts {
		if a.Kind != KindLayer {
			continue
		}
		po := publish.LayerOptions{
			ZipPath: a.Path, Name: a.Name, Bucket: o.Bucket, KeyPrefix: o.KeyPrefix,
			Runtimes: append([]string{a.Runtime}, a.Runtimes...), Architectures: a.Architectures,
			RequirementsSHA256: a.RequirementsSHA256, AWS: o.AWS, Log: o.Log,
		}
		pr, err := PublishLayer(ctx, orDiscardWriter(o.Out), po, false)
		if err != nil {
			return err
		}
		rep.Published = append(rep.Published, pr)
		arns[a.Name] = pr.LayerVersionARN
	}

	for _, a := range fns {
		f, _ := cfg.Function(a.Name)
		pf := &PublishedFunction{Name: a.Name, FunctionName: names[a.Name]}
		rep.FunctionsUpdated = append(rep.FunctionsUpdated, pf)
		if uses := layersOf[a.Name]; uses != nil {
			var want []string
			for _, u := range uses.project {
				want = append(want, arns[u])
			}
			want = append(want, uses.external...)
			if pf.Layers, err = publish.FunctionLayers(ctx, publish.FunctionLayersOptions{
				FunctionName: pf.FunctionName, Layers: want, Timeout: o.Timeout, PollInterval: o.PollInterval, AWS: o.AWS, Log: o.Log,
			}); err != nil {
				return fmt.Errorf("%s: function %s (%s): setting its layers: %w", f.Pos, a.Name, pf.FunctionName, err)
			}
		} else if len(f.Layers) > 0 && a.Kind == KindFunction {
			msg := fmt.Sprintf("function %s (%s) uses layers of the project: its layers were left as they are (pass --update-layers to point it at the versions just published, or deploy with your tool)", a.Name, pf.FunctionName)
			rep.Notes = append(rep.Notes, BuildNote{Level: "note", Message: msg, Artifacts: []string{a.Name}})
			logLine(o.Log, "note: %s", msg)
		}
		if a.Kind == record.KindImage {
			if a.Image == nil || a.Image.Ref == "" {
				return fmt.Errorf("%s: function %s: its image was not pushed: build with --publish --image-repo REGISTRY/REPOSITORY", f.Pos, a.Name)
			}
			// Pushed by this build, by digest: nothing to resolve.
			pushed := func(context.Context, string) (string, string, error) { return a.Image.Ref, a.Architecture, nil }
			pf.Image, err = PublishFunctionImage(ctx, orDiscardWriter(o.Out), publish.FunctionImageOptions{
				ImageURI: a.Image.Ref, FunctionName: pf.FunctionName, Architecture: a.Architecture, Resolve: pushed,
				Timeout: o.Timeout, PollInterval: o.PollInterval, AWS: o.AWS, Log: o.Log,
			}, remote.Options{}, false)
		} else {
			pf.Code, err = PublishFunction(ctx, orDiscardWriter(o.Out), publish.FunctionOptions{
				ZipPath: a.Path, FunctionName: pf.FunctionName, Bucket: o.Bucket, KeyPrefix: o.KeyPrefix,
				Timeout: o.Timeout, PollInterval: o.PollInterval, AWS: o.AWS, Log: o.Log,
			}, false)
		}
		if err != nil {
			return fmt.Errorf("%s: function %s: %w", f.Pos, a.Name, err)
		}
	}
	return nil
}

// deployedNames finds the name each function has in AWS, as its deploy
// tool names it: the config's (SAM FunctionName; Serverless name, else
// service-stage-key; [tool.lambdapack] function-name), else for SAM the
// physical ID CloudFormation gave it in the deployed stack. A function
// whose name cannot be found is an error naming it and saying how to give
// it; nothing is looked up until every other name is known.
func deployedNames(ctx context.Context, cfg *project.Config, fns []*BuiltArtifact, o PublishBuildOptions) (map[string]string, error) {
	names := map[string]string{}
	var lookup []string
	var errs []error
	for _, a := range fns {
		f, ok := cfg.Function(a.Name)
		if !ok {
			return nil, fmt.Errorf("function %s is not in %s", a.Name, cfg.File)
		}
		if f.FunctionName != "" {
			names[a.Name] = f.FunctionName
			continue
		}
		switch cfg.Kind {
		case project.KindSAM:
			lookup = append(lookup, a.Name)
		case project.KindServerless:
			errs = append(errs, fmt.Errorf("%s: function %s: its deployed name (name:, else ${service}-${stage}-%s) is not known here: set functions.%s.name to the function's name in AWS", f.Pos, a.Name, a.Name, a.Name))
		default:
			table := "[functions." + a.Name + "]"
			if filepath.Base(cfg.File) == "pyproject.toml" {
				table = "[tool.lambdapack.functions." + a.Name + "]"
			}
			errs = append(errs, fmt.Errorf("%s: function %s has no deployed name: add function-name = \"NAME\" (the Lambda function's name or ARN) under %s in %s", f.Pos, a.Name, table, filepath.Base(cfg.File)))
		}
	}
	if len(lookup) > 0 && o.StackName == "" {
		for _, n := range lookup {
			f, _ := cfg.Function(n)
			errs = append(errs, fmt.Errorf("%s: function %s has no FunctionName, so CloudFormation named it when the stack was deployed: give the stack with --stack-name (or stack_name in samconfig.toml), or set its FunctionName", f.Pos, n))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(lookup) > 0 {
		logLine(o.Log, "Looking up %s in stack %s", strings.Join(lookup, ", "), o.StackName)
		ids, err := publish.StackResources(ctx, o.AWS, o.StackName, lookup)
		if err != nil {
			return nil, err
		}
		for n, id := range ids {
			names[n] = id
		}
	}
	return names, nil
}

// layerUses are the layers --update-layers gives a function: the
// project's (by their build's artifact name) and the others' ARNs.
type layerUses struct {
	project, external []string
}

// layerVersionARN is a layer version's ARN.
var layerVersionARN = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$`)

// functionLayers says, with UpdateLayers, which layers each zip function
// that uses layers of the project gets; a layer the config gives as
// something other than an ARN (a !Ref, a parameter) cannot be set here and
// is an error before anything is published.
func functionLayers(cfg *project.Config, rep *BuildReport, fns []*BuiltArtifact, o PublishBuildOptions) (map[string]*layerUses, error) {
	if !o.UpdateLayers {
		return nil, nil
	}
	built := map[string]bool{}
	for _, a := range rep.Artifacts {
		if a.Kind == KindLayer {
			built[a.Name] = true
		}
	}
	out := map[string]*layerUses{}
	var errs []error
	for _, a := range fns {
		f, _ := cfg.Function(a.Name)
		if a.Kind != KindFunction || len(f.Layers) == 0 {
			continue
		}
		u := &layerUses{}
		for _, l := range f.Layers {
			name := l.Name + "-" + string(l.Arch)
			if !built[name] {
				errs = append(errs, fmt.Errorf("%s: function %s: its layer %s was not built, so --update-layers cannot set it", f.Pos, a.Name, l.Name))
				continue
			}
			u.project = append(u.project, name)
		}
		for _, x := range f.ExternalLayers {
			if !layerVersionARN.MatchString(x) {
				errs = append(errs, fmt.Errorf("%s: function %s: its layer %s is resolved by the deploy tool, so --update-layers cannot set the function's layers: write the layer version's ARN in the config, or leave out --update-layers", f.Pos, a.Name, x))
				continue
			}
			u.external = append(u.external, x)
		}
		if n := len(u.project) + len(u.external); n > 5 {
			errs = append(errs, fmt.Errorf("%s: function %s would have %d layers, over Lambda's 5", f.Pos, a.Name, n))
		}
		out[a.Name] = u
	}
	return out, errors.Join(errs...)
}

func logLine(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

func orDiscardWriter(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
