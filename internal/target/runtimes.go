package target

// runtimeTable is the data: one row a Lambda Python runtime, newest first.
// Source: AWS Lambda runtime documentation and the AWS base images (see
// LAMBDA_FACTS.md). A new runtime is one new row. Deprecated is the date
// AWS ends security patches (function creation is blocked about a month
// later). PythonFull is the patch release Lambda shipped when the row was
// last checked: approximate, since AWS moves it with runtime updates, and
// used only for the python_full_version marker.
var runtimeTable = []Runtime{
	{Name: "python3.14", Python: "3.14", PythonFull: "3.14.0", OS: "Amazon Linux 2023", Glibc: "2.34", Architectures: bothArchs, Deprecated: "2029-06-30"},
	{Name: "python3.13", Python: "3.13", PythonFull: "3.13.7", OS: "Amazon Linux 2023", Glibc: "2.34", Architectures: bothArchs, Deprecated: "2029-06-30"},
	{Name: "python3.12", Python: "3.12", PythonFull: "3.12.11", OS: "Amazon Linux 2023", Glibc: "2.34", Architectures: bothArchs, Deprecated: "2028-10-31"},
	{Name: "python3.11", Python: "3.11", PythonFull: "3.11.13", OS: "Amazon Linux 2", Glibc: "2.26", Architectures: bothArchs, Deprecated: "2027-06-30"},
	{Name: "python3.10", Python: "3.10", PythonFull: "3.10.18", OS: "Amazon Linux 2", Glibc: "2.26", Architectures: bothArchs, Deprecated: "2026-10-31"},
	{Name: "python3.9", Python: "3.9", PythonFull: "3.9.23", OS: "Amazon Linux 2", Glibc: "2.26", Architectures: bothArchs, Deprecated: "2025-12-15"},
}

// retiredRuntimes are Lambda Python runtimes that no longer exist for new
// functions, with the date their support ended, so a user asking for one gets
// a precise answer instead of "unknown runtime".
var retiredRuntimes = map[string]string{
	"python3.8": "2024-10-14",
	"python3.7": "2023-12-04",
	"python3.6": "2022-07-18",
	"python2.7": "2021-07-15",
}

var bothArchs = []Arch{X86_64, ARM64}
