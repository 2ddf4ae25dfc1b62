package cli

import (
	"fmt"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

func newCmdSettings(f *Factory) *cobra.Command {
	return noun("settings", "Read and change helpdesk settings", `Helpdesk-wide settings kept in the database (not the per-user config file).
Changing them needs the admin permission and is audited.`,
		newCmdSettingsList(f), newCmdSettingsGet(f), newCmdSettingsSet(f))
}

func settingsTab(vs []app.SettingView) output.Tab {
	t := output.Tab{Columns: output.Cols("KEY", "VALUE*", "DEFAULT", "DESCRIPTION+")}
	for _, v := range vs {
		t.Rows = append(t.Rows, []string{v.Key, v.Value, v.Default, v.Description})
	}
	return t
}

func completeSettingKeys(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, s := range helpdesk.Settings() {
		out = append(out, s.Key+"\t"+s.Description)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func newCmdSettingsList(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use: "list", Aliases: []string{"ls"}, Short: "List settings with their values",
		Long:    `List every setting. JSON fields: key, value, default, is_default, description.` + exitStatus(),
		Example: "  deskctl settings list",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			vs, err := svc.ListSettings()
			if err != nil {
				return err
			}
			return f.print(vs, settingsTab(vs))
		},
	}
}

func newCmdSettingsGet(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use: "get KEY", Short: "Print one setting's value",
		Long: `Print one setting's value (just the value in table format, for scripts).
JSON fields: key, value, default, is_default, description.` + exitStatus(),
		Example:           "  deskctl settings get approvals.enabled",
		Args:              usageArgs(1, 1, "a setting KEY"),
		ValidArgsFunction: completeSettingKeys,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			v, err := svc.GetSetting(args[0])
			if err != nil {
				return err
			}
			p, err := f.Printer()
			if err != nil {
				return err
			}
			if p.Format == output.Table {
				_, err := fmt.Fprintln(f.IO.Out, v.Value)
				return err
			}
			return p.Print(v, settingsTab([]app.SettingView{v}))
		},
	}
}

func newCmdSettingsSet(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use: "set KEY VALUE", Short: "Change a setting (admin)",
		Long: `Change a setting. Known settings:
  approvals.enabled       true|false   allow technicians to request ad-hoc approvals (default false)
  approvals.link-ttl      duration     how long an approval link stays valid (default 168h)
  approvals.gate-actions  ACTION,...   ticket actions held back while the ticket's approval is pending
                                       or rejected, e.g. close,assign; none (the default) for none
  approvals.default-due   duration     each stage's deadline when a request gives no --due; off (the
                                       default) for none
  approvals.remind-after  duration     remind undecided approvers this long after their stage opened
                                       (deskctl serve, or approval remind --due); off (the default): never
  approvals.remind-every  duration     then remind again this often (default: as remind-after)
  approvals.remind-max    number       at most this many automatic reminders per stage (default 3; 0: none)
  approvals.digest        off|daily|daily@HH:MM
                                       one mail a day to each approver with two or more waiting requests,
                                       listing them all, in place of their reminders; off (the default)` + exitStatus(),
		Example: "  deskctl settings set approvals.enabled true\n  deskctl settings set approvals.link-ttl 72h\n" +
			"  deskctl settings set approvals.gate-actions close,assign",
		Args:              usageArgs(2, 2, "a KEY and a VALUE"),
		ValidArgsFunction: completeSettingKeys,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			v, err := svc.SetSetting(args[0], args[1])
			if err != nil {
				return err
			}
			return f.print(v, settingsTab([]app.SettingView{v}))
		},
	}
}
