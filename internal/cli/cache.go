package cli

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lambdapack/lambdapack/internal/app"
	"github.com/lambdapack/lambdapack/internal/cache"
)

func init() {
	register(func(s *Streams) *cobra.Command {
		var dir string
		root := func() (string, error) {
			d := dir
			if d == "" {
				var err error
				if d, err = cache.DefaultDir(); err != nil {
					return "", err
				}
			}
			return filepath.Abs(d)
		}
		cmd := &cobra.Command{
			Use:   "cache dir | info | clean [PACKAGE...] | prune",
			Short: "Show, clean or prune lambdapack's download cache",
			Long: `lambdapack keeps downloaded wheels (by sha256), index pages and metadata files in
a cache folder: --cache-dir, else $LAMBDAPACK_CACHE_DIR, else lambdapack under
the user's cache folder, and for container images their bases and dependency
layers. These commands show where it is and what it holds, remove all of it or
one package's entries, and prune what no recent run used (an image base or
layer whole). Only lambdapack's own folders in it are ever removed.`,
			Args: cobra.ArbitraryArgs,
			RunE: func(_ *cobra.Command, args []string) error {
				if len(args) > 0 {
					return fmt.Errorf("unknown cache command %q: use dir, info, clean or prune", args[0])
				}
				return fmt.Errorf("give a cache command: dir, info, clean or prune (lambdapack cache --help)")
			},
		}
		cmd.PersistentFlags().StringVar(&dir, "cache-dir", "", "cache folder (default $LAMBDAPACK_CACHE_DIR or the user cache folder)")

		cmd.AddCommand(&cobra.Command{
			Use:   "dir",
			Short: "Print the cache folder",
			Args:  cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				d, err := root()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(s.Out, d)
				return err
			},
		})

		var byPackage, asJSON bool
		info := &cobra.Command{
			Use:   "info",
			Short: "Show what the cache holds, by kind and size",
			Long: `Show what the cache holds by kind (wheels, index pages, parsed index pages,
metadata, ...) with file counts and sizes; --packages adds the total per
package, largest first.`,
			Args: cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				d, err := root()
				if err != nil {
					return err
				}
				u, err := cache.Inspect(d, byPackage)
				if err != nil {
					return err
				}
				if asJSON {
					return app.WriteJSON(s.Out, u)
				}
				fmt.Fprintf(s.Out, "Cache: %s\n", u.Root)
				// One tabwriter lines both tables up; the empty row
				// between them is padded, so trailing spaces are trimmed.
				var buf bytes.Buffer
				tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
				row := func(name string, files int, bytes int64) {
					fmt.Fprintf(tw, "%s\t%7d\t%10s\n", name, files, app.HumanBytes(bytes))
				}
				fmt.Fprintf(tw, "KIND\t%7s\t%10s\n", "FILES", "SIZE")
				for _, k := range u.Kinds {
					row(string(k.Kind), k.Files, k.Bytes)
				}
				row("total", u.Files, u.Bytes)
				if byPackage {
					fmt.Fprintf(tw, "\t\t\n")
					fmt.Fprintf(tw, "PACKAGE\t%7s\t%10s\n", "FILES", "SIZE")
					for _, p := range u.Packages {
						row(p.Name, p.Files, p.Bytes)
					}
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for line := range strings.Lines(buf.String()) {
					if _, err := fmt.Fprintln(s.Out, strings.TrimRight(line, " \n")); err != nil {
						return err
					}
				}
				return nil
			},
		}
		info.Flags().BoolVar(&byPackage, "packages", false, "also show the size per package (reads every entry)")
		info.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		cmd.AddCommand(info)

		cmd.AddCommand(&cobra.Command{
			Use:   "clean [PACKAGE...]",
			Short: "Remove the whole cache, or every entry of the packages named",
			Long: `Remove the whole cache, or with package names, every entry of those packages
(their wheels, index pages and metadata, and their wheels' lock files and
check records). Runs using the cache at the same
time may fail and need running again.`,
			Example: `  lambdapack cache clean
  lambdapack cache clean numpy pydantic-core`,
			RunE: func(_ *cobra.Command, args []string) error {
				d, err := root()
				if err != nil {
					return err
				}
				rm, err := cache.Clean(d, args...)
				if err != nil {
					return err
				}
				return writeRemoval(s, rm)
			},
		})

		olderThan := "30d"
		prune := &cobra.Command{
			Use:   "prune [--older-than 30d]",
			Short: "Remove what no run has used lately",
			Long: `Remove the cache entries no run has used for --older-than (default 30 days),
temporary files a killed run left behind, and the folders that leaves empty.
A use is recorded at most once a day per entry.`,
			Args: cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				age, err := parseAge(olderThan)
				if err != nil {
					return err
				}
				d, err := root()
				if err != nil {
					return err
				}
				rm, err := cache.Prune(d, time.Now().Add(-age))
				if err != nil {
					return err
				}
				return writeRemoval(s, rm)
			},
		}
		prune.Flags().StringVar(&olderThan, "older-than", olderThan, "remove entries unused for this long (30d, 12h, 90m)")
		cmd.AddCommand(prune)
		return cmd
	})
}

func writeRemoval(s *Streams, rm *cache.Removal) error {
	if rm.Files == 0 {
		_, err := fmt.Fprintf(s.Out, "Nothing to remove in %s\n", rm.Root)
		return err
	}
	var parts []string
	for _, k := range rm.Kinds {
		parts = append(parts, fmt.Sprintf("%s %d (%s)", k.Kind, k.Files, app.HumanBytes(k.Bytes)))
	}
	_, err := fmt.Fprintf(s.Out, "Removed %d files, %s, from %s: %s\n", rm.Files, app.HumanBytes(rm.Bytes), rm.Root, strings.Join(parts, ", "))
	return err
}

// parseAge reads a duration, also in days ("30d").
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if d, err := strconv.ParseFloat(n, 64); err == nil && d >= 0 {
			return time.Duration(d * float64(24*time.Hour)), nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("--older-than %q: want a duration such as 30d, 12h or 90m", s)
}
