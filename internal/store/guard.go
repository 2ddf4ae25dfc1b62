package store

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/deskctl/deskctl/internal/errs"
)

// damageError is the cause of every error about a damaged file, so that
// `db restore` can tell a damaged backup from a wrong argument.
type damageError struct{ msg string }

func (e damageError) Error() string { return e.msg }

// damagedf is an errs.Unusable error saying the file is damaged.
func damagedf(format string, a ...any) *errs.Error {
	return &errs.Error{Kind: errs.Unusable, Err: damageError{fmt.Sprintf(format, a...)}}
}

func isDamage(err error) bool {
	var d damageError
	return errors.As(err, &d)
}

const damagedHint = "run `deskctl db check` to see what is damaged; restore a backup: deskctl db restore BACKUP --force"

// guard runs fn, which reads the mapped file through bbolt, and turns the
// two ways damaged pages make bbolt fail into an errs.Unusable error: a
// memory fault (a signal that would kill the process, made a panic of this
// goroutine by SetPanicOnFault) and a panic raised inside bbolt ("invalid
// page type", an index out of range). Any other panic is a bug in deskctl
// and is not swallowed.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if !fromDamage(r) {
			panic(r)
		}
		err = damagedf("database damaged: %s cannot be read (%v)", path, r).WithHint(damagedHint)
	}()
	return fn()
}

// fromDamage reports whether the panic being recovered came from reading a
// damaged file. A fault at an address outside the nil page can only be the
// mapped file (deskctl has no unsafe code of its own); a nil dereference is
// a bug wherever it happens. Other panics count when the function that
// raised them is bbolt's.
func fromDamage(r any) bool {
	if _, ok := r.(interface{ Addr() uintptr }); ok {
		return true
	}
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	inPanic := false
	for {
		fr, more := frames.Next()
		switch {
		case fr.Function == "runtime.gopanic":
			inPanic = true
		case inPanic && !strings.HasPrefix(fr.Function, "runtime."):
			return strings.HasPrefix(fr.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}
