package project

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// makeBuild is what lambdapack reads of the target `sam build` runs for a
// resource with Metadata.BuildMethod makefile (build-<LogicalId> in the
// Makefile of its CodeUri or ContentUri): the packages its pip install
// lines name, the requirements files they read, and whether it copies the
// folder's own files into the artifact. lambdapack does not run the
// Makefile; it builds what these lines say.
type makeBuild struct {
	Target       string
	Requirements []string // -r files, relative to the folder, in order
	Packages     []string // requirement strings named on pip install lines
	Copies       bool     // a cp, rsync or install line copies files in
	// Other is the first recipe line lambdapack does not understand ("" if
	// none): with it, the target may do more than lambdapack builds.
	Other string
}

// pipValueOptions are pip install options that take a value.
var pipValueOptions = map[string]bool{
	"-t": true, "--target": true, "-c": true, "--constraint": true, "-i": true, "--index-url": true,
	"--extra-index-url": true, "-f": true, "--find-links": true, "--platform": true, "--python-version": true,
	"--implementation": true, "--abi": true, "--root": true, "--prefix": true, "--src": true,
	"--upgrade-strategy": true, "--only-binary": true, "--no-binary": true, "--progress-bar": true,
	"--cache-dir": true, "--log": true, "--trusted-host": true, "--timeout": true, "--retries": true,
	"--python": true, "--config-settings": true, "-C": true,
}

// readMakeTarget reads target name from the Makefile in dir; ok is false
// when there is no Makefile or no such target.
func readMakeTarget(dir, name string) (makeBuild, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		return makeBuild{}, false
	}
	b := makeBuild{Target: name}
	found, in := false, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var cont string
	for sc.Scan() {
		line := sc.Text()
		if cont != "" {
			line = cont + " " + strings.TrimLeft(line, " \t")
			cont = ""
		}
		if strings.HasSuffix(line, "\\") {
			cont = strings.TrimSuffix(line, "\\")
			continue
		}
		if !strings.HasPrefix(line, "\t") {
			head := strings.TrimSpace(line)
			if head == "" || strings.HasPrefix(head, "#") {
				continue
			}
			in = false
			if t, _, ok := strings.Cut(head, ":"); ok && !strings.Contains(t, "=") {
				for _, x := range strings.Fields(t) {
					if x == name {
						in, found = true, true
					}
				}
			}
			continue
		}
		if in {
			b.recipe(strings.TrimSpace(line))
		}
	}
	// One requirements file is what a Deps holds; a target that reads
	// several is built the old way, with a note.
	return b, found && len(b.Requirements) <= 1
}

// recipe reads one recipe line of the target.
func (b *makeBuild) recipe(line string) {
	line = strings.TrimLeft(line, "@-+")
	if line == "" || strings.HasPrefix(line, "#") {
		return
	}
	for _, part := range strings.Split(line, "&&") {
		f := strings.Fields(strings.TrimSpace(part))
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "cp" || f[0] == "rsync" || f[0] == "install":
			b.Copies = true
		case f[0] == "mkdir" || f[0] == "echo" || f[0] == "rm" || f[0] == "true" || f[0] == "cd" || f[0] == "ls":
		case pipInstall(f) > 0:
			b.pip(f[pipInstall(f):])
		default:
			if b.Other == "" {
				b.Other = strings.TrimSpace(part)
			}
		}
	}
}

// pipInstall returns the index of the first argument after "install" when
// f is a pip install command (pip, pip3, pip3.12, python -m pip, python3 -m
// pip), else 0.
func pipInstall(f []string) int {
	i := 0
	base := filepath.Base(f[0])
	switch {
	case strings.HasPrefix(base, "python") && len(f) > 3 && f[1] == "-m" && f[2] == "pip":
		i = 3
	case base == "pip" || strings.HasPrefix(base, "pip3"):
		i = 1
	default:
		return 0
	}
	if len(f) <= i || f[i] != "install" {
		return 0
	}
	return i + 1
}

func (b *makeBuild) pip(args []string) {
	for i := 0; i < len(args); i++ {
		a := strings.Trim(args[i], `"'`)
		switch {
		case a == "-r" || a == "--requirement":
			if i+1 < len(args) {
				i++
				b.Requirements = append(b.Requirements, strings.Trim(args[i], `"'`))
			}
		case strings.HasPrefix(a, "--requirement="):
			b.Requirements = append(b.Requirements, strings.TrimPrefix(a, "--requirement="))
		case strings.HasPrefix(a, "-r") && len(a) > 2:
			b.Requirements = append(b.Requirements, a[2:])
		case pipValueOptions[a]:
			i++
		case strings.HasPrefix(a, "-"):
			// a flag, or --option=value
		case a == "." || strings.Contains(a, "$") || strings.Contains(a, "/"):
			// a path or a make variable: not a package name
			if b.Other == "" {
				b.Other = "pip install " + a
			}
		default:
			b.Packages = append(b.Packages, a)
		}
	}
}
