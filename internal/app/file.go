package app

import (
	"bytes"
	"io"
	"os"

	"github.com/deskctl/deskctl/internal/errs"
)

// File is a file a command names, such as the one `ticket import` reads.
// Run locally, the service opens it by name (a large import streams from
// disk). Sent to a server, it carries its contents: Data is all the server
// reads, and it never opens a path a request names.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"data"`

	local bool
}

// LocalFile is the file at path, opened by the service that runs the use case.
func LocalFile(path string) File { return File{Name: path, local: true} }

// Local reports whether f is read from disk by name.
func (f File) Local() bool { return f.local }

func (f File) open() (io.ReadCloser, error) {
	if !f.local {
		return io.NopCloser(bytes.NewReader(f.Data)), nil
	}
	r, err := os.Open(f.Name)
	if err != nil {
		return nil, errs.Wrap(errs.Usage, err, "cannot read %s", f.Name)
	}
	return r, nil
}

// Load returns f with its contents read, refusing a file over limit bytes,
// so it can be sent to a server.
func (f File) Load(limit int64) (File, error) {
	if !f.local {
		return f, nil
	}
	r, err := f.open()
	if err != nil {
		return f, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return f, errs.Wrap(errs.Usage, err, "cannot read %s", f.Name)
	}
	if int64(len(data)) > limit {
		return f, errs.Usagef("%s is larger than %d MiB, the most a server accepts", f.Name, limit>>20).
			WithHint("split it, or run the import on the server host")
	}
	return File{Name: f.Name, Data: data}, nil
}
