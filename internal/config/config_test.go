package config

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/spf13/pflag"
)

func flags(args ...string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.String("db", "", "")
	fs.String("as", "", "")
	fs.Duration("lock-timeout", 0, "")
	if err := fs.Parse(args); err != nil {
		panic(err)
	}
	return fs
}

func entry(c *Config, key string) Entry {
	for _, e := range c.Entries() {
		if e.Key == key {
			return e
		}
	}
	return Entry{}
}

func isolate(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	for _, d := range Docs() {
		t.Setenv(d.Env, "")
		os.Unsetenv(d.Env)
	}
	t.Setenv("DESKCTL_CONFIG", "")
	os.Unsetenv("DESKCTL_CONFIG")
	return dir
}

func TestPrecedenceFlagEnvFileDefault(t *testing.T) {
	dir := isolate(t)
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("db: /from/file.db\nuser: fileuser\nlock-timeout: 9s\nsmtp:\n  host: mail.example.com\n  password: s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DESKCTL_USER", "envuser")
	t.Setenv("DESKCTL_LOCK_TIMEOUT", "7s")
	c, err := Load(flags("--lock-timeout", "3s"), file)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "/from/file.db" || c.User != "envuser" || c.LockTimeout != 3*time.Second || c.SMTP.Host != "mail.example.com" {
		t.Fatalf("got db=%s user=%s timeout=%s host=%s", c.DB, c.User, c.LockTimeout, c.SMTP.Host)
	}
	for key, src := range map[string]string{"db": "file", "user": "env DESKCTL_USER", "lock-timeout": "flag --lock-timeout",
		"smtp.port": "default", "smtp.host": "file"} {
		if got := entry(c, key).Source; got != src {
			t.Errorf("%s source = %q, want %q", key, got, src)
		}
	}
	if e := entry(c, "smtp.password"); e.Value != "********" || !e.Secret || c.SMTP.Password != "s3cret" {
		t.Errorf("password entry %+v not redacted (or not loaded)", e)
	}
	if c.File != file {
		t.Errorf("File = %q", c.File)
	}
}

func TestDefaultsWithoutFile(t *testing.T) {
	dir := isolate(t)
	c, err := Load(flags(), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != filepath.Join(dir, "data", "deskctl", "deskctl.db") || c.LockTimeout != 5*time.Second || c.SMTP.TLS != "starttls" || c.File != "" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestPasswordFile(t *testing.T) {
	dir := isolate(t)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("from-file\n"), 0o600)
	t.Setenv("DESKCTL_SMTP_PASSWORD_FILE", pw)
	c, err := Load(flags(), "")
	if err != nil || c.SMTP.Password != "from-file" {
		t.Fatalf("password %q, %v", c.SMTP.Password, err)
	}
}

func TestBadConfigIsAUsageError(t *testing.T) {
	dir := isolate(t)
	for name, content := range map[string]string{
		"unknown key":  "colour: blue\n",
		"bad yaml":     "db: [unclosed\n",
		"bad timeout":  "lock-timeout: forever\n",
		"bad tls":      "smtp:\n  tls: maybe\n",
		"no send-wait": "smtp:\n  send-wait: 0s\n",
	} {
		file := filepath.Join(dir, "bad.yaml")
		os.WriteFile(file, []byte(content), 0o600)
		if _, err := Load(flags(), file); errs.KindOf(err) != errs.Usage {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
	if _, err := Load(flags(), filepath.Join(dir, "missing.yaml")); errs.KindOf(err) != errs.Usage {
		t.Errorf("an explicit missing file: %v", err)
	}
}

func TestEnvNames(t *testing.T) {
	if EnvName("smtp.password-file") != "DESKCTL_SMTP_PASSWORD_FILE" || EnvName("public-url") != "DESKCTL_PUBLIC_URL" {
		t.Fatal("EnvName")
	}
}

// Files that may hold the SMTP password are refused while other users can
// read or change them, naming the chmod that fixes it.
func TestSecretFilesMustBePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no group and other mode bits on Windows")
	}
	dir := isolate(t)
	pw := filepath.Join(dir, "pw")
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(pw, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("smtp:\n  password-file: "+pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o620, 0o604} {
		os.Chmod(file, mode)
		_, err := Load(flags(), file)
		want := fmt.Sprintf("config file %s can be read or changed by other users (mode %04o)", file, mode)
		if errs.KindOf(err) != errs.Usage || err.Error() != want || errs.HintOf(err) != "chmod 600 "+file {
			t.Errorf("config file %04o: %v (hint %q), want %q with the hint chmod 600", mode, err, errs.HintOf(err), want)
		}
	}
	os.Chmod(file, 0o600)
	os.Chmod(pw, 0o640)
	c, err := Load(flags(), file)
	if err != nil {
		t.Fatal(err)
	}
	if p := c.SMTP.PasswordErr; errs.KindOf(p) != errs.Usage || errs.HintOf(p) != "chmod 600 "+pw || c.SMTP.Password != "" {
		t.Errorf("password file 0640: err %v, hint %q, password %q", p, errs.HintOf(p), c.SMTP.Password)
	}
	os.Chmod(pw, 0o400)
	if c, err = Load(flags(), file); err != nil || c.SMTP.PasswordErr != nil || c.SMTP.Password != "from-file" {
		t.Errorf("after chmod: %v, %v, password %q", err, c.SMTP.PasswordErr, c.SMTP.Password)
	}
}
