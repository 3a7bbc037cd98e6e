// Package progress draws download progress bars on a terminal. Libraries
// report through small interfaces (cache.Reporter); the CLI decides whether
// to draw (a terminal, not CI) and nothing is printed otherwise.
package progress
