// Package glob matches slash-separated paths against the globs users write in
// excludes and strip patterns: "*" and "?" within one path segment, "**" for
// any number of segments, "[...]" classes; a pattern without "/" matches any
// single segment (a file or folder name anywhere, as in .gitignore), and a
// pattern that matches a folder matches everything beneath it.
package glob
