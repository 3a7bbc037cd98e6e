package app

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/lambdapack/lambdapack/internal/image"
	"github.com/lambdapack/lambdapack/internal/image/dockerfile"
	"github.com/lambdapack/lambdapack/internal/record"
	"github.com/lambdapack/lambdapack/internal/target"
	"github.com/lambdapack/lambdapack/internal/tree"
)

// DockerfileOptions describe a Dockerfile build.
type DockerfileOptions struct {
	Dockerfile string
	// Context is the build context (default: the Dockerfile's folder).
	Context string
	// BuildArgs are ARG=VALUE overrides.
	BuildArgs []string
	// Target names the stage to build (default: the last).
	Target string
	// Image holds the rest: architectures, sinks, verification, and
	// Handler as the CMD when the Dockerfile has none (as CDK's cmd).
	Image ImageOptions
}

// BuildDockerfile builds the Lambda subset of a Dockerfile without a
// container, for each architecture: the stage's FROM is the base, COPY and
// ADD of local files are the code layer, RUN pip/uv install is resolved and
// installed by lambdapack for the base's own target into the dependency
// layer, and ENV, WORKDIR, LABEL, CMD and ENTRYPOINT make the config.
func BuildDockerfile(ctx context.Context, env *Env, o DockerfileOptions) (*ImageReport, error) {
	start := time.Now()
	df, err := readDockerfile(o.Dockerfile)
	if err != nil {
		return nil, err
	}
	stage, err := df.Stage(o.Target)
	if err != nil {
		return nil, err
	}
	ctxDir := o.Context
	if ctxDir == "" {
		ctxDir = filepath.Dir(o.Dockerfile)
	}
	if st, err := os.Stat(ctxDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("build context %s: not a folder", ctxDir)
	}
	ignore, err := readDockerignore(ctxDir)
	if err != nil {
		return nil, err
	}
	iopts := o.Image
	archs, err := imageArchs(iopts.Archs)
	if err != nil {
		return nil, err
	}
	imagesDir, err := env.Cache.Dir("images")
	if err != nil {
		return nil, err
	}
	bo, err := env.baseOptions(imagesDir, iopts.Remote)
	if err != nil {
		return nil, err
	}
	rep := &ImageReport{Name: iopts.Name, Kind: KindImage}
	// Every architecture's base first, then the builds.
	type job struct {
		o ImageOptions
		b *image.Base
	}
	var jobs []job
	for _, arch := range archs {
		p := image.Platform(string(arch))
		args := map[string]string{
			"TARGETPLATFORM": p.OS + "/" + p.Architecture, "TARGETOS": p.OS, "TARGETARCH": p.Architecture,
			// Nothing runs on a build platform: the install is for the target.
			"BUILDPLATFORM": p.OS + "/" + p.Architecture, "BUILDOS": p.OS, "BUILDARCH": p.Architecture,
		}
		overrides := map[string]string{}
		for _, kv := range o.BuildArgs {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("--build-arg %q: want NAME=VALUE", kv)
			}
			overrides[k] = v
		}
		global := map[string]string{}
		for k, v := range args {
			global[k] = v
		}
		for _, a := range df.Args {
			kvs, err := dockerfile.KeyValues(a)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", o.Dockerfile, err)
			}
			for _, kv := range kvs {
				v, set := overrides[kv[0]]
				if !set {
					v = dockerfile.Expand(strings.TrimPrefix(kv[1], "\x00"), global)
				}
				global[kv[0]] = v
			}
		}
		from := dockerfile.Expand(stage.Image, global)
		if slices.ContainsFunc(df.Stages, func(s dockerfile.Stage) bool { return s.Name != "" && s.Name == strings.ToLower(from) }) {
			return nil, &dockerfile.Error{File: o.Dockerfile, Line: stage.From.Line, Msg: fmt.Sprintf("FROM %s starts from another stage: that needs a real container build", from)}
		}
		if stage.Platform != "" {
			want := dockerfile.Expand(stage.Platform, global)
			if want != p.OS+"/"+p.Architecture && want != p.OS+"/"+p.Architecture+"/v8" {
				return nil, &dockerfile.Error{File: o.Dockerfile, Line: stage.From.Line, Msg: fmt.Sprintf("FROM --platform=%s, but building for %s: drop --platform from FROM (lambdapack builds each --arch from one Dockerfile) or build --arch %s", want, arch, strings.TrimPrefix(want, "linux/"))}
			}
		}
		ab := iopts
		ab.Base = from
		if rep.Base == "" {
			rep.Base = from
		}
		run := &dockerRun{file: o.Dockerfile, stage: stage, ctxDir: ctxDir, ignore: ignore, global: global, overrides: overrides, o: iopts}
		ab.tree = run.plan
		ab.build = run.configure
		if ab.Handler == "" {
			ab.Handler = "-" // the CMD comes from the Dockerfile
		}
		b, err := fetchBase(ctx, env, ab, bo, arch)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, job{ab, b})
	}
	for _, j := range jobs {
		info, err := buildOneImage(ctx, env, j.o, j.b, &image.LayerCache{Dir: imagesDir}, nil)
		if err != nil {
			return nil, err
		}
		rep.Images = append(rep.Images, info)
	}
	if err := shipImages(ctx, env, iopts, rep); err != nil {
		return nil, err
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

func readDockerfile(p string) (*dockerfile.File, error) {
	if p == "" {
		return nil, errors.New("no Dockerfile: pass --dockerfile PATH")
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading the Dockerfile: %w", err)
	}
	defer f.Close()
	return dockerfile.Parse(f, p)
}

// readDockerignore reads the context's .dockerignore as exclude globs.
func readDockerignore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "!") {
			return nil, fmt.Errorf("%s:%d: exceptions (!%s) are not supported: list what to leave out instead", filepath.Join(dir, ".dockerignore"), n, l[1:])
		}
		out = append(out, strings.TrimPrefix(path.Clean("/"+l), "/"))
	}
	return out, sc.Err()
}

// dockerRun carries out one stage of a Dockerfile for one architecture.
type dockerRun struct {
	file      string
	stage     *dockerfile.Stage
	ctxDir    string
	ignore    []string
	global    map[string]string
	overrides map[string]string
	o         ImageOptions

	// Filled by plan for configure.
	env        []string
	workdir    string
	entrypoint []string
	cmd        []string
	labels     map[string]string
	setEntry   bool
	setCmd     bool
}

func (r *dockerRun) errorf(ins dockerfile.Instruction, format string, args ...any) error {
	return &dockerfile.Error{File: r.file, Line: ins.Line, Msg: fmt.Sprintf(format, args...)}
}

type pipStep struct {
	ins     dockerfile.Instruction
	target  string // absolute folder in the image
	deps    Inputs
	workdir string
}

// plan runs the stage's instructions against the base: files copied, the
// packages pip would install, and the config.
func (r *dockerRun) plan(ctx context.Context, env *Env, b *image.Base, t target.Target) (*tree.Tree, error) {
	cf, err := b.Image.ConfigFile()
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, kv := range cf.Config.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	r.env = slices.Clone(cf.Config.Env)
	r.workdir = cf.Config.WorkingDir
	if r.workdir == "" {
		r.workdir = "/"
	}
	r.labels = map[string]string{}
	dirs := map[string]bool{"/": true, r.workdir: true, image.TaskRoot: true, "/opt": true, "/tmp": true}
	if v := vars["LAMBDA_TASK_ROOT"]; v != "" {
		dirs[v] = true
	}
	files := map[string]*tree.File{} // absolute image path -> file
	var pips []pipStep
	abs := func(p string) string {
		if !strings.HasPrefix(p, "/") {
			p = path.Join(r.workdir, p)
		}
		return path.Clean(p)
	}
	for _, ins := range r.stage.Steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch ins.Cmd {
		case "ARG":
			kvs, err := dockerfile.KeyValues(ins)
			if err != nil {
				return nil, r.errorf(ins, "%v", err)
			}
			for _, kv := range kvs {
				name, def := kv[0], kv[1]
				if v, ok := r.overrides[name]; ok {
					vars[name] = v
				} else if g, ok := r.global[name]; ok && def == "\x00" {
					vars[name] = g
				} else if def != "\x00" {
					vars[name] = dockerfile.Expand(def, vars)
				}
			}
		case "ENV":
			kvs, err := dockerfile.KeyValues(ins)
			if err != nil {
				return nil, r.errorf(ins, "%v", err)
			}
			for _, kv := range kvs {
				v := dockerfile.Expand(kv[1], vars)
				vars[kv[0]] = v
				r.env = setEnvList(r.env, kv[0]+"="+v)
			}
		case "LABEL":
			kvs, err := dockerfile.KeyValues(ins)
			if err != nil {
				return nil, r.errorf(ins, "%v", err)
			}
			for _, kv := range kvs {
				r.labels[dockerfile.Expand(kv[0], vars)] = dockerfile.Expand(kv[1], vars)
			}
		case "WORKDIR":
			if len(ins.Args) != 1 {
				return nil, r.errorf(ins, "WORKDIR takes one folder")
			}
			r.workdir = abs(dockerfile.Expand(ins.Args[0], vars))
			dirs[r.workdir] = true
		case "CMD", "ENTRYPOINT":
			if !ins.JSON {
				return nil, r.errorf(ins, `%s in shell form runs through /bin/sh -c, which Lambda bases and distroless images do not start as a handler: write the JSON form, %s ["module.handler"]`, ins.Cmd, ins.Cmd)
			}
			args := make([]string, len(ins.Args))
			for i, a := range ins.Args {
				args[i] = dockerfile.Expand(a, vars)
			}
			if ins.Cmd == "CMD" {
				r.cmd, r.setCmd = args, true
			} else {
				r.entrypoint, r.setEntry = args, true
				if !r.setCmd {
					r.cmd = []string{} // ENTRYPOINT resets the base's CMD
				}
			}
		case "COPY", "ADD":
			n, err := r.copy(ins, vars, abs, dirs, files)
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, r.errorf(ins, "%s copies nothing: no file of the context matches (or .dockerignore leaves them all out)", ins.Cmd)
			}
		case "RUN":
			ps, err := r.pip(ins, vars, abs, files)
			if err != nil {
				return nil, err
			}
			pips = append(pips, ps)
			dirs[ps.target] = true
		}
	}

	tr := &tree.Tree{Record: record.Record{Kind: record.KindImage, Runtime: t.Runtime, Architecture: string(t.Arch), Python: t.Python(), Version: CurrentVersion()}, Pure: true}
	ok := false
	defer func() {
		if !ok {
			tr.Close()
		}
	}()
	// One resolution per target folder: installs into the same folder are
	// one set, as pip leaves them.
	var targets []string
	byTarget := map[string]*pipStep{}
	for i := range pips {
		p := &pips[i]
		if m, ok := byTarget[p.target]; ok {
			m.deps.Requirements = append(m.deps.Requirements, p.deps.Requirements...)
			m.deps.RequirementFiles = append(m.deps.RequirementFiles, p.deps.RequirementFiles...)
			m.deps.ConstraintFiles = append(m.deps.ConstraintFiles, p.deps.ConstraintFiles...)
			m.deps.Pre = m.deps.Pre || p.deps.Pre
			continue
		}
		byTarget[p.target] = p
		targets = append(targets, p.target)
	}
	var reqHashes []string
	for _, tgt := range targets {
		p := byTarget[tgt]
		// The pipeline plans what pip --target would leave in the folder:
		// a function's packages, without code.
		// Verified as installed, before anything of the image is built;
		// a resolved wheel verification refuses is replaced (refuse.go).
		label := fmt.Sprintf("%s:%d (%s)", r.file, p.ins.Line, t.Arch)
		sub, findings, err := env.planPackages(ctx, ArtifactOptions{Kind: KindFunction, Deps: p.deps, Targets: []target.Target{t},
			ExcludePackages: r.o.ExcludePackages, Slim: r.o.Slim, StripPatterns: r.o.StripPatterns, Compile: r.o.Compile,
			NoVerify: r.o.NoVerify, Strict: r.o.Strict, Force: r.o.Force}, CheckOptions{Name: label, Strict: r.o.Strict, Force: r.o.Force})
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", r.file, p.ins.Line, err)
		}
		tr.OnClose(sub)
		for _, f := range findings {
			tr.Notes = append(tr.Notes, fmt.Sprintf("%s %s: %s: %s", f.Severity, f.Rule, f.File, f.Message))
		}
		tr.Notes = append(tr.Notes, sub.Notes...)
		tr.Pure = tr.Pure && sub.Pure
		reqHashes = append(reqHashes, tgt+"="+sub.Record.RequirementsSHA256)
		part := tree.Part{Targets: []target.Target{t}, Root: strings.TrimPrefix(tgt, "/") + "/"}
		for _, sp := range sub.Parts {
			part.Dists = append(part.Dists, sp.Dists...)
		}
		for i := range sub.Files {
			g := sub.Files[i]
			g.Path = path.Join(tgt, g.Path)
			g.Part = len(tr.Parts)
			files[g.Path] = &g
		}
		tr.Parts = append(tr.Parts, part)
	}
	switch len(reqHashes) {
	case 0:
	case 1:
		tr.Record.RequirementsSHA256 = strings.TrimPrefix(reqHashes[0], targets[0]+"=")
	default:
		h := sha256.Sum256([]byte(strings.Join(reqHashes, "\n")))
		tr.Record.RequirementsSHA256 = hex.EncodeToString(h[:])
	}
	for p, f := range files {
		g := *f
		g.Path = strings.TrimPrefix(p, "/")
		tr.Files = append(tr.Files, g)
	}
	if err := tr.Sort(); err != nil {
		return nil, err
	}
	if !r.setCmd && r.o.Handler != "" && r.o.Handler != "-" {
		r.cmd, r.setCmd = []string{r.o.Handler}, true
	}
	if b.Info.Lambda && !r.setCmd && len(cf.Config.Cmd) == 0 {
		return nil, fmt.Errorf("%s has no CMD and the Lambda base has none: add CMD [\"module.handler\"] or pass --handler module.handler", r.file)
	}
	if err := r.checkRuntimeClient(b, cf); err != nil {
		return nil, err
	}
	ok = true
	return tr, nil
}

// handlerLike matches a CMD that names a handler (module.function).
var handlerLike = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*\.[A-Za-z_][A-Za-z0-9_]*$`)

// checkRuntimeClient refuses an image Lambda cannot start: on a base that
// is not Lambda's, only a runtime client (awslambdaric) turns a handler
// into a running function, so a CMD naming a handler must be run by one.
// When the entrypoint is the base's interpreter or none (distroless's
// python3, python:3.X-slim's CMD python3), nothing would: the image would
// run "python3 app.handler" and fail at its first invocation. An entrypoint
// of the Dockerfile's own that is not an interpreter (a script, a
// bootstrap) is trusted.
func (r *dockerRun) checkRuntimeClient(b *image.Base, cf *v1.ConfigFile) error {
	if b.Info.Lambda {
		return nil
	}
	ep, cmd := cf.Config.Entrypoint, cf.Config.Cmd
	if r.setEntry {
		ep = r.entrypoint
	}
	if r.setCmd || r.setEntry {
		cmd = r.cmd
	}
	argv := append(slices.Clone(ep), cmd...)
	if slices.ContainsFunc(argv, func(a string) bool { return strings.Contains(a, "awslambdaric") }) {
		return nil
	}
	if len(ep) > 0 && !strings.HasPrefix(path.Base(ep[0]), "python") {
		return nil
	}
	if len(cmd) != 1 || !handlerLike.MatchString(cmd[0]) {
		return nil
	}
	python := b.Info.Interpreter
	if len(ep) > 0 {
		python = ep[0]
	}
	return fmt.Errorf("%s: base %s is not a Lambda base, and nothing in the image starts a Lambda runtime client: it would run %q, which does not serve the handler %s. Install awslambdaric and start it: RUN pip install awslambdaric --target %s, then ENTRYPOINT [\"%s\", \"-m\", \"awslambdaric\"] (CMD stays the handler)",
		r.file, b.Ref, strings.Join(argv, " "), cmd[0], image.TaskRoot, python)
}

// configure hands the Dockerfile's config to image.Build.
func (r *dockerRun) configure(bo *image.BuildOptions) {
	bo.Verbatim = true
	bo.Root = "/"
	bo.Env = r.env
	bo.WorkingDir = r.workdir
	bo.Labels = r.labels
	if r.o.Handler == "-" {
		bo.Handler = ""
	}
	if r.setEntry {
		bo.Entrypoint = r.entrypoint
	}
	if r.setCmd || r.setEntry {
		bo.Cmd = r.cmd
		bo.Handler = ""
	}
}

// copy carries out COPY/ADD of local files into files.
func (r *dockerRun) copy(ins dockerfile.Instruction, vars map[string]string, abs func(string) string, dirs map[string]bool, files map[string]*tree.File) (int, error) {
	for k, v := range ins.Flags {
		switch {
		case k == "from":
			return 0, r.errorf(ins, "%s --from=%s copies from another stage or image: that needs a real container build", ins.Cmd, v)
		case k == "chown" && (v == "root" || v == "0" || v == "root:root" || v == "0:0"):
		case k == "chmod":
			if _, err := strconv.ParseUint(v, 8, 32); err != nil {
				return 0, r.errorf(ins, "--chmod=%s: want octal permissions", v)
			}
		case k == "link":
		default:
			return 0, r.errorf(ins, "%s --%s=%s is not supported: lambdapack writes files owned by root, world-readable", ins.Cmd, k, v)
		}
	}
	if len(ins.Args) < 2 {
		return 0, r.errorf(ins, "%s needs a source and a destination", ins.Cmd)
	}
	args := make([]string, len(ins.Args))
	for i, a := range ins.Args {
		args[i] = dockerfile.Expand(a, vars)
	}
	srcs, rawDest := args[:len(args)-1], args[len(args)-1]
	dest := abs(rawDest)
	destIsDir := strings.HasSuffix(rawDest, "/") || rawDest == "." || len(srcs) > 1 || dirs[dest]
	count := 0
	for _, src := range srcs {
		if strings.Contains(src, "://") {
			return 0, r.errorf(ins, "%s of a URL (%s) needs a real container build: download the file into the context and COPY it", ins.Cmd, src)
		}
		if ins.Cmd == "ADD" && isArchiveName(src) {
			return 0, r.errorf(ins, "ADD of an archive (%s) unpacks it, which lambdapack does not do: unpack it into the context and COPY the folder", src)
		}
		clean := strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(src)), "/")
		matches, err := filepath.Glob(filepath.Join(r.ctxDir, filepath.FromSlash(clean)))
		if err != nil {
			return 0, r.errorf(ins, "%s: %v", src, err)
		}
		if clean == "" {
			matches = []string{r.ctxDir}
		}
		if len(matches) == 0 {
			return 0, r.errorf(ins, "%s %s: no such file in the context %s", ins.Cmd, src, r.ctxDir)
		}
		for _, m := range matches {
			st, err := os.Stat(m)
			if err != nil {
				return 0, r.errorf(ins, "%s: %v", src, err)
			}
			if st.IsDir() {
				sf, err := collectSource(m, r.ignoreFor(m))
				if err != nil {
					return 0, r.errorf(ins, "%v", err)
				}
				for _, f := range sf {
					r.put(files, path.Join(dest, f.Rel), f.Abs, f.Mode, f.Size, ins.Flags["chmod"])
					count++
				}
				dirs[dest] = true
				continue
			}
			rel, _ := filepath.Rel(r.ctxDir, m)
			if r.ignored(filepath.ToSlash(rel)) {
				continue
			}
			to := dest
			if destIsDir {
				to = path.Join(dest, filepath.Base(m))
			}
			r.put(files, to, m, st.Mode(), st.Size(), ins.Flags["chmod"])
			count++
		}
	}
	return count, nil
}

func (r *dockerRun) put(files map[string]*tree.File, to, disk string, mode fs.FileMode, size int64, chmod string) {
	if chmod != "" {
		m, _ := strconv.ParseUint(chmod, 8, 32)
		mode = fs.FileMode(m)
	}
	files[to] = &tree.File{Path: to, Mode: mode & 0o755, Size: size, Origin: tree.FromDisk, Disk: disk, Role: tree.RoleCode}
}

// ignoreFor turns the context's .dockerignore into excludes relative to dir.
func (r *dockerRun) ignoreFor(dir string) []string {
	rel, _ := filepath.Rel(r.ctxDir, dir)
	rel = filepath.ToSlash(rel)
	var out []string
	for _, p := range r.ignore {
		switch {
		case rel == ".":
			out = append(out, p)
		case strings.HasPrefix(p, rel+"/"):
			out = append(out, strings.TrimPrefix(p, rel+"/"))
		case !strings.Contains(p, "/"):
			out = append(out, p)
		}
	}
	return out
}

func (r *dockerRun) ignored(rel string) bool {
	for _, p := range r.ignore {
		if ok, _ := path.Match(p, rel); ok || rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

func isArchiveName(s string) bool {
	for _, ext := range []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"} {
		if strings.HasSuffix(s, ext) {
			return true
		}
	}
	return false
}

// pip reads RUN pip install ... (pip, pip3, python -m pip, uv pip) into the
// packages to install and where.
func (r *dockerRun) pip(ins dockerfile.Instruction, vars map[string]string, abs func(string) string, files map[string]*tree.File) (pipStep, error) {
	notPip := func(why string) error {
		return r.errorf(ins, "RUN %s: %s; lambdapack runs no commands, only package installs (RUN pip install -r requirements.txt --target ${LAMBDA_TASK_ROOT}): this Dockerfile needs a real container build", strings.TrimSpace(ins.Raw), why)
	}
	args := ins.Args
	for _, a := range args {
		if a == "&&" || a == ";" || a == "|" || a == "||" || strings.HasSuffix(a, ";") {
			return pipStep{}, notPip("a chain of commands")
		}
	}
	for i, a := range args {
		args[i] = dockerfile.Expand(a, vars)
	}
	switch {
	case len(args) >= 2 && (args[0] == "pip" || args[0] == "pip3" || strings.HasPrefix(args[0], "pip3.") || strings.HasSuffix(args[0], "/pip") || strings.HasSuffix(args[0], "/pip3")):
		args = args[1:]
	case len(args) >= 3 && strings.Contains(path.Base(args[0]), "python") && args[1] == "-m" && args[2] == "pip":
		args = args[3:]
	case len(args) >= 2 && (args[0] == "uv" || strings.HasSuffix(args[0], "/uv")) && args[1] == "pip":
		args = args[2:]
	default:
		return pipStep{}, notPip("not a package install")
	}
	if len(args) == 0 || args[0] != "install" {
		return pipStep{}, notPip("only pip install is carried out")
	}
	args = args[1:]
	ps := pipStep{ins: ins, workdir: r.workdir}
	value := func(i *int, a, long, short string) (string, bool) {
		switch {
		case a == long || (short != "" && a == short):
			if *i+1 < len(args) {
				*i++
				return args[*i], true
			}
			return "", true
		case strings.HasPrefix(a, long+"="):
			return strings.TrimPrefix(a, long+"="), true
		case short != "" && strings.HasPrefix(a, short) && len(a) > len(short):
			return strings.TrimPrefix(a, short), true
		}
		return "", false
	}
	reqFile := func(p string) (string, error) {
		ip := abs(p)
		f, ok := files[ip]
		if !ok || f.Origin != tree.FromDisk {
			return "", r.errorf(ins, "%s is not in the image at this point: COPY it in before this RUN", ip)
		}
		return f.Disk, nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if v, ok := value(&i, a, "--requirement", "-r"); ok {
			p, err := reqFile(v)
			if err != nil {
				return ps, err
			}
			ps.deps.RequirementFiles = append(ps.deps.RequirementFiles, p)
			continue
		}
		if v, ok := value(&i, a, "--constraint", "-c"); ok {
			p, err := reqFile(v)
			if err != nil {
				return ps, err
			}
			ps.deps.ConstraintFiles = append(ps.deps.ConstraintFiles, p)
			continue
		}
		if v, ok := value(&i, a, "--target", "-t"); ok {
			ps.target = abs(v)
			continue
		}
		switch {
		case a == "--pre":
			ps.deps.Pre = true
		case slices.Contains([]string{"--no-cache-dir", "--no-cache", "--verbose", "-v", "-vv", "-vvv", "-q", "--quiet", "-U", "--upgrade",
			"--disable-pip-version-check", "--no-compile", "--compile", "--system", "--prefer-binary", "--no-warn-script-location"}, a),
			strings.HasPrefix(a, "--root-user-action"), strings.HasPrefix(a, "--only-binary"), strings.HasPrefix(a, "--progress-bar"):
			// No effect on what lambdapack installs.
		case slices.Contains([]string{"--platform", "--python-version", "--implementation", "--abi", "--python-platform", "--python"}, a):
			i++ // lambdapack installs for the base's own target
		case strings.HasPrefix(a, "--platform=") || strings.HasPrefix(a, "--python-version=") || strings.HasPrefix(a, "--implementation=") ||
			strings.HasPrefix(a, "--abi=") || strings.HasPrefix(a, "--python-platform=") || strings.HasPrefix(a, "--python="):
		case a == "-i" || strings.HasPrefix(a, "--index-url") || strings.HasPrefix(a, "--extra-index-url") || strings.HasPrefix(a, "--find-links") || a == "-f":
			return ps, r.errorf(ins, "%s in RUN: give the index to lambdapack (--index-url, --extra-index-url, --find-links, or pip's configuration)", a)
		case a == "-e" || strings.HasPrefix(a, "--editable") || a == "." || strings.HasPrefix(a, "./") || strings.HasPrefix(a, "/"):
			return ps, r.errorf(ins, "installing a local project (%s) builds it, which needs a real container build: build a wheel and list it, or COPY the code", a)
		case strings.HasPrefix(a, "-"):
			return ps, r.errorf(ins, "pip option %s is not supported without a container", a)
		default:
			ps.deps.Requirements = append(ps.deps.Requirements, a)
		}
	}
	if ps.target == "" {
		return ps, r.errorf(ins, "pip install without --target installs into the base's own Python, which lambdapack does not rewrite: add --target ${LAMBDA_TASK_ROOT} (the task root is on Lambda's sys.path)")
	}
	if ps.deps.Empty() {
		return ps, r.errorf(ins, "pip install with nothing to install")
	}
	return ps, nil
}

func setEnvList(env []string, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if ek, _, _ := strings.Cut(e, "="); ek == k {
			out := slices.Clone(env)
			out[i] = kv
			return out
		}
	}
	return append(slices.Clone(env), kv)
}
