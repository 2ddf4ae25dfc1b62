//go:build !linux && !darwin && !freebsd

package api

import (
	"errors"
	"runtime"
)

// peerUID cannot learn the peer here: socket callers are refused, and
// tokens over HTTPS remain.
func peerUID(uintptr) (uint32, error) {
	return 0, errors.New("peer credentials are not available on " + runtime.GOOS)
}
