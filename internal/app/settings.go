package app

import "github.com/deskctl/deskctl/internal/helpdesk"

// SettingView is a helpdesk setting as printed.
type SettingView struct {
	Key         string `json:"key"`
	Value       string `json:"value"`
	Default     string `json:"default"`
	IsDefault   bool   `json:"is_default"`
	Description string `json:"description"`
}

// ListSettings returns every known setting with its value.
func (s *Service) ListSettings() ([]SettingView, error) {
	var out []SettingView
	err := s.read(func(c *Ctx) error {
		stored := c.Tx.Settings()
		for _, st := range helpdesk.Settings() {
			v, ok := stored[st.Key]
			if !ok {
				v = st.Default
			}
			out = append(out, SettingView{st.Key, v, st.Default, !ok, st.Description})
		}
		return nil
	})
	return out, err
}

// GetSetting returns one setting.
func (s *Service) GetSetting(key string) (SettingView, error) {
	st, err := helpdesk.LookupSetting(key)
	if err != nil {
		return SettingView{}, err
	}
	all, err := s.ListSettings()
	for _, v := range all {
		if v.Key == st.Key {
			return v, err
		}
	}
	return SettingView{}, err
}

// SetSetting changes a setting (admin only, audited).
func (s *Service) SetSetting(key, value string) (SettingView, error) {
	var out SettingView
	_, err := s.write("settings set", func(c *Ctx) error {
		if err := c.RequireAdmin(); err != nil {
			return err
		}
		st, err := helpdesk.LookupSetting(key)
		if err != nil {
			return err
		}
		if err := checkSetting(c, st, value); err != nil {
			return err
		}
		before, had := c.Tx.Setting(key)
		if !had {
			before = st.Default
		}
		out = SettingView{key, value, st.Default, false, st.Description}
		if had && before == value {
			return errNothingToWrite
		}
		if err := c.Tx.PutSetting(key, value); err != nil {
			return err
		}
		return c.Audit("setting:"+key, map[string]string{"value": before}, map[string]string{"value": value})
	})
	return out, err
}

// checkSetting validates a value, including what depends on the database:
// gated actions must be in its catalog.
func checkSetting(c *Ctx, st helpdesk.Setting, value string) error {
	if err := st.Check(value); err != nil {
		return err
	}
	if st.Key != helpdesk.SettingGateActions {
		return nil
	}
	catalog, err := c.Tx.Rights()
	if err != nil {
		return err
	}
	return helpdesk.CheckGateActions(value, catalog)
}
