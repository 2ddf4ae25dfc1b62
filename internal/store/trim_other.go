//go:build !linux

package store

// releaseMapped does nothing here: the mapped pages stay until the file is
// closed.
func (tx *Tx) releaseMapped() (stop func()) { return func() {} }
