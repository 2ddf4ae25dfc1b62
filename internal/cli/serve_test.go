package cli

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// serve fails at start, with the usage exit code and a message naming the
// problem, when it cannot do its job: an invalid public-url, an address it
// cannot listen on, no database.
func TestServeRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DESKCTL_DB", filepath.Join(dir, "desk.db"))
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("DESKCTL_PUBLIC_URL", "")
	serve := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"serve"}, args...), &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		return code, errOut.String()
	}
	if code, msg := serve("--listen", "127.0.0.1:0"); code != ExitUnusable || !strings.Contains(msg, "no database at") {
		t.Errorf("serve without a database: exit %d\n%s", code, msg)
	}
	var out bytes.Buffer
	if code := run([]string{"init", "--admin", "alice", "--email", "alice@example.com"}, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}); code != ExitOK {
		t.Fatalf("init: %s", out.String())
	}

	t.Setenv("DESKCTL_PUBLIC_URL", "ftp://help.example.com")
	if code, msg := serve("--listen", "127.0.0.1:0"); code != ExitUsage || !strings.Contains(msg, "must start with https:// or http://") {
		t.Errorf("serve with an ftp public-url: exit %d\n%s", code, msg)
	}
	t.Setenv("DESKCTL_PUBLIC_URL", "")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if code, msg := serve("--listen", ln.Addr().String()); code != ExitUsage || !strings.Contains(msg, ln.Addr().String()) {
		t.Errorf("serve on an address in use: exit %d\n%s", code, msg)
	}
}
