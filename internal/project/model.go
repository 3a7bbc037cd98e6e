package project

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lambdapack/lambdapack/internal/target"
)

// Kinds of config files Load understands.
const (
	KindPyproject  = "pyproject.toml"
	KindLambdapack = "lambdapack.toml"
	KindServerless = "serverless"
	KindSAM        = "sam"
)

// Pos is where something was written: a file and a 1-based line (0 when
// unknown).
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return p.File
}

// Error is a mistake in a config: where, what, and what to write instead.
type Error struct {
	Pos  Pos
	Msg  string
	Hint string
}

func (e *Error) Error() string {
	s := e.Pos.String() + ": " + e.Msg
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Location returns where the first config mistake in err was written: the
// file and line a build's --json error object carries. It looks through
// wrapped and joined errors; ok is false when err names no config position.
func Location(err error) (pos Pos, ok bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Pos, true
	}
	if j, isJoin := err.(interface{ Unwrap() []error }); isJoin {
		for _, x := range j.Unwrap() {
			if p, ok := Location(x); ok {
				return p, true
			}
		}
	}
	return Pos{}, false
}

func errorf(pos Pos, hint, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// Deps says where a function's or layer's dependencies come from. Inline
// requirements may come with a requirements file (a plugin's additions);
// a lock stands alone. None set means no third-party dependencies.
type Deps struct {
	Requirements string   // a requirements file, relative to Config.Dir
	Lock         string   // pylock.toml, uv.lock, poetry.lock or Pipfile.lock, relative to Config.Dir
	Inline       []string // PEP 508 requirement strings (converted from Poetry or Pipfile syntax where read from those)
	// From says where the dependencies were declared, for messages:
	// "requirements.txt", "pyproject.toml [tool.poetry.dependencies]",
	// "Pipfile [packages]".
	From string
	Pos  Pos
}

// Empty reports whether no dependencies are declared.
func (d Deps) Empty() bool { return d.Requirements == "" && d.Lock == "" && len(d.Inline) == 0 }

// Options are the packaging options a function or layer can set.
type Options struct {
	ExcludePackages []string // distributions left out (e.g. boto3: the runtime has it)
	Slim            bool     // the conservative strip preset
	StripPatterns   []string // extra globs removed from the artifact
	Compile         bool     // byte-compile with unchecked-hash pycs
}

// PackageKind says what a function's or layer's own files are.
type PackageKind uint8

// Package kinds.
const (
	// PackageNone: no files of its own (a layer made of dependencies only).
	PackageNone PackageKind = iota
	// PackageFolder: the files of folder Path that Files selects, placed
	// under Prefix.
	PackageFolder
	// PackageFile: the one file Path, at the root (a one-file function).
	PackageFile
	// PackageZip: a zip built elsewhere (Path), taken as the artifact as it
	// is and verified.
	PackageZip
	// PackageSkip: nothing is built; Reason says why (InlineCode, a
	// non-Python runtime, code already in S3, a container image).
	PackageSkip
)

func (k PackageKind) String() string {
	switch k {
	case PackageNone:
		return "none"
	case PackageFolder:
		return "folder"
	case PackageFile:
		return "file"
	case PackageZip:
		return "zip"
	case PackageSkip:
		return "skip"
	}
	return fmt.Sprintf("PackageKind(%d)", uint8(k))
}

// Package is what goes into an artifact from the project's own files.
type Package struct {
	Kind PackageKind
	// Path is the folder, file or zip, slash-separated and relative to
	// Config.Dir (it may start with "../" only for a SAM CodeUri, which SAM
	// allows outside the template's folder).
	Path string
	// Prefix is the folder inside the artifact the files go under: "" for
	// a function, "python/" for a SAM layer's own modules.
	Prefix string
	// Files selects the files of a PackageFolder (paths relative to Path).
	Files *Matcher
	// Reason says why a PackageSkip is skipped.
	Reason string
}

// Skipped reports whether nothing is built.
func (p Package) Skipped() bool { return p.Kind == PackageSkip }

// LayerUse is a function's use of a layer built from this project.
type LayerUse struct {
	Name string // Config.Layer(Name)
	// Arch is the build of the layer the function gets: its own
	// architecture when the layer is built for it, else the layer's first
	// (SAM and Serverless build one zip per layer). The build verifies the
	// layer's files for the function's own runtime and architecture either
	// way.
	Arch target.Arch
	Pos  Pos
}

// EnvVar is one environment variable of a function.
type EnvVar struct {
	Name  string
	Value string // the value, when it is written or resolves statically
	// Expr is the expression as written when it cannot be resolved without
	// AWS (!GetAtt Table.Arn, ${ssm:/x}); Value is then "".
	Expr string
}

// File is a file a plugin would add to an artifact at deploy time and
// lambdapack adds itself (serverless-wsgi's handler).
type File struct {
	Path string // slash path inside the artifact
	Data []byte
	Mode uint32 // 0644 or 0755
}

// Image says how a container image function is built: from a Dockerfile
// (SAM's Metadata, a Serverless provider.ecr image) or from the function's
// own code and dependencies on a base ([tool.lambdapack] package =
// "image"). lambdapack build builds it as lambdapack image does (one image
// for the function's architecture).
type Image struct {
	// Dockerfile is the Dockerfile, slash-separated and relative to
	// Config.Dir; Context is the folder its COPY and ADD read (SAM's
	// DockerContext), relative to Config.Dir. Both "" without a Dockerfile.
	Dockerfile string
	Context    string
	// Tag is the tag the image is given (SAM's DockerTag).
	Tag string
	// BuildArgs are the Dockerfile's ARG values (SAM's DockerBuildArgs,
	// Serverless' buildArgs), sorted by name; an Expr is not static.
	BuildArgs []EnvVar
	// Command, EntryPoint and WorkingDirectory override the image's CMD,
	// ENTRYPOINT and WORKDIR (SAM's ImageConfig, Serverless' image.command,
	// entryPoint, workingDirectory); nil and "" keep the image's own.
	Command          []string
	EntryPoint       []string
	WorkingDirectory string
	// Base is the image the function's code and dependencies go on when
	// there is no Dockerfile: "lambda" (AWS's base for the runtime and
	// architecture), a registry reference, oci-layout:DIR or tarball:FILE.
	Base string
	// Platform is the --platform a Serverless image names ("linux/arm64").
	Platform string
}

// Function is one Lambda function: a zip, or an image when Image is set.
type Function struct {
	Name    string
	Handler string // "app.handler", "src/api.handler", or a script ("run.sh")
	Runtime string // its own, defaulted from the provider or Globals
	Arch    target.Arch
	// Package is what to package: a folder with its file selection, one
	// file, a prebuilt zip, or skip with the reason.
	Package Package
	Deps    Deps
	// Layers are the layers of this project the function uses, in order;
	// ExternalLayers are the others, as written (an ARN, "!Ref Param",
	// "!Sub ..."), left to the deploy tool.
	Layers         []LayerUse
	ExternalLayers []string
	// Environment is the function's environment: SAM's Globals and own
	// Environment.Variables, Serverless' provider and own environment;
	// sorted by name.
	Environment []EnvVar
	// Extra are files lambdapack adds because a plugin would (sorted by
	// path).
	Extra []File
	// Image is set for a container image function (SAM PackageType Image,
	// a Serverless image, package = "image"): Package is then its code
	// when the image is built from it (PackageNone for a Dockerfile).
	Image   *Image
	Options Options
	// FunctionName is the name Lambda knows the function by when the
	// config decides it (SAM's FunctionName; Serverless' name, else
	// service-stage-key; [tool.lambdapack]'s function-name, a name or
	// ARN), "" when CloudFormation makes one up at deploy time (or a
	// [tool.lambdapack] function names none).
	FunctionName string
	// Timeout, MemorySize (MB) and EphemeralStorage (MB of /tmp) are the
	// function's own, else Globals' or provider's, else the deploy tool's
	// defaults (DefaultTimeout, ServerlessTimeout, ...).
	Timeout          time.Duration
	MemorySize       int
	EphemeralStorage int
	// Routes are its API Gateway events (SAM Api and HttpApi, Serverless
	// http and httpApi), in the config's order; URL is set when it has a
	// function URL.
	Routes []Route
	URL    *FunctionURL
	Pos    Pos
}

// HandlerIsScript reports whether the handler names an executable rather
// than a Python module ("run.sh", "bootstrap" for the Lambda Web Adapter).
func (f *Function) HandlerIsScript() bool { return handlerIsScript(f.Handler) }

// HandlerModule returns the Python module a handler imports, as a slash
// path without ".py" ("app.handler" -> "app", "pkg.mod.fn" and
// "pkg/mod.fn" -> "pkg/mod"); ok is false for a script or a handler that is
// not module.function.
func HandlerModule(handler string) (mod string, ok bool) {
	if handlerIsScript(handler) {
		return "", false
	}
	i := strings.LastIndex(handler, ".")
	if i <= 0 || i == len(handler)-1 {
		return "", false
	}
	mod = strings.ReplaceAll(handler[:i], ".", "/")
	if strings.Contains(mod, "//") || strings.HasPrefix(mod, "/") || strings.HasSuffix(mod, "/") || strings.Contains("/"+mod+"/", "/../") {
		return "", false
	}
	return mod, true
}

// HandlerFiles lists where a handler's module can live inside an artifact's
// code root: the module file and the package folder ("app.py", "app/").
func HandlerFiles(handler string) []string {
	mod, ok := HandlerModule(handler)
	if !ok {
		return nil
	}
	return []string{mod + ".py", mod + "/"}
}

func handlerIsScript(h string) bool {
	for _, ext := range []string{".sh", ".bash"} {
		if strings.HasSuffix(h, ext) {
			return true
		}
	}
	return h == "bootstrap"
}

// Layer is one Lambda layer: one zip per architecture in Archs.
type Layer struct {
	Name string
	// Package is the layer's own files: a folder placed under "python/"
	// (SAM BuildMethod python3.X), a ready folder zipped as it is, a
	// prebuilt zip, PackageNone (dependencies only) or PackageSkip.
	Package Package
	Deps    Deps
	// Runtimes are the runtimes the layer is built (and verified) for;
	// Archs the architectures it is built for.
	Runtimes []string
	Archs    []target.Arch
	// CompatibleRuntimes and CompatibleArchitectures are the lists as the
	// config declares them (nil when it does not), which Lambda treats as
	// metadata; Keys names them as the config spells them.
	CompatibleRuntimes      []string
	CompatibleArchitectures []target.Arch
	Keys                    LayerKeys
	Layout                  string // "python" (default) or "site-packages"
	Options                 Options
	Pos                     Pos
}

// LayerKeys are a config's own names for a layer's properties, for
// messages: CompatibleArchitectures (SAM), compatibleArchitectures
// (Serverless), architectures (lambdapack).
type LayerKeys struct {
	Runtimes, Archs, BuildArch string
}

// Level says how much a note matters.
type Level uint8

// Note levels.
const (
	LevelNote Level = iota
	LevelWarning
)

func (l Level) String() string {
	if l == LevelWarning {
		return "warning"
	}
	return "note"
}

// Note is something the user should know that is not an error: an option
// that does not carry over, a plugin lambdapack does not run, a layer's
// declared compatibility that a function does not match.
type Note struct {
	Pos   Pos
	Level Level
	Msg   string
}

func (n Note) String() string { return n.Pos.String() + ": " + n.Msg }

// Index carries index settings a config may set.
type Index struct {
	URL       string
	Extra     []string
	FindLinks []string
	NoIndex   bool
}

// Config is a whole project.
type Config struct {
	Dir       string // the project's root folder (absolute)
	File      string // the config file read (absolute)
	Kind      string
	Index     Index
	Build     Build      // buildkeys.go
	Functions []Function // in the config's order; skipped ones included (Package.Kind == PackageSkip)
	Layers    []Layer
	// Notes are said once per project: the same message from several
	// functions is one note.
	Notes []Note
	// Plugins are the Serverless Framework plugins serverless.yml lists.
	Plugins []string
	// Prerelease is the pre-release policy of every artifact, as uv's
	// --prerelease spells it ([tool.lambdapack] prerelease); "" is the
	// default, if-necessary-or-explicit.
	Prerelease string
}

// Function returns the function named name.
func (c *Config) Function(name string) (*Function, bool) {
	for i := range c.Functions {
		if c.Functions[i].Name == name {
			return &c.Functions[i], true
		}
	}
	return nil, false
}

// Layer returns the layer named name.
func (c *Config) Layer(name string) (*Layer, bool) {
	for i := range c.Layers {
		if c.Layers[i].Name == name {
			return &c.Layers[i], true
		}
	}
	return nil, false
}

// Names lists every function's and layer's name, sorted.
func (c *Config) Names() []string {
	var out []string
	for _, f := range c.Functions {
		out = append(out, f.Name)
	}
	for _, l := range c.Layers {
		out = append(out, l.Name)
	}
	sort.Strings(out)
	return out
}

// note adds a note unless the same message is already there.
func (c *Config) note(pos Pos, level Level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	for _, n := range c.Notes {
		if n.Msg == msg {
			return
		}
	}
	c.Notes = append(c.Notes, Note{Pos: pos, Level: level, Msg: msg})
}
