// Package human formats numbers for the progress lines and reports a
// person reads: byte counts, durations and counted nouns. It does no I/O.
package human

import (
	"fmt"
	"time"
)

// Bytes writes n in binary units: "512 B", "3.2 KiB", "70.1 MiB", "1.2 GiB".
func Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Duration rounds d to what is worth reading: milliseconds under a second,
// hundredths under ten seconds, tenths above.
func Duration(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// Count writes "1 wheel", "2 wheels".
func Count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
