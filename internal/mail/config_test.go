package mail

import (
	"strings"
	"testing"
	"time"

	"github.com/deskctl/deskctl/internal/errs"
)

func TestConfigValidate(t *testing.T) {
	good := Config{Host: "smtp.example.com", From: "Helpdesk <helpdesk@example.com>", Username: "desk", Password: "pw", TLS: TLSStartTLS}
	tests := []struct {
		name     string
		change   func(*Config)
		wantErr  string // part of the message; "" means valid
		wantHint string
	}{
		{"complete", func(*Config) {}, "", ""},
		{"defaults left unset", func(c *Config) { c.TLS, c.Port, c.Timeout = "", 0, 0 }, "", ""},
		{"bare from address", func(c *Config) { c.From = "helpdesk@example.com" }, "", ""},
		{"ipv6 host", func(c *Config) { c.Host = "2001:db8::25" }, "", ""},
		{"open relay without login", func(c *Config) { c.Username, c.Password = "", "" }, "", ""},
		{"login without tls to localhost", func(c *Config) { c.TLS, c.Host = TLSNone, "localhost" }, "", ""},
		{"login without tls to loopback ip", func(c *Config) { c.TLS, c.Host = TLSNone, "127.0.0.1" }, "", ""},
		{"no host", func(c *Config) { c.Host = " " }, "smtp.host is not set", "smtp.host"},
		{"host with port", func(c *Config) { c.Host = "smtp.example.com:587" }, "not a host name", "smtp.port"},
		{"host as url", func(c *Config) { c.Host = "smtp://smtp.example.com" }, "not a host name", "smtp.port"},
		{"port too big", func(c *Config) { c.Port = 70000 }, "out of range", "587"},
		{"negative port", func(c *Config) { c.Port = -1 }, "out of range", "587"},
		{"unknown tls mode", func(c *Config) { c.TLS = "ssl" }, `smtp.tls "ssl"`, "starttls"},
		{"no from", func(c *Config) { c.From = "" }, "smtp.from is not set", "smtp.from"},
		{"bad from", func(c *Config) { c.From = "helpdesk at example" }, "not a mail address", "helpdesk@example.com"},
		{"negative timeout", func(c *Config) { c.Timeout = -time.Second }, "negative", "30s"},
		{"password without user", func(c *Config) { c.Username = "" }, "smtp.username is not", "smtp.username"},
		{"login in clear to remote host", func(c *Config) { c.TLS = TLSNone }, "unencrypted", "smtp.tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.wantErr)
			}
			if !errs.Is(err, errs.Usage) {
				t.Errorf("kind = %s, want usage", errs.KindOf(err))
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if hint := errs.HintOf(err); !strings.Contains(hint, tt.wantHint) {
				t.Errorf("hint %q does not contain %q", hint, tt.wantHint)
			}
		})
	}
}

func TestConfigConfigured(t *testing.T) {
	tests := []struct {
		cfg  Config
		want bool
	}{
		{Config{}, false},
		{Config{Host: "smtp.example.com"}, false},
		{Config{From: "helpdesk@example.com"}, false},
		{Config{Host: " ", From: "helpdesk@example.com"}, false},
		{Config{Host: "smtp.example.com", From: "helpdesk@example.com"}, true},
	}
	for _, tt := range tests {
		if got := tt.cfg.Configured(); got != tt.want {
			t.Errorf("%+v.Configured() = %v, want %v", tt.cfg, got, tt.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		tls      string
		port     int
		wantTLS  string
		wantPort int
	}{
		{"", 0, TLSStartTLS, 587},
		{TLSStartTLS, 0, TLSStartTLS, 587},
		{TLSImplicit, 0, TLSImplicit, 465},
		{TLSNone, 0, TLSNone, 25},
		{TLSNone, 2525, TLSNone, 2525},
	}
	for _, tt := range tests {
		got := Config{TLS: tt.tls, Port: tt.port}.normalized()
		if got.TLS != tt.wantTLS || got.Port != tt.wantPort || got.Timeout != DefaultTimeout {
			t.Errorf("tls %q port %d: normalized to %q:%d timeout %s, want %q:%d timeout %s",
				tt.tls, tt.port, got.TLS, got.Port, got.Timeout, tt.wantTLS, tt.wantPort, DefaultTimeout)
		}
	}
}
