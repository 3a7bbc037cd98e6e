// Package tree is the seam between planning an artifact and writing it: the
// files one layer, function or image will hold, each with where its bytes
// come from, grouped by part (one installation per distinct wheel set), with
// the artifact's record and the notes a build has for the user.
//
// The pipeline (internal/app) plans a Tree, verifies it, and hands it to a
// Sink. Every sink writes the same planned files, so what an image holds and
// what invoke runs is exactly what a zip would ship:
//
//	internal/zipsink        a deterministic zip (layer or function)
//	internal/image          OCI image layers (dependencies and code apart)
//	internal/invoke         a task folder (and an /opt folder) to run
//
// A sink never decides what goes in: it writes Files in order, and leaves
// nothing at its destination when it fails.
//
// The package does no I/O of its own beyond opening a file's bytes.
package tree
