package target

import "time"

// SetClock makes deprecation checks see now; the returned func restores it.
func SetClock(now time.Time) (restore func()) {
	old := clock
	clock = func() time.Time { return now }
	return func() { clock = old }
}
