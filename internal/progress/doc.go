// Package progress is how a run talks to the person running it: progress
// bars on a terminal (downloads, the zip being written, the index's
// answers) and the one logger every library writes its lines to
// (NewLogger). Libraries report through small interfaces (cache.Reporter,
// zipsink.Progress, index.Reporter, *slog.Logger); the CLI decides whether
// to draw (a terminal, not CI) and nothing is drawn otherwise.
package progress
