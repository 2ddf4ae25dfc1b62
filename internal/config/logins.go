package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/deskctl/deskctl/internal/errs"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// The config file keeps one login per server:
//
//	logins:
//	  - server: https://help.example.com
//	    token: dsk_…
//
// A list rather than a map, because viper splits keys at dots and URLs are
// full of them. The file is written with mode 0600.

func savedLogin(v *viper.Viper, server string) (string, bool) {
	list, _ := v.Get(loginsKey).([]any)
	for _, item := range list {
		m, _ := item.(map[string]any)
		if s, _ := m["server"].(string); s == server {
			t, _ := m["token"].(string)
			return t, t != ""
		}
	}
	return "", false
}

// SaveLogin records token for server in the config file at path, keeping
// everything else in it, and makes the file private (0600).
func SaveLogin(path, server, token string) error {
	doc, logins, err := loadLogins(path)
	if err != nil {
		return err
	}
	entry := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		scalar("server"), scalar(server), scalar("token"), scalar(token)}}
	if i := findLogin(logins, server); i >= 0 {
		logins.Content[i] = entry
	} else {
		logins.Content = append(logins.Content, entry)
	}
	return writeConfig(path, doc)
}

// RemoveLogin forgets the token saved for server; it reports whether there was one.
func RemoveLogin(path, server string) (bool, error) {
	doc, logins, err := loadLogins(path)
	if err != nil {
		return false, err
	}
	i := findLogin(logins, server)
	if i < 0 {
		return false, nil
	}
	logins.Content = append(logins.Content[:i], logins.Content[i+1:]...)
	return true, writeConfig(path, doc)
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// loadLogins reads the config file as a YAML tree and returns it with its
// logins list (created empty when missing).
func loadLogins(path string) (*yaml.Node, *yaml.Node, error) {
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, nil, errs.Wrap(errs.Usage, err, "cannot read config file %s", path)
	case len(raw) > 0:
		if err := yaml.Unmarshal(raw, doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			return nil, nil, errs.Usagef("config file %s is not a YAML mapping", path).WithHint("fix it, or check it with `deskctl config show`")
		}
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == loginsKey {
			if top.Content[i+1].Kind != yaml.SequenceNode {
				return nil, nil, errs.Usagef("config file %s: %s is not a list", path, loginsKey).WithHint("remove it and log in again")
			}
			return doc, top.Content[i+1], nil
		}
	}
	logins := &yaml.Node{Kind: yaml.SequenceNode}
	top.Content = append(top.Content, scalar(loginsKey), logins)
	return doc, logins, nil
}

func findLogin(logins *yaml.Node, server string) int {
	for i, item := range logins.Content {
		for j := 0; j+1 < len(item.Content); j += 2 {
			if item.Content[j].Value == "server" && item.Content[j+1].Value == server {
				return i
			}
		}
	}
	return -1
}

// writeConfig replaces the file at path in one rename, private to its owner.
func writeConfig(path string, doc *yaml.Node) error {
	out, err := yaml.Marshal(doc)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "cannot encode config file %s", path)
	}
	fail := func(err error) error {
		return errs.Wrap(errs.Usage, err, "cannot write config file %s", path).WithHint("check the directory's permissions, or pass --config FILE")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fail(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.yaml")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	return nil
}
