// Package invoke runs Lambda functions on this machine as Lambda runs them,
// without Docker: it lays out a task root and an /opt-like folder from the
// same planned files a zip would hold (a tree.Sink), finds a CPython of the
// runtime's exact minor version (or runs an arm64 one under qemu-user with
// an arm64 root folder), sets Lambda's environment and sys.path order,
// starts the official runtime client (awslambdaric, installed for the
// function's target like any package by a PackageSource, and cached), and
// serves it events through internal/runtimeapi.
//
// The package knows nothing of the pipeline or the verbs: app plugs them in
// (app.RuntimePackages plans the runtime client with PlanTree;
// app.OpenProjectRun builds a project incrementally and opens its
// functions; Serve serves whatever implements Served).
//
// Folders, per function, under a work folder:
//
//	task/      the function's code (LAMBDA_TASK_ROOT, the working directory)
//	opt/       its layers, extracted in order (later layers win), as /opt
//
// and, shared by every function of a target, under the cache:
//
//	invoke/runtime/<runtime>-<arch>-<key>/   awslambdaric and the runtime's boto3 (LAMBDA_RUNTIME_DIR)
//	invoke/python/<key>/                     a virtual environment with no packages, whose
//	                                         interpreter is the CPython found (so the machine's
//	                                         own site-packages never leak into a function)
//	invoke/files/                            extracted files by content, hard-linked into task/ and opt/
//
// sys.path is then, as on Lambda: the task root, opt/python/lib/python3.X/
// site-packages, opt/python, the runtime folder, and the interpreter's
// standard library.
package invoke
