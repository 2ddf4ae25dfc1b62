package config

import (
	"os"
	"path/filepath"
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
