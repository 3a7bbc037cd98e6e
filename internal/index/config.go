package index

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Settings is one level of index configuration. Empty fields are unset and
// fall through to the next level; NoIndex counts only when true.
type Settings struct {
	IndexURL       string
	ExtraIndexURLs []string
	FindLinks      []string
	NoIndex        bool
}

func (s Settings) empty() bool {
	return s.IndexURL == "" && len(s.ExtraIndexURLs) == 0 && len(s.FindLinks) == 0 && !s.NoIndex
}

// Overrides are the levels above the environment: command-line flags, the
// requirements file's options, and the project's config.
type Overrides struct {
	Flags        Settings
	Requirements Settings // options from requirements files (-i, --extra-index-url, -f, --no-index)
	Project      Settings
	// ProjectSource names the project config for Config.Source, e.g.
	// "pyproject.toml [tool.lambdapack]".
	ProjectSource string
	// Python is the interpreter whose pip is asked for its site config
	// folder and default index; "" means python3 (then python) on PATH.
	Python string
	// CacheDir, when set, keeps pip's answer (in pip-v1/) for later runs,
	// valid while the interpreter and pip's files keep their size and
	// modification time: asking costs a Python process (~0.1 s) per run.
	CacheDir string
}

type level struct {
	name string
	s    Settings
}

// DiscoverConfig works out which indexes to use. Each setting (index URL,
// extra index URLs, find-links, no-index) comes from the first level that
// sets it, in this order: flags, requirements-file options, the project's
// config, UV_DEFAULT_INDEX / UV_INDEX_URL (and UV_INDEX / UV_EXTRA_INDEX_URL /
// UV_FIND_LINKS / UV_NO_INDEX), PIP_INDEX_URL / PIP_EXTRA_INDEX_URL /
// PIP_FIND_LINKS / PIP_NO_INDEX, pip's config files (PIP_CONFIG_FILE, then
// site, user and global files, [install] over [global]), and finally the
// default index of the pip installed on the machine, asked of that pip.
func DiscoverConfig(o Overrides) (Config, error) {
	levels := []level{
		{"command-line flags", o.Flags},
		{"requirements file options", o.Requirements},
		{cmp(o.ProjectSource, "the project's config"), o.Project},
		uvLevel(),
		pipEnvLevel(),
	}
	// The site-wide pip.conf lives under the installed pip's prefix, which
	// only that pip can tell (a Python process, ~0.1 s). When a flag names
	// the index, it is not asked: the site file could only add extra
	// indexes or find-links, and an explicit index should mean just that.
	files, err := pipConfigLevels(o.Python, o.CacheDir, o.Flags.IndexURL == "" && !o.Flags.NoIndex)
	if err != nil {
		return Config{}, err
	}
	levels = append(levels, files...)

	var cfg Config
	idxSet, extraSet, flSet := false, false, false
	for _, l := range levels {
		if l.s.IndexURL != "" && !idxSet {
			cfg.IndexURL, cfg.Source, idxSet = l.s.IndexURL, l.name, true
		}
		if len(l.s.ExtraIndexURLs) > 0 && !extraSet {
			cfg.ExtraIndexURLs, extraSet = append([]string(nil), l.s.ExtraIndexURLs...), true
		}
		if len(l.s.FindLinks) > 0 && !flSet {
			cfg.FindLinks, flSet = append([]string(nil), l.s.FindLinks...), true
		}
		if l.s.NoIndex && !cfg.NoIndex {
			cfg.NoIndex = true
			if !idxSet {
				cfg.Source = l.name + " (no-index)"
			}
		}
	}
	if cfg.NoIndex {
		cfg.IndexURL, cfg.ExtraIndexURLs = "", nil
		if cfg.Source == "" || idxSet {
			cfg.Source = "no-index: find-links only"
		}
		if len(cfg.FindLinks) == 0 {
			return cfg, fmt.Errorf("%w: no-index is set but no find-links location is (pass --find-links DIR, or drop --no-index)", ErrNoIndex)
		}
		return cfg, nil
	}
	if !idxSet {
		url, src, err := pipDefaultIndex(o.Python, o.CacheDir)
		if err != nil {
			return cfg, fmt.Errorf("%w: none of --index-url, the project's config, UV_DEFAULT_INDEX, UV_INDEX_URL, PIP_INDEX_URL or a pip config file names one, and asking the installed pip failed: %v; set one, e.g. `export PIP_INDEX_URL=https://<your index>/simple/` or pass --index-url", ErrNoIndex, err)
		}
		cfg.IndexURL, cfg.Source = url, src
	}
	return cfg, nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// splitList splits a space- or newline-separated list.
func splitList(v string) []string { return strings.Fields(v) }

func envTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func uvLevel() level {
	s := Settings{}
	name := "uv environment"
	if v := os.Getenv("UV_DEFAULT_INDEX"); v != "" {
		s.IndexURL, name = strings.TrimSpace(v), "UV_DEFAULT_INDEX"
	} else if v := os.Getenv("UV_INDEX_URL"); v != "" {
		s.IndexURL, name = strings.TrimSpace(v), "UV_INDEX_URL"
	}
	// UV_INDEX entries take priority over UV_EXTRA_INDEX_URL, like uv.
	s.ExtraIndexURLs = append(splitList(os.Getenv("UV_INDEX")), splitList(os.Getenv("UV_EXTRA_INDEX_URL"))...)
	for i, u := range s.ExtraIndexURLs {
		// uv allows "name=url" entries in UV_INDEX.
		if n, rest, ok := strings.Cut(u, "="); ok && !strings.Contains(n, "/") && !strings.Contains(n, ":") {
			s.ExtraIndexURLs[i] = rest
		}
	}
	if v := os.Getenv("UV_FIND_LINKS"); v != "" {
		s.FindLinks = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' })
	}
	s.NoIndex = envTrue(os.Getenv("UV_NO_INDEX"))
	return level{name, s}
}

func pipEnvLevel() level {
	s := Settings{
		IndexURL:       strings.TrimSpace(os.Getenv("PIP_INDEX_URL")),
		ExtraIndexURLs: splitList(os.Getenv("PIP_EXTRA_INDEX_URL")),
		FindLinks:      splitList(os.Getenv("PIP_FIND_LINKS")),
		NoIndex:        envTrue(os.Getenv("PIP_NO_INDEX")),
	}
	name := "pip environment"
	if s.IndexURL != "" {
		name = "PIP_INDEX_URL"
	}
	return level{name, s}
}

// pipConfigFiles lists pip's config files from highest to lowest priority:
// PIP_CONFIG_FILE, site (sys.prefix of the found pip), user (XDG, then the
// legacy ~/.pip), global (XDG_CONFIG_DIRS, /etc). PIP_CONFIG_FILE=/dev/null
// turns them all off, like pip; an existing PIP_CONFIG_FILE skips the user
// files, like pip.
func pipConfigFiles(python, cacheDir string, site bool) []string {
	envFile := os.Getenv("PIP_CONFIG_FILE")
	if envFile == os.DevNull {
		return nil
	}
	var files []string
	skipUser := false
	if envFile != "" {
		files = append(files, envFile)
		if _, err := os.Stat(envFile); err == nil {
			skipUser = true
		}
	}
	if site {
		if info, err := askPip(python, cacheDir); err == nil && info.prefix != "" {
			files = append(files, filepath.Join(info.prefix, "pip.conf"))
		}
	}
	if !skipUser {
		home, _ := os.UserHomeDir()
		xdg := os.Getenv("XDG_CONFIG_HOME")
		if xdg == "" && home != "" {
			xdg = filepath.Join(home, ".config")
		}
		if xdg != "" {
			files = append(files, filepath.Join(xdg, "pip", "pip.conf"))
		}
		if home != "" {
			files = append(files, filepath.Join(home, ".pip", "pip.conf"))
		}
	}
	dirs := os.Getenv("XDG_CONFIG_DIRS")
	if dirs == "" {
		dirs = "/etc/xdg"
	}
	for _, d := range filepath.SplitList(dirs) {
		if d != "" {
			files = append(files, filepath.Join(d, "pip", "pip.conf"))
		}
	}
	files = append(files, "/etc/pip.conf")
	return files
}

// pipConfigLevels reads pip's config files into levels, highest first;
// [install] overrides [global] within a file.
func pipConfigLevels(python, cacheDir string, site bool) ([]level, error) {
	var out []level
	for _, path := range pipConfigFiles(python, cacheDir, site) {
		ini, err := readINI(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading pip config file %s: %w (fix it or set PIP_CONFIG_FILE=/dev/null)", path, err)
		}
		for _, sec := range []string{"install", "global"} {
			vals := ini[sec]
			if len(vals) == 0 {
				continue
			}
			s := Settings{
				IndexURL:       strings.TrimSpace(vals["index-url"]),
				ExtraIndexURLs: splitList(vals["extra-index-url"]),
				FindLinks:      splitList(vals["find-links"]),
				NoIndex:        envTrue(vals["no-index"]),
			}
			if !s.empty() {
				out = append(out, level{fmt.Sprintf("pip config %s [%s]", path, sec), s})
			}
		}
	}
	return out, nil
}

// readINI parses a pip config file like Python's configparser: sections,
// "key = value" or "key: value", indented continuation lines, # and ;
// comments. Keys are lower-cased with '_' read as '-'.
func readINI(path string) (map[string]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]map[string]string{}
	sec, lastKey := "", ""
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if (raw[0] == ' ' || raw[0] == '\t') && lastKey != "" && sec != "" {
			out[sec][lastKey] += "\n" + line
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: bad section header %q", n, line)
			}
			sec = strings.ToLower(strings.TrimSpace(line[1 : len(line)-1]))
			if out[sec] == nil {
				out[sec] = map[string]string{}
			}
			lastKey = ""
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			return nil, fmt.Errorf("line %d: expected key = value, got %q", n, line)
		}
		if sec == "" {
			return nil, fmt.Errorf("line %d: %q is outside any [section]", n, line)
		}
		k := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(line[:i])), "_", "-")
		out[sec][k] = strings.TrimSpace(line[i+1:])
		lastKey = k
	}
	return out, sc.Err()
}

type pipInfo struct {
	python, prefix, version, simpleURL, err string
	// pipFile is pip's __init__.py, whose size and time key the memo.
	pipFile string
}

var (
	pipMu    sync.Mutex
	pipCache = map[string]*pipInfo{}
)

const pipQuery = `import sys
print(sys.prefix)
try:
    import pip
    from pip._internal.models.index import PyPI
    print(pip.__version__)
    print(PyPI.simple_url)
    print(pip.__file__)
except Exception as e:
    print("!" + repr(e))
`

// askPip runs the interpreter (python3 or python on PATH by default) once
// per process to learn its sys.prefix and its pip's default index; with
// cacheDir, once for as long as the interpreter and pip stay the same.
func askPip(python, cacheDir string) (*pipInfo, error) {
	pipMu.Lock()
	defer pipMu.Unlock()
	if python == "" {
		for _, cand := range []string{"python3", "python"} {
			if p, err := exec.LookPath(cand); err == nil {
				python = p
				break
			}
		}
		if python == "" {
			return nil, errors.New("no python3 or python on PATH to ask for pip's default index")
		}
	}
	if info, ok := pipCache[python]; ok {
		if info.prefix == "" {
			return nil, errors.New(info.err)
		}
		return info, nil
	}
	if info := loadPipMemo(cacheDir, python); info != nil {
		pipCache[python] = info
		return info, nil
	}
	info := &pipInfo{python: python}
	pipCache[python] = info
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", pipQuery)
	cmd.Env = append(os.Environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1")
	out, err := cmd.Output()
	if err != nil {
		info.err = fmt.Sprintf("running %s: %v", python, err)
		return nil, errors.New(info.err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	info.prefix = strings.TrimSpace(lines[0])
	if len(lines) >= 3 {
		info.version, info.simpleURL = strings.TrimSpace(lines[1]), strings.TrimSpace(lines[2])
	} else if len(lines) == 2 {
		info.err = fmt.Sprintf("%s has no usable pip: %s", python, strings.TrimPrefix(lines[1], "!"))
	}
	if len(lines) >= 4 {
		info.pipFile = strings.TrimSpace(lines[3])
	}
	if info.prefix == "" {
		info.err = fmt.Sprintf("%s printed nothing", python)
		return nil, errors.New(info.err)
	}
	storePipMemo(cacheDir, info)
	return info, nil
}

// pipMemo is pip's answer kept on disk, with what it depends on.
type pipMemo struct {
	Python    string    `json:"python"` // as found on PATH
	Resolved  string    `json:"resolved"`
	PySize    int64     `json:"python_size"`
	PyTime    time.Time `json:"python_mtime"`
	PipFile   string    `json:"pip_file"`
	PipSize   int64     `json:"pip_size"`
	PipTime   time.Time `json:"pip_mtime"`
	Prefix    string    `json:"prefix"`
	Version   string    `json:"version"`
	SimpleURL string    `json:"simple_url"`
}

func pipMemoPath(cacheDir, python string) string {
	return filepath.Join(cacheDir, "pip-v1", key("pip", python)+".json")
}

// statKey returns the resolved path, size and modification time of a file.
func statKey(path string) (string, int64, time.Time, bool) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", 0, time.Time{}, false
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		return "", 0, time.Time{}, false
	}
	return resolved, fi.Size(), fi.ModTime(), true
}

// loadPipMemo returns the remembered answer for python, when the
// interpreter and pip's files are the ones it was given by.
func loadPipMemo(cacheDir, python string) *pipInfo {
	if cacheDir == "" {
		return nil
	}
	b, err := os.ReadFile(pipMemoPath(cacheDir, python))
	if err != nil {
		return nil
	}
	var m pipMemo
	if json.Unmarshal(b, &m) != nil || m.Python != python || m.Prefix == "" || m.SimpleURL == "" {
		return nil
	}
	resolved, size, mtime, ok := statKey(python)
	if !ok || resolved != m.Resolved || size != m.PySize || !mtime.Equal(m.PyTime) {
		return nil
	}
	_, size, mtime, ok = statKey(m.PipFile)
	if !ok || size != m.PipSize || !mtime.Equal(m.PipTime) {
		return nil
	}
	return &pipInfo{python: python, prefix: m.Prefix, version: m.Version, simpleURL: m.SimpleURL, pipFile: m.PipFile}
}

// storePipMemo remembers a complete answer; failures are not remembered.
func storePipMemo(cacheDir string, info *pipInfo) {
	if cacheDir == "" || info.simpleURL == "" || info.pipFile == "" || info.err != "" {
		return
	}
	m := pipMemo{Python: info.python, PipFile: info.pipFile, Prefix: info.prefix, Version: info.version, SimpleURL: info.simpleURL}
	var ok bool
	if m.Resolved, m.PySize, m.PyTime, ok = statKey(info.python); !ok {
		return
	}
	if _, m.PipSize, m.PipTime, ok = statKey(info.pipFile); !ok {
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	_ = writeAtomic(pipMemoPath(cacheDir, info.python), b)
}

// pipDefaultIndex asks the installed pip for its default index URL.
func pipDefaultIndex(python, cacheDir string) (string, string, error) {
	info, err := askPip(python, cacheDir)
	if err != nil {
		return "", "", err
	}
	if info.simpleURL == "" {
		return "", "", errors.New(cmp(info.err, "pip gave no default index"))
	}
	return info.simpleURL, fmt.Sprintf("default of pip %s (%s)", info.version, info.python), nil
}
