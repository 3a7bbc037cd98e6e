package project

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// SAMBuildDir is where `sam build` writes its template, relative to the
// project; `sam deploy` and `sam package` read it from there by default.
const SAMBuildDir = ".aws-sam/build"

// samPathProps are the properties of each resource type that hold a local
// path SAM (or the AWS CLI) resolves against the template's folder.
var samPathProps = map[string][]string{
	"AWS::Serverless::Function":     {"CodeUri"},
	"AWS::Serverless::LayerVersion": {"ContentUri"},
	"AWS::Serverless::Api":          {"DefinitionUri"},
	"AWS::Serverless::HttpApi":      {"DefinitionUri"},
	"AWS::Serverless::StateMachine": {"DefinitionUri"},
	"AWS::Serverless::Application":  {"Location"},
	"AWS::Serverless::GraphQLApi":   {"SchemaUri"},
	"AWS::Lambda::Function":         {"Code"},
	"AWS::Lambda::LayerVersion":     {"Content"},
	"AWS::CloudFormation::Stack":    {"TemplateURL"},
	"AWS::StepFunctions::StateMachine": {
		"DefinitionS3Location",
	},
	"AWS::AppSync::GraphQLSchema": {"DefinitionS3Location"},
}

// SAMBuildTemplate returns the project's SAM template as `sam build` would
// leave it in SAMBuildDir: each function and layer lambdapack built points
// at its zip (artifacts maps a function's or layer's logical ID to the zip's
// absolute path), a function that took its CodeUri from Globals gets its
// own, and every other local path is rebased so that it still names the
// same file from the new folder. Everything else (comments, short tags,
// order) is kept. An image function lambdapack pushed gets its ImageUri by
// digest, which sam deploy takes as it is; one it built but did not push
// keeps its properties, with a comment saying how to give sam deploy the
// image.
func SAMBuildTemplate(cfg *Config, data []byte, artifacts map[string]string, images ...SAMImage) ([]byte, error) {
	if cfg.Kind != KindSAM {
		return nil, fmt.Errorf("%s is not a SAM template", cfg.File)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("reading %s: %w", cfg.File, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: the template is not a mapping", cfg.File)
	}
	root := doc.Content[0]
	buildDir := filepath.Join(cfg.Dir, filepath.FromSlash(SAMBuildDir))
	rebase := func(p string) (string, bool) {
		if p == "" || strings.Contains(p, "://") || filepath.IsAbs(p) {
			return "", false
		}
		rel, err := filepath.Rel(buildDir, filepath.Join(cfg.Dir, filepath.FromSlash(p)))
		if err != nil {
			return "", false
		}
		return filepath.ToSlash(rel), true
	}
	// Globals' CodeUri would now be read from the build folder: rebase it.
	if g := path(root, "Globals", "Function", "CodeUri"); g != nil && g.Kind == yaml.ScalarNode && g.Tag != "!Ref" {
		if p, ok := rebase(g.Value); ok {
			setScalar(g, p)
		}
	}
	ks, vs := pairs(child(root, "Resources"))
	for i, k := range ks {
		typ := child(vs[i], "Type")
		if typ == nil {
			continue
		}
		props := child(vs[i], "Properties")
		if j := slices.IndexFunc(images, func(im SAMImage) bool { return im.Function == k.Value }); j >= 0 && props != nil {
			if uri := images[j].ImageURI; uri != "" {
				setProp(props, "ImageUri", uri)
			} else {
				k.HeadComment = "lambdapack built this image function but did not push it, so sam deploy cannot deploy it from here:\n" +
					"build with lambdapack build --publish --image-repo REGISTRY/REPOSITORY, which pushes it and sets its ImageUri"
			}
		}
		if zip, ok := artifacts[k.Value]; ok {
			key := "CodeUri"
			if typ.Value == "AWS::Serverless::LayerVersion" {
				key = "ContentUri"
			}
			rel, err := filepath.Rel(buildDir, zip)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k.Value, err)
			}
			if props == nil {
				props = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				vs[i].Content = append(vs[i].Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "Properties"}, props)
			}
			setProp(props, key, filepath.ToSlash(rel))
			continue
		}
		for _, key := range samPathProps[typ.Value] {
			v := child(props, key)
			if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!Ref" || v.Tag == "!Sub" {
				continue
			}
			if p, ok := rebase(v.Value); ok {
				setScalar(v, p)
			}
		}
		// An image function's Dockerfile is read from its DockerContext.
		if v := path(vs[i], "Metadata", "DockerContext"); v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			if p, ok := rebase(v.Value); ok {
				setScalar(v, p)
			}
		}
	}
	// AWS::Include transforms name files too.
	rebaseIncludes(root, rebase, 0)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("writing the build template: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SAMImage is an image function lambdapack built: ImageURI is where it was
// pushed (REPOSITORY@sha256:...), "" when it was not.
type SAMImage struct {
	Function string // its logical ID
	ImageURI string
}

func setScalar(n *yaml.Node, v string) {
	n.Kind, n.Tag, n.Value, n.Style = yaml.ScalarNode, "!!str", v, 0
	n.Content = nil
}

func setProp(props *yaml.Node, key, v string) {
	if n := child(props, key); n != nil {
		setScalar(n, v)
		return
	}
	props.Content = append(props.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
}

func rebaseIncludes(n *yaml.Node, rebase func(string) (string, bool), depth int) {
	if n == nil || depth > maxYAMLDepth {
		return
	}
	if n.Kind == yaml.MappingNode {
		if name := child(n, "Name"); name != nil && name.Value == "AWS::Include" {
			if loc := path(n, "Parameters", "Location"); loc != nil && loc.Kind == yaml.ScalarNode {
				if p, ok := rebase(loc.Value); ok {
					setScalar(loc, p)
				}
			}
		}
	}
	for _, c := range n.Content {
		rebaseIncludes(c, rebase, depth+1)
	}
}
