package sdist

import (
	"fmt"
	"regexp"
	"strings"
)

// LibraryError says that an sdist's build needs a system library that
// neither the build nor the Lambda runtime has.
type LibraryError struct {
	Package, Version string
	Target           string
	Library          string   // "libpq (PostgreSQL's client library)"
	Evidence         string   // the build output line that showed it
	Alternatives     []string // packages with wheels that bundle it
}

func (e *LibraryError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s cannot be built for %s: it needs the system library %s, which the Lambda runtime does not provide and lambdapack does not build", e.Package, e.Version, e.Target, e.Library)
	if e.Evidence != "" {
		fmt.Fprintf(&b, " (the build said: %s)", e.Evidence)
	}
	b.WriteString(".\n")
	if len(e.Alternatives) > 0 {
		fmt.Fprintf(&b, "hint: use %s instead: wheels that bundle the library\n", orList(e.Alternatives))
	}
	b.WriteString("hint: or build a container image that installs the library (lambdapack image), or a layer that ships it under lib/")
	return b.String()
}

// Summary says in a clause what is missing, for a sentence about the
// package.
func (e *LibraryError) Summary() string {
	return "it needs the system library " + e.Library
}

func orList(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// knownLibrary is a package whose sdist needs a system library.
type knownLibrary struct {
	packages     []string // canonical names
	library      string
	alternatives []string
	output       *regexp.Regexp // what its build prints when the library is missing
}

var knownLibraries = []knownLibrary{
	{[]string{"psycopg2"}, "libpq (PostgreSQL's client library)", []string{"psycopg2-binary", "psycopg[binary]"},
		regexp.MustCompile(`pg_config executable not found|libpq-fe\.h|libpq\.so`)},
	{[]string{"mysqlclient"}, "libmysqlclient (the MySQL or MariaDB client library)", []string{"PyMySQL", "mysql-connector-python"},
		regexp.MustCompile(`mysql_config|Can not find valid pkg-config name|mysqlclient.*not found|mysql\.h|libmysqlclient\.so|libmariadb\.so`)},
	{[]string{"gdal"}, "GDAL (libgdal)", nil,
		regexp.MustCompile(`gdal-config|gdal\.h|gdal_priv\.h|(?i)could not find gdal|gdal.*not found`)},
	{[]string{"pyodbc"}, "unixODBC (libodbc)", nil, regexp.MustCompile(`sql\.h|odbc`)},
	{[]string{"python-ldap"}, "OpenLDAP (libldap)", nil, regexp.MustCompile(`lber\.h|ldap\.h`)},
	{[]string{"pycurl"}, "libcurl", nil, regexp.MustCompile(`curl-config|curl/curl\.h`)},
	{[]string{"mysql-python"}, "libmysqlclient (the MySQL or MariaDB client library)", []string{"PyMySQL", "mysql-connector-python"},
		regexp.MustCompile(`mysql_config`)},
}

// Generic signs of a missing library in build output.
var missingLibraryRE = []*regexp.Regexp{
	regexp.MustCompile(`Package '?([A-Za-z0-9_.+-]+)'?,? (?:required by .*, )?was not found in the pkg-config search path`),
	regexp.MustCompile(`fatal error: '?([A-Za-z0-9_./+-]+\.h)'? file not found`),
	regexp.MustCompile(`fatal error: ([A-Za-z0-9_./+-]+\.h): No such file or directory`),
	regexp.MustCompile(`([A-Za-z0-9_.+-]+-config): (?:command )?not found`),
	regexp.MustCompile(`unable to find (?:dynamic system )?library '?-?l?([A-Za-z0-9_.+-]+)'?`),
	regexp.MustCompile(`cannot find -l([A-Za-z0-9_.+-]+)`),
	// verify's refusal of a wheel linked to a library the runtime lacks
	regexp.MustCompile(`needs (lib[A-Za-z0-9_.+-]+\.so[.0-9]*), which the runtime does not provide`),
}

// genericLibrary names the library each missingLibraryRE found.
var genericLibrary = []string{
	"%s (pkg-config has no such package)",
	"that provides the header %s",
	"that provides the header %s",
	"that installs %s",
	"lib%s",
	"lib%s",
	"%s",
}

// detectLibrary looks for a missing system library in build outputs.
func detectLibrary(pkg string, outputs ...string) (library, evidence string, alternatives []string, ok bool) {
	for _, k := range knownLibraries {
		for _, p := range k.packages {
			if p != pkg {
				continue
			}
			for _, out := range outputs {
				if line := matchLine(k.output, out); line != "" {
					return k.library, line, k.alternatives, true
				}
			}
		}
	}
	for i, re := range missingLibraryRE {
		for _, out := range outputs {
			for _, l := range strings.Split(out, "\n") {
				if m := re.FindStringSubmatch(l); m != nil {
					return fmt.Sprintf(genericLibrary[i], m[1]), strings.TrimSpace(l), nil, true
				}
			}
		}
	}
	return "", "", nil, false
}

func matchLine(re *regexp.Regexp, out string) string {
	for _, l := range strings.Split(out, "\n") {
		if re.MatchString(l) {
			l = strings.TrimSpace(l)
			if len(l) > 200 {
				l = l[:200] + "..."
			}
			return l
		}
	}
	return ""
}
