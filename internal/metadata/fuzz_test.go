package metadata

import "testing"

// FuzzParse checks that Parse never panics and that a file it accepts has
// the required fields.
func FuzzParse(f *testing.F) {
	f.Add([]byte(everything))
	f.Add([]byte("Metadata-Version: 2.1\r\nName: x\r\nVersion: 1\r\nRequires-Dist: y; extra == 'a'\r\n\r\nbody"))
	f.Add([]byte("Metadata-Version: 2.0\nName: x\nVersion: 1\nDynamic: Name\n  folded\nnot a header\n"))
	f.Add([]byte("\xef\xbb\xbfFrom x\n:\nName:\xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if len(Fields(err)) == 0 {
				t.Fatalf("error %v names no field", err)
			}
			return
		}
		if m.Name == "" || m.MetadataVersion == "" || m.Version.String() == "" {
			t.Fatalf("accepted %q without its required fields: %+v", data, m)
		}
	})
}
