// Package app holds lambdapack's verbs as plain Go functions: the CLI turns
// flags into an options struct and calls them, and tests call them directly.
//
// # The pipeline
//
// A layer or function is built in named steps (BuildArtifact):
//
//	inputs   ArtifactOptions.check, zipsink.New     the options; a destination that takes a zip
//	targets  env.targets                            runtime + arch -> target.Target (deprecations warned)
//	pins     env.pinParts -> env.Pins.Pin           per target: resolve the requirements or read the lock
//	                                                (pins.Pinner: hash-checking, the per-input memo),
//	                                                build the sdists chosen for the target (sdist.Builder);
//	                                                targets that take the same wheels share one part
//	sizes    env.checkSizes                         refuse what the wheels' listed sizes prove cannot fit
//	                                                (before downloading; --force warns, --no-verify skips)
//	fetch    env.fetchParts -> env.Pins.Fetch       every wheel once, into the cache, hashes checked
//	plan     env.planTree                           install each part (install.Plan), exclude, slim,
//	                                                add the artifact's own files (addCode: Src through
//	                                                its Selector under Prefix, Files, or a Prebuilt
//	                                                zip's members), compile, decide purity from
//	                                                content, fill the record -> *tree.Tree
//	verify   VerifyTree                             each part against each of its targets, and a
//	                                                function with its CheckOptions.Layers (the
//	                                                handler rule, the layers for its target), before
//	                                                anything is written; a failure writes nothing.
//	                                                Resolved packages' wheels it refuses (wrong
//	                                                machine, missing library, glibc, tags) are
//	                                                refused for the target (env.Pins.Refuse) and the
//	                                                steps from pins run again: the next file of the
//	                                                version, else another version (refuse.go)
//	sink     tree.Sink.Write                        zipsink for layer/function zips; an image's
//	                                                layer also checks the wheel members install
//	                                                left to it on a cold build (deferred.go)
//	report   NewArtifactReport                      what the tree holds, where it went, the findings
//
// The tree (internal/tree) is the seam: every sink writes the same planned
// files. Other verbs use the steps without copying them:
//
//	func OpenEnv(o EnvOptions) (*Env, error)
//	func PlanTree(ctx context.Context, env *Env, o ArtifactOptions) (*tree.Tree, error)
//	func PlanVerified(ctx context.Context, env *Env, o ArtifactOptions) (*tree.Tree, []verify.Finding, error)
//	func VerifyTree(ctx context.Context, env *Env, t *tree.Tree, o CheckOptions) ([]verify.Finding, error)
//	func WriteTree(ctx context.Context, env *Env, t *tree.Tree, sink tree.Sink, o CheckOptions) (*tree.Written, []verify.Finding, error)
//	func NewArtifactReport(o ArtifactOptions, t *tree.Tree, w *tree.Written, findings []verify.Finding, took time.Duration) *ArtifactReport
//	func (env *Env) Close() error
//	env.Pins *pins.Pinner       // Pin, Resolve, Fetch, Index for verbs that need only part of the way
//
// An image (internal/image) or a task folder (internal/invoke) plugs in as
// its own tree.Sink:
//
//	tr, err := app.PlanTree(ctx, env, app.ArtifactOptions{Kind: app.KindFunction, Src: dir, Deps: deps, Runtime: "python3.12", Arch: "arm64"})
//	if err != nil { ... }
//	defer tr.Close()
//	w, findings, err := app.WriteTree(ctx, env, tr, imageSink, app.CheckOptions{Name: ref})
//	// err is an *app.VerifyError when a check failed: the sink was never called.
//	// imageSink is a tree.Sink: files by Role (deps / code), tr.Record as a label.
//
// An Env is complete when OpenEnv returns and never changes afterwards; one
// Env serves every artifact of a run (lambdapack build shares it between
// its parallel jobs).
package app
