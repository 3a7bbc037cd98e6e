package index

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

type cred struct{ user, pass string }

// authStore holds credentials by host: those from the configured URLs'
// userinfo first, then the netrc file's.
type authStore struct {
	byHost   map[string]cred // host or host:port
	netrc    map[string]cred // machine -> cred
	netrcDef *cred
	secrets  []string // strings to scrub from messages
}

func newAuthStore(cfg Config) (*authStore, error) {
	a := &authStore{byHost: map[string]cred{}, netrc: map[string]cred{}}
	for _, raw := range append(cfg.Indexes(), cfg.FindLinks...) {
		u, err := url.Parse(raw)
		if err != nil || u.User == nil || u.Host == "" {
			continue
		}
		pass, _ := u.User.Password()
		c := cred{u.User.Username(), pass}
		if _, ok := a.byHost[u.Host]; !ok {
			a.byHost[u.Host] = c
		}
		a.secrets = append(a.secrets, u.User.String())
		if pass != "" {
			a.secrets = append(a.secrets, pass)
		}
	}
	path := os.Getenv("NETRC")
	if path == "" {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, ".netrc")
		}
	}
	if path != "" {
		if err := a.loadNetrc(path); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// loadNetrc reads machine/login/password entries (and default); a missing
// file is not an error.
func (a *authStore) loadNetrc(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading netrc file %s: %w (fix its permissions or set NETRC)", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var toks []string
	inMacro := false
	for sc.Scan() {
		line := sc.Text()
		if inMacro {
			if strings.TrimSpace(line) == "" {
				inMacro = false
			}
			continue
		}
		fields := strings.Fields(line)
		for i := 0; i < len(fields); i++ {
			if strings.HasPrefix(fields[i], "#") {
				break
			}
			if fields[i] == "macdef" {
				inMacro = true
				break
			}
			toks = append(toks, fields[i])
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading netrc file %s: %w", path, err)
	}
	var machine string
	isDefault, have := false, false
	var cur cred
	flush := func() {
		if !have {
			return
		}
		if isDefault {
			c := cur
			a.netrcDef = &c
		} else if _, ok := a.netrc[machine]; !ok {
			a.netrc[machine] = cur
		}
		if cur.pass != "" {
			a.secrets = append(a.secrets, cur.pass)
		}
	}
	for i := 0; i < len(toks); i++ {
		switch toks[i] {
		case "machine":
			flush()
			have, isDefault, cur = true, false, cred{}
			if i+1 < len(toks) {
				i++
				machine = toks[i]
			}
		case "default":
			flush()
			have, isDefault, cur = true, true, cred{}
		case "login", "password", "account":
			if i+1 >= len(toks) {
				break
			}
			i++
			switch toks[i-1] {
			case "login":
				cur.user = toks[i]
			case "password":
				cur.pass = toks[i]
			}
		}
	}
	flush()
	return nil
}

// apply sets basic auth on req from the URL's own userinfo, the configured
// URLs' userinfo for the host, or netrc, and strips userinfo from the URL.
func (a *authStore) apply(req *http.Request) {
	u := req.URL
	if u.User != nil {
		pass, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), pass)
		u.User = nil
		return
	}
	if c, ok := a.byHost[u.Host]; ok {
		req.SetBasicAuth(c.user, c.pass)
		return
	}
	if c, ok := a.byHost[u.Hostname()]; ok {
		req.SetBasicAuth(c.user, c.pass)
		return
	}
	if c, ok := a.netrc[u.Hostname()]; ok {
		req.SetBasicAuth(c.user, c.pass)
		return
	}
	if a.netrcDef != nil {
		req.SetBasicAuth(a.netrcDef.user, a.netrcDef.pass)
	}
}

// holdsSecret reports whether b contains a known secret (a page that
// echoes the credentials in its links, say), so that it is never stored.
func (a *authStore) holdsSecret(b []byte) bool {
	if a == nil {
		return false
	}
	for _, sec := range a.secrets {
		if sec != "" && bytes.Contains(b, []byte(sec)) {
			return true
		}
	}
	return false
}

// scrub removes known secrets from a message.
func (a *authStore) scrub(s string) string {
	if a == nil {
		return s
	}
	for _, sec := range a.secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "****")
		}
	}
	return s
}

// Redact replaces the userinfo of a URL with "****" (keeping a user name
// that has a separate password: "user:****"), so it can be printed.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Cut anything that looks like userinfo by hand.
		if i := strings.Index(raw, "://"); i >= 0 {
			rest := raw[i+3:]
			if at := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); at >= 0 {
				return raw[:i+3] + "****@" + rest[at+1:]
			}
		}
		return raw
	}
	if u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxx")
		return strings.Replace(u.String(), ":xxxx@", ":****@", 1)
	}
	u.User = url.User("xxxx")
	return strings.Replace(u.String(), "xxxx@", "****@", 1)
}

// stripUserinfo returns the URL without credentials.
func stripUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
