package index

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
)

// The page cache stores pageData in a compact binary form: a table of the
// strings that repeat (URL folders, Requires-Python, hash names, tags of
// other platforms), then the files, with hex digests as raw bytes. A warm
// run decodes it without reflection; nothing in it is trusted: a form that
// does not decode is a cache miss.

const pageMagic = "lambdapack-page-3\n"

var errBadPage = errors.New("damaged cached page")

type pageWriter struct {
	buf   []byte
	table map[string]uint64
	strs  []string
}

func (w *pageWriter) uvarint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }
func (w *pageWriter) varint(v int64)   { w.buf = binary.AppendVarint(w.buf, v) }
func (w *pageWriter) bytes(s string)   { w.uvarint(uint64(len(s))); w.buf = append(w.buf, s...) }

// ref writes a reference to a table string (0 is "").
func (w *pageWriter) ref(s string) {
	if s == "" {
		w.uvarint(0)
		return
	}
	i, ok := w.table[s]
	if !ok {
		w.strs = append(w.strs, s)
		i = uint64(len(w.strs))
		w.table[s] = i
	}
	w.uvarint(i)
}

// digest writes a hash value: raw bytes when it is lower-case hex.
func (w *pageWriter) digest(v string) {
	if len(v)%2 == 0 && len(v) > 0 && strings.ToLower(v) == v {
		if raw, err := hex.DecodeString(v); err == nil {
			w.uvarint(uint64(len(raw))<<1 | 1)
			w.buf = append(w.buf, raw...)
			return
		}
	}
	w.uvarint(uint64(len(v)) << 1)
	w.buf = append(w.buf, v...)
}

func (w *pageWriter) hashes(h map[string]string) {
	w.uvarint(uint64(len(h)))
	// Sorted, so that equal pages encode equally.
	algs := make([]string, 0, len(h))
	for a := range h {
		algs = append(algs, a)
	}
	slices.Sort(algs)
	for _, a := range algs {
		w.ref(a)
		w.digest(h[a])
	}
}

const (
	flagYanked = 1 << iota
	flagMetadata
	flagUpload
	flagSize
	flagURLInFolder // URL is a table folder + the file name
	flagMetaOther   // the metadata URL is not URL + ".metadata"; it follows the URL
)

// encodePage writes d in the cache's form.
func encodePage(d *pageData) []byte {
	body := &pageWriter{table: map[string]uint64{}}
	body.uvarint(uint64(len(d.Versions)))
	for _, v := range d.Versions {
		body.bytes(v)
	}
	body.uvarint(uint64(len(d.Files)))
	for _, f := range d.Files {
		body.bytes(f.Filename)
		var flags uint64
		dir, inFolder := strings.CutSuffix(f.URL, "/"+f.Filename)
		if inFolder {
			flags |= flagURLInFolder
		}
		if f.Yanked {
			flags |= flagYanked
		}
		if f.MetadataURL != "" {
			flags |= flagMetadata
			if f.MetadataURL != f.URL+".metadata" {
				flags |= flagMetaOther
			}
		}
		if !f.UploadTime.IsZero() {
			flags |= flagUpload
		}
		if f.Size != -1 {
			flags |= flagSize
		}
		body.uvarint(flags)
		if inFolder {
			body.ref(dir)
		} else {
			body.bytes(f.URL)
		}
		if flags&flagMetaOther != 0 {
			body.bytes(f.MetadataURL)
		}
		body.hashes(f.Hashes)
		body.ref(f.RequiresPython)
		if flags&flagUpload != 0 {
			body.varint(f.UploadTime.Unix())
			body.uvarint(uint64(f.UploadTime.Nanosecond()))
		}
		if flags&flagSize != 0 {
			body.varint(f.Size)
		}
		if flags&flagYanked != 0 {
			body.ref(f.YankedReason)
		}
		if flags&flagMetadata != 0 {
			body.hashes(f.MetadataHashes)
		}
	}
	body.uvarint(uint64(len(d.Elsewhere)))
	for _, e := range d.Elsewhere {
		body.bytes(e.Version)
		body.uvarint(uint64(len(e.Tags)))
		for _, t := range e.Tags {
			body.ref(t)
		}
	}
	out := &pageWriter{buf: make([]byte, 0, len(body.buf)+64*len(body.strs)+len(pageMagic)+8)}
	out.buf = append(out.buf, pageMagic...)
	out.uvarint(uint64(len(body.strs)))
	for _, s := range body.strs {
		out.bytes(s)
	}
	return append(out.buf, body.buf...)
}

type pageReader struct {
	b    []byte
	err  error
	strs []string
}

func (r *pageReader) fail() { r.err = errBadPage; r.b = nil }

func (r *pageReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *pageReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *pageReader) raw(n uint64) []byte {
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *pageReader) bytes() string { return string(r.raw(r.uvarint())) }

// count reads a length that must not exceed what is left (each item takes
// at least a byte), so a damaged form cannot make a huge allocation.
func (r *pageReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *pageReader) ref() string {
	i := r.uvarint()
	if i == 0 {
		return ""
	}
	if i > uint64(len(r.strs)) {
		r.fail()
		return ""
	}
	return r.strs[i-1]
}

func (r *pageReader) digest() string {
	v := r.uvarint()
	b := r.raw(v >> 1)
	if v&1 == 1 {
		return hex.EncodeToString(b)
	}
	return string(b)
}

func (r *pageReader) hashes() map[string]string {
	n := r.count()
	if n == 0 {
		return nil
	}
	h := make(map[string]string, n)
	for range n {
		a := r.ref()
		h[a] = r.digest()
	}
	return h
}

// decodePage reads the cache's form.
func decodePage(b []byte) (*pageData, error) {
	if !bytes.HasPrefix(b, []byte(pageMagic)) {
		return nil, errBadPage
	}
	r := &pageReader{b: b[len(pageMagic):]}
	n := r.count()
	r.strs = make([]string, n)
	for i := range n {
		r.strs[i] = r.bytes()
	}
	d := &pageData{}
	if n := r.count(); n > 0 {
		d.Versions = make([]string, n)
		for i := range n {
			d.Versions[i] = r.bytes()
		}
	}
	nf := r.count()
	if nf > 0 {
		d.Files = make([]File, nf)
	}
	for i := 0; i < nf && r.err == nil; i++ {
		f := &d.Files[i]
		name := r.raw(r.uvarint())
		flags := r.uvarint()
		meta := flags&flagMetadata != 0 && flags&flagMetaOther == 0
		if flags&flagURLInFolder != 0 {
			// URL, file name and metadata URL in one allocation.
			dir := r.ref()
			b := make([]byte, 0, len(dir)+1+len(name)+len(".metadata"))
			b = append(append(append(b, dir...), '/'), name...)
			n := len(b)
			if meta {
				b = append(b, ".metadata"...)
			}
			all := string(b)
			f.URL, f.Filename = all[:n], all[len(dir)+1:n]
			if meta {
				f.MetadataURL = all
			}
		} else {
			f.URL, f.MetadataURL, f.Filename = shareStrings(r.bytes(), meta, name)
		}
		if flags&flagMetaOther != 0 {
			f.MetadataURL = r.bytes()
		}
		f.Hashes = r.hashes()
		f.RequiresPython = r.ref()
		if flags&flagUpload != 0 {
			sec := r.varint()
			ns := r.uvarint()
			if ns >= 1e9 {
				r.fail()
			}
			f.UploadTime = time.Unix(sec, int64(ns)).UTC()
		}
		f.Size = -1
		if flags&flagSize != 0 {
			f.Size = r.varint()
		}
		if flags&flagYanked != 0 {
			f.Yanked, f.YankedReason = true, r.ref()
		}
		if flags&flagMetadata != 0 {
			f.MetadataHashes = r.hashes()
		}
	}
	if n := r.count(); n > 0 {
		d.Elsewhere = make([]Elsewhere, n)
		for i := 0; i < n && r.err == nil; i++ {
			e := &d.Elsewhere[i]
			e.Version = r.bytes()
			nt := r.count()
			e.Tags = make([]string, nt)
			for j := range nt {
				e.Tags[j] = r.ref()
			}
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail()
	}
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}
