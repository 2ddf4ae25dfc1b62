//go:build !unix

package devgen

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
