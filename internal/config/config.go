// Package config builds deskctl's typed configuration from, in order of
// precedence, command-line flags, DESKCTL_* environment variables, the config
// file and defaults. It is the only package that imports viper.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// SMTP holds the outgoing mail server settings.
type SMTP struct {
	Host         string
	Port         int
	Username     string
	Password     string
	PasswordFile string
	// PasswordErr is why PasswordFile could not be read. It matters only
	// when mail is sent (and to config show), not to every command.
	PasswordErr error
	TLS         string
	From        string
	Timeout     time.Duration
	SendWait    time.Duration
}

// Config is the effective configuration of one deskctl run.
type Config struct {
	DB          string
	User        string
	LockTimeout time.Duration
	PublicURL   string
	Listen      string
	TrustProxy  bool
	SMTP        SMTP
	// Server selects remote mode: the `deskctl serve` every use case is
	// sent to ("" runs them on the local file).
	Server string
	// Token is the API token for Server: DESKCTL_TOKEN, else the one
	// `deskctl login` saved for it.
	Token string
	// File is the config file that was read ("" when none).
	File string
	// Path is the config file in use: File, or where `deskctl login` would
	// create one.
	Path    string
	entries []Entry
}

// Entry is one effective value and where it came from.
type Entry struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"` // flag | env | file | default
	Env    string `json:"env"`
	Secret bool   `json:"secret"`
}

type key struct {
	name   string
	flag   string // persistent flag bound to the key, if any
	def    any
	secret bool
	doc    string
}

// Keys documents every configuration key.
var keys = []key{
	{"db", "db", "", false, "database file"},
	{"user", "as", "", false, "acting user's login"},
	{"lock-timeout", "lock-timeout", "5s", false, "how long to wait for another deskctl process"},
	{"public-url", "", "http://127.0.0.1:8080", false, "base URL approval links are built from"},
	{"listen", "", "127.0.0.1:8080", false, "address `deskctl serve` listens on"},
	{"trust-proxy", "", false, false, "`deskctl serve` runs behind a reverse proxy: rate-limit by the client address the proxy adds to X-Forwarded-For"},
	{"smtp.host", "", "", false, "SMTP server host"},
	{"smtp.port", "", 587, false, "SMTP server port"},
	{"smtp.username", "", "", false, "SMTP AUTH user"},
	{"smtp.password", "", "", true, "SMTP AUTH password"},
	{"smtp.password-file", "", "", false, "file holding the SMTP password"},
	{"smtp.tls", "", "starttls", false, "starttls | tls | none"},
	{"smtp.from", "", "", false, "sender address of deskctl mail"},
	{"smtp.timeout", "", "30s", false, "SMTP connection timeout"},
	{"smtp.send-wait", "", "5s", false, "how long a command waits for the SMTP server before leaving its mail queued for retry"},
	{"server", "server", "", false, "deskctl serve to run every command on: https://HOST, http://127.0.0.1:PORT or unix:///PATH"},
	{"token", "", "", true, "API token for the server (for CI; `deskctl login` saves one per server instead)"},
}

// loginsKey is the config file's list of saved logins, one per server.
const loginsKey = "logins"

// Doc describes one key for help topics.
type Doc struct{ Key, Env, Default, Description string }

// Docs lists every key with its environment variable.
func Docs() []Doc {
	out := make([]Doc, len(keys))
	for i, k := range keys {
		out[i] = Doc{k.name, EnvName(k.name), fmt.Sprint(k.def), k.doc}
	}
	return out
}

// EnvName is the environment variable for a key: DESKCTL_SMTP_PASSWORD_FILE.
func EnvName(k string) string {
	return "DESKCTL_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(k))
}

// DefaultDBPath is $XDG_DATA_HOME/deskctl/deskctl.db, falling back to ~/.local/share.
func DefaultDBPath() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "deskctl", "deskctl.db")
}

// DefaultConfigPath is $XDG_CONFIG_HOME/deskctl/config.yaml, falling back to ~/.config.
func DefaultConfigPath() string {
	base := os.Getenv("XDG_CONFIG_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = "."
		}
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, "deskctl", "config.yaml")
}

// Load builds the configuration. flags are the root command's persistent
// flags (already parsed); configFlag is the value of --config ("" = default).
func Load(flags *pflag.FlagSet, configFlag string) (*Config, error) {
	v := viper.New()
	v.SetEnvPrefix("DESKCTL")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_", "-", "_"))
	v.AutomaticEnv()
	for _, k := range keys {
		v.SetDefault(k.name, k.def)
		if k.flag != "" && flags != nil {
			if f := flags.Lookup(k.flag); f != nil {
				if err := v.BindPFlag(k.name, f); err != nil {
					return nil, err
				}
			}
		}
	}
	file := configFlag
	if file == "" {
		file = os.Getenv("DESKCTL_CONFIG")
	}
	explicit := file != ""
	if !explicit {
		file = DefaultConfigPath()
	}
	c := &Config{Path: file}
	if err := private(file, "config file"); err != nil {
		return nil, err
	}
	v.SetConfigFile(file)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		var pe *fs.PathError
		switch {
		case errors.As(err, &pe) && errors.Is(pe.Err, fs.ErrNotExist) && !explicit:
			// No default config file: defaults and environment only.
		case errors.As(err, &pe) && errors.Is(pe.Err, fs.ErrNotExist):
			return nil, errs.Usagef("config file %s does not exist", file).WithHint("create it or drop --config / DESKCTL_CONFIG")
		default:
			return nil, errs.Wrap(errs.Usage, err, "cannot read config file %s", file).WithHint("fix the YAML, or check it with `deskctl config show --config FILE`")
		}
	} else {
		c.File = file
		known := map[string]bool{loginsKey: true}
		for _, k := range keys {
			known[k.name] = true
		}
		for _, k := range v.AllKeys() {
			if !known[k] && v.InConfig(k) {
				return nil, errs.Usagef("config file %s has unknown key %q", file, k).WithHint("known keys: %s", strings.Join(keyNames(), ", "))
			}
		}
	}

	c.DB = v.GetString("db")
	if c.DB == "" {
		c.DB = DefaultDBPath()
	}
	c.User = v.GetString("user")
	var err error
	if c.LockTimeout, err = duration(v, "lock-timeout"); err != nil {
		return nil, err
	}
	c.PublicURL = strings.TrimRight(v.GetString("public-url"), "/")
	c.Listen = v.GetString("listen")
	if c.TrustProxy, err = boolean(v, "trust-proxy"); err != nil {
		return nil, err
	}
	c.SMTP = SMTP{
		Host:         v.GetString("smtp.host"),
		Port:         0,
		Username:     v.GetString("smtp.username"),
		Password:     v.GetString("smtp.password"),
		PasswordFile: v.GetString("smtp.password-file"),
		TLS:          v.GetString("smtp.tls"),
		From:         v.GetString("smtp.from"),
	}
	if c.SMTP.Timeout, err = duration(v, "smtp.timeout"); err != nil {
		return nil, err
	}
	if c.SMTP.SendWait, err = duration(v, "smtp.send-wait"); err != nil {
		return nil, err
	}
	if c.SMTP.SendWait == 0 {
		return nil, errs.Usagef("smtp.send-wait is 0").WithHint("give the server a moment, e.g. 5s; mail it does not take in time stays queued")
	}
	if c.SMTP.Port, err = port(v, "smtp.port"); err != nil {
		return nil, err
	}
	if c.SMTP.Password == "" && c.SMTP.PasswordFile != "" {
		if err := private(c.SMTP.PasswordFile, "smtp.password-file"); err != nil {
			c.SMTP.PasswordErr = err
		} else if raw, err := os.ReadFile(c.SMTP.PasswordFile); err != nil {
			c.SMTP.PasswordErr = errs.Wrap(errs.Usage, err, "cannot read smtp.password-file").WithHint("check the path in smtp.password-file or set DESKCTL_SMTP_PASSWORD")
		} else {
			c.SMTP.Password = strings.TrimRight(string(raw), "\r\n")
		}
	}
	switch c.SMTP.TLS {
	case "starttls", "tls", "none":
	default:
		return nil, errs.Usagef("smtp.tls is %q", c.SMTP.TLS).WithHint("use starttls, tls or none")
	}

	c.Server = strings.TrimRight(v.GetString("server"), "/")
	c.Token = v.GetString("token")
	saved := false
	if c.Token == "" && c.Server != "" {
		c.Token, saved = savedLogin(v, c.Server)
	}
	for _, k := range keys {
		e := Entry{Key: k.name, Value: v.GetString(k.name), Env: EnvName(k.name), Secret: k.secret}
		if k.name == "token" && saved {
			e.Value, e.Source = c.Token, "file (deskctl login)"
		}
		switch {
		case k.flag != "" && flags != nil && flags.Changed(k.flag):
			e.Source = "flag --" + k.flag
		case e.Source != "":
		case os.Getenv(EnvName(k.name)) != "":
			e.Source = "env " + EnvName(k.name)
		case v.InConfig(k.name):
			e.Source = "file"
		default:
			e.Source = "default"
		}
		if k.name == "db" {
			if e.Value == "" {
				e.Value = c.DB
			}
			e.Value = redactDBURL(e.Value)
		}
		if e.Secret && e.Value != "" {
			e.Value = "********"
		}
		c.entries = append(c.entries, e)
	}
	return c, nil
}

// private refuses a file that holds secrets when users other than its
// owner may read or change it, as ssh refuses such a key. A missing file is
// left to the caller. Windows has no such mode bits, so nothing is checked.
func private(path, what string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return errs.Usagef("%s %s can be read or changed by other users (mode %04o)", what, path, st.Mode().Perm()).
		WithHint("chmod 600 %s", path)
}

func duration(v *viper.Viper, k string) (time.Duration, error) {
	s := v.GetString(k)
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, errs.Usagef("%s is %q, not a duration", k, s).WithHint("write it like 5s, 2m or 1h")
	case d < 0:
		return 0, errs.Usagef("%s is %q; it cannot be negative", k, s).WithHint("write it like 5s, 2m or 1h")
	}
	return d, nil
}

func port(v *viper.Viper, k string) (int, error) {
	s := v.GetString(k)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, errs.Usagef("%s is %q, not a port number", k, s).WithHint("use 587 for starttls, 465 for tls or 25 for none")
	}
	return n, nil
}

func boolean(v *viper.Viper, k string) (bool, error) {
	s := v.GetString(k)
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, errs.Usagef("%s is %q, not true or false", k, s).WithHint("write true or false")
	}
	return b, nil
}

func keyNames() []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.name
	}
	sort.Strings(out)
	return out
}

// Entries lists every effective value with its source; secrets are redacted.
func (c *Config) Entries() []Entry { return c.entries }

// Source says where key's effective value came from: flag, env, file or
// default ("" for an unknown key).
func (c *Config) Source(key string) string {
	for _, e := range c.entries {
		if e.Key == key {
			return e.Source
		}
	}
	return ""
}

// redactDBURL hides a password in a postgres:// URL, in the user part or as
// a password= parameter, so `config show` can be pasted into a ticket.
func redactDBURL(db string) string {
	if !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	_, hasPassword := u.User.Password()
	if hasPassword {
		u.User = url.User(u.User.Username())
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "REDACTED")
		u.RawQuery = q.Encode()
	}
	out := strings.Replace(u.String(), "password=REDACTED", "password=********", 1)
	if hasPassword {
		out = strings.Replace(out, "@", ":********@", 1)
	}
	return out
}
