package store

import "time"

// How often releaseMapped looks at the resident size, and how much of the
// mapped file it lets stay resident (Linux only; trim_linux.go).
var (
	trimInterval       = 20 * time.Millisecond
	mappedBudget int64 = 160 << 20
)
