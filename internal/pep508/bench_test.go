package pep508

import (
	"strings"
	"testing"
)

func BenchmarkParseRequirement(b *testing.B) {
	for b.Loop() {
		if _, err := ParseRequirement(`requests[security,socks] (>=2.8.1,<3,!=2.9.*) ; python_version >= "3.8" and (sys_platform == "linux" or extra == "socks")`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	m := MustParseMarker(`python_version >= "3.8" and (sys_platform == "linux" or extra == "socks") and platform_machine != "armv7l"`)
	e := Environment{"python_version": "3.12", "sys_platform": "linux", "platform_machine": "aarch64"}
	for b.Loop() {
		m.Evaluate(e)
	}
}

// A long input must not take quadratic time.
func TestLongInputIsFast(t *testing.T) {
	long := "name>=1" + strings.Repeat(",>=1", 20000)
	if _, err := ParseRequirement(long); err != nil {
		t.Fatal(err)
	}
	m := strings.Repeat(`os_name == "a" and `, 5000) + `os_name == "a"`
	if _, err := ParseMarker(m); err != nil {
		t.Fatal(err)
	}
}
