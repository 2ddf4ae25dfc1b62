package store

import "time"

// trimInterval is how often releaseMapped hands back the pages a long walk
// mapped (Linux only; trim_linux.go).
var trimInterval = 100 * time.Millisecond
