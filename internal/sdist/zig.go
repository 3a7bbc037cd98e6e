package sdist

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/lambdapack/lambdapack/internal/cache"
)

// ZigVersion is the zig toolchain lambdapack cross-compiles with: the
// ziglang wheel of the package index, pinned by file name and sha256 for
// each build machine. zig cc targets any glibc version it knows
// (aarch64-linux-gnu.2.26) from its own headers and stubs, with no
// sysroot.
const ZigVersion = "0.13.0"

// zigWheels pins the ziglang wheel per build machine (platform.machine()).
var zigWheels = map[string]struct{ filename, sha256 string }{
	"x86_64":  {"ziglang-0.13.0-py3-none-manylinux_2_12_x86_64.manylinux2010_x86_64.musllinux_1_1_x86_64.whl", "3ce0c9f16547e5d61b32e0d226926e9a2552ef4b91fccf7ab5ea1a623a77824b"},
	"aarch64": {"ziglang-0.13.0-py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64.whl", "5714a4d46f9246ba6180a0930e23df2bc8bc26e62b5fe0dc798b4afca1903308"},
}

// maxZigUnpacked bounds the unpacked toolchain (about 340 MB for 0.13.0).
const maxZigUnpacked = 1 << 30

// zig returns the zig executable, fetching the pinned wheel through the
// index and the cache and unpacking it once into the cache.
func (b *Builder) zig(ctx context.Context, machine string) (string, error) {
	b.zigMu.Lock()
	defer b.zigMu.Unlock()
	pin, ok := zigWheels[machine]
	if !ok {
		return "", fmt.Errorf("no pinned zig toolchain for a %s build machine (lambdapack has x86_64 and aarch64)", machine)
	}
	root, err := b.Cache.Dir("zig")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, pin.sha256[:24])
	exe := filepath.Join(dir, "ziglang", "zig")
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return exe, nil
	}
	blob, ok := b.Cache.Lookup(pin.sha256)
	if !ok {
		f, err := b.findFile(ctx, "ziglang", pin.filename)
		if err != nil {
			return "", fmt.Errorf("fetching zig %s for cross builds: %w", ZigVersion, err)
		}
		if got := f.Hashes["sha256"]; got != "" && got != pin.sha256 {
			return "", fmt.Errorf("fetching zig %s for cross builds: the index's sha256 for %s is %s, lambdapack pins %s: refusing it", ZigVersion, pin.filename, got, pin.sha256)
		}
		req := cache.Request{Name: f.Filename, URL: f.URL, SHA256: pin.sha256, Size: f.Size}
		if b.Index != nil {
			req.Open = func(ctx context.Context) (io.ReadCloser, error) { return b.Index.Open(ctx, f) }
		}
		b.logf("Fetching zig %s (%s) for cross builds", ZigVersion, pin.filename)
		blobs, err := b.Cache.Fetch(ctx, []cache.Request{req})
		if err != nil {
			return "", fmt.Errorf("fetching zig %s for cross builds: %w", ZigVersion, err)
		}
		blob = blobs[0]
	}
	tmp, err := os.MkdirTemp(root, ".tmp-zig-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := unzipTree(blob.Path, tmp, maxZigUnpacked); err != nil {
		return "", fmt.Errorf("unpacking %s: %w", pin.filename, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return exe, nil
}

// findFile looks a file up on the project's index page.
func (b *Builder) findFile(ctx context.Context, project, filename string) (fileRef, error) {
	src, err := b.source()
	if err != nil {
		return fileRef{}, err
	}
	files, err := src.Files(ctx, project)
	if err != nil {
		return fileRef{}, err
	}
	for _, f := range files {
		if f.Filename == filename {
			return f, nil
		}
	}
	return fileRef{}, fmt.Errorf("the index has no %s for %s", filename, project)
}

// unzipTree unpacks a wheel with checked names, keeping executable bits.
func unzipTree(zipPath, dir string, limit int64) error {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return err
	}
	defer zr.Close()
	var total int64
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		c := path.Clean(f.Name)
		if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") || strings.Contains(c, "\\") {
			return fmt.Errorf("member %q has an unsafe name", f.Name)
		}
		total += int64(f.UncompressedSize64)
		if total > limit {
			return fmt.Errorf("unpacks to more than %d bytes", limit)
		}
		dst := filepath.Join(dir, filepath.FromSlash(c))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		perm := os.FileMode(0o644)
		if f.Mode()&0o111 != 0 || (f.ExternalAttrs>>16)&0o111 != 0 {
			perm = 0o755
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
		if err == nil {
			_, err = io.Copy(out, io.LimitReader(rc, int64(f.UncompressedSize64)+1))
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// zigTriple is zig's -target for a machine and glibc ceiling:
// "aarch64-linux-gnu.2.26".
func zigTriple(machine, glibc string) string { return machine + "-linux-gnu." + glibc }
