package human

import (
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 70 << 20: "70.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]time.Duration{
		1234567 * time.Nanosecond: 1 * time.Millisecond, 2345 * time.Millisecond: 2350 * time.Millisecond, 12345 * time.Millisecond: 12300 * time.Millisecond,
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %v, want %v", d, got, want)
		}
	}
	if Count(1, "wheel") != "1 wheel" || Count(0, "file") != "0 files" || Count(3, "package") != "3 packages" {
		t.Error("Count")
	}
}
