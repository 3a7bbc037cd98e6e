package sdist

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lambdapack/lambdapack/internal/atomicfile"
	"github.com/lambdapack/lambdapack/internal/metadata"
	"github.com/lambdapack/lambdapack/internal/names"
	"github.com/lambdapack/lambdapack/internal/target"
)

// MetadataSource says where an sdist's metadata came from.
type MetadataSource string

const (
	// Static: the sdist's PKG-INFO, whose dependencies PEP 643 makes
	// binding (Metadata-Version 2.2+, none of them Dynamic).
	Static MetadataSource = "PKG-INFO"
	// Prepared: the backend's prepare_metadata_for_build_wheel.
	Prepared MetadataSource = "prepare_metadata_for_build_wheel"
	// Built: the backend has no prepare hook; the wheel was built.
	Built MetadataSource = "build_wheel"
)

// Metadata returns an sdist's core metadata for t: PKG-INFO without
// building when PEP 643 makes it binding, else the backend's answer
// (prepare_metadata_for_build_wheel, run with compilers disabled, or a
// build when the backend lacks that hook). Answers from the backend are
// cached by the sdist's sha256 and t's Python version.
func (b *Builder) Metadata(ctx context.Context, s Sdist, t target.Target) (*metadata.Metadata, []byte, MetadataSource, error) {
	c, err := Inspect(s)
	if err != nil {
		return nil, nil, "", err
	}
	if c.PKGInfo != nil {
		if md, err := metadata.Parse(c.PKGInfo); err == nil && md.DependenciesStatic() && names.Canonical(md.Name) == c.Name.Name {
			return md, c.PKGInfo, Static, nil
		}
	}
	if err := b.sdistSHA(&s); err != nil {
		return nil, nil, "", fmt.Errorf("reading sdist %s: %w", s.name(), err)
	}
	store, err := b.Cache.Dir("sdist-metadata")
	if err != nil {
		return nil, nil, "", err
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{"meta1", s.SHA256, t.Python(), hookDigest()}, "\n")))
	cached := filepath.Join(store, hex.EncodeToString(sum[:])[:32])
	if data, err := os.ReadFile(cached); err == nil {
		var v struct {
			Source   MetadataSource `json:"source"`
			Metadata []byte         `json:"metadata"`
		}
		if json.Unmarshal(data, &v) == nil {
			if md, err := metadata.Parse(v.Metadata); err == nil {
				return md, v.Metadata, v.Source, nil
			}
		}
	}
	raw, src, err := b.prepareMetadata(ctx, s, c, t)
	if err != nil {
		return nil, nil, "", err
	}
	md, err := metadata.Parse(raw)
	if err != nil {
		return nil, nil, "", fmt.Errorf("the metadata %s's backend wrote: %w", s.name(), err)
	}
	if names.Canonical(md.Name) != c.Name.Name {
		return nil, nil, "", fmt.Errorf("the backend of %s says the project is %s, not %s", s.name(), md.Name, c.Name.Name)
	}
	data, _ := json.Marshal(map[string]any{"source": src, "metadata": raw})
	_ = atomicfile.WriteFile(cached, data, 0o644) // a damaged entry is ignored when read
	return md, raw, src, nil
}

func (b *Builder) prepareMetadata(ctx context.Context, s Sdist, c *Contents, t target.Target) ([]byte, MetadataSource, error) {
	pkg, ver := c.Name.Name, c.Name.Version.String()
	fail := func(stage, out, repro string, err error) error {
		be := &BuildError{Package: pkg, Version: ver, Target: t.String(), Mode: Pure, Stage: stage, Output: out, Reproduce: repro, Err: err}
		if err == errTimeout {
			be.TimedOut = b.timeout()
		}
		if lib, ev, alts, ok := detectLibrary(pkg, out); ok {
			return &LibraryError{Package: pkg, Version: ver, Target: t.String(), Library: lib, Evidence: ev, Alternatives: alts}
		}
		return be
	}
	h, err := b.host(ctx, t.Python())
	if err != nil {
		if h, err = b.host(ctx, ""); err != nil {
			return nil, "", fail("finding a CPython to run the build backend", "", "", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeout())
	defer cancel()
	env, err := b.environment(ctx, h, c.Build.Requires)
	if err != nil {
		return nil, "", fail("installing the build requirements", "", "", err)
	}
	sc, err := b.newScratch()
	if err != nil {
		return nil, "", err
	}
	defer sc.remove()
	src, err := extract(s, sc.Src)
	if err != nil {
		return nil, "", err
	}
	sc.Top = filepath.Base(src)
	nc, err := b.noCompilers()
	if err != nil {
		return nil, "", err
	}
	run := hookRun{python: env.Python, dir: src, sc: sc, build: c.Build, watch: b.watchDirs(s, sc), sdistDir: filepath.Dir(s.Path), env: pureEnv(nc), path: []string{nc}}
	run.hook, run.args = "get_requires_for_build_wheel", map[string]any{"config_settings": nil}
	ret, out, vars, err := b.run(ctx, run)
	if err != nil {
		return nil, "", fail("get_requires_for_build_wheel", out, reproduce(s, c, env.Python, vars, "get_requires_for_build_wheel", nil), err)
	}
	var extra []string
	if json.Unmarshal(ret, &extra) == nil && len(extra) > 0 {
		if env, err = b.environment(ctx, h, append(append([]string{}, c.Build.Requires...), extra...)); err != nil {
			return nil, "", fail("installing the build requirements the backend asked for", out, "", err)
		}
		run.python = env.Python
	}
	run.hook, run.args = "prepare_metadata_for_build_wheel", map[string]any{"metadata_directory": sc.Out, "config_settings": nil}
	ret, out, vars, err = b.run(ctx, run)
	if err == errUnsupported {
		w, err := b.BuildPure(ctx, s, t)
		if err != nil {
			if w, err = b.Build(ctx, s, t); err != nil {
				return nil, "", err
			}
		}
		raw, err := ReadWheelMetadata(w.Path)
		return raw, Built, err
	}
	if err != nil {
		return nil, "", fail("prepare_metadata_for_build_wheel", out, reproduce(s, c, env.Python, vars, "prepare_metadata_for_build_wheel", nil), err)
	}
	var dir string
	if err := json.Unmarshal(ret, &dir); err != nil || dir == "" || strings.ContainsAny(dir, `/\`) || !strings.HasSuffix(dir, ".dist-info") {
		return nil, "", fail("prepare_metadata_for_build_wheel", out, "", fmt.Errorf("the backend returned %s, not a .dist-info folder name", ret))
	}
	raw, err := os.ReadFile(filepath.Join(sc.Out, dir, "METADATA"))
	if err != nil {
		return nil, "", fail("prepare_metadata_for_build_wheel", out, "", fmt.Errorf("reading the METADATA it wrote: %w", err))
	}
	return raw, Prepared, nil
}
