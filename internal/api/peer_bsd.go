//go:build darwin || freebsd

package api

import "golang.org/x/sys/unix"

// peerUID asks the kernel who is at the other end of a Unix socket.
func peerUID(fd uintptr) (uint32, error) {
	cred, err := unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return 0, err
	}
	return cred.Uid, nil
}
