package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/deskctl/deskctl/internal/app"
	"github.com/deskctl/deskctl/internal/errs"
	"github.com/deskctl/deskctl/internal/helpdesk"
	"github.com/deskctl/deskctl/internal/output"
	"github.com/spf13/cobra"
)

func newCmdMail(f *Factory) *cobra.Command {
	return noun("mail", "Inspect and deliver the mail outbox", `Every mail deskctl sends (approval requests, outcomes, cancellations) is written
to a durable outbox in the same transaction as the change that causes it, then
delivered after commit. A mail is marked sent only once the SMTP server accepted it;
failed deliveries are retried with back-off (1m, 5m, 15m, 1h, then every 6h).`,
		newCmdMailQueue(f), newCmdMailFlush(f), newCmdMailTest(f))
}

func newCmdMailQueue(f *Factory) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "queue [--all]",
		Short: "List queued (and with --all, sent) mail (admin)",
		Long: `List the outbox: state (queued, sent, failed), recipient, subject, attempts, last
error and when the next attempt is due.
JSON fields: id, state, kind, ticket, to, subject, created, attempts, last_error, next_attempt, sent_at.` + exitStatus(),
		Example: "  deskctl mail queue\n  deskctl mail queue --all -o json",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			ms, err := svc.MailQueue(all)
			if err != nil {
				return err
			}
			if ms == nil {
				ms = []app.MailView{}
			}
			t := output.Tab{Columns: output.Cols("ID", "STATE", "TO", "SUBJECT*", "ATTEMPTS", "NEXT", "LAST ERROR+", "CREATED+"), Empty: "outbox is empty"}
			for _, m := range ms {
				t.Rows = append(t.Rows, []string{strconv.FormatUint(m.ID, 10), m.State, m.To, m.Subject, strconv.Itoa(m.Attempts), ts(m.NextAttempt), m.LastError, ts(m.Created)})
			}
			return f.print(ms, t)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include sent mail")
	return cmd
}

func newCmdMailFlush(f *Factory) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "flush [--force]",
		Short: "Deliver queued mail that is due (admin)",
		Long: `Try to deliver every queued mail whose back-off has passed (--force: all queued
mail now). Each mail is marked sent only after the server accepted it.` +
			exitStatus("1  some mail was not delivered: queued for a retry, or refused for good (marked failed, not retried)", "5  mail is queued but SMTP is not configured"),
		Example: "  deskctl mail flush\n  deskctl mail flush --force",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := f.Service()
			if err != nil {
				return err
			}
			r, err := svc.FlushMail(force)
			if err != nil {
				return err
			}
			if r.Sent == nil {
				r.Sent = []string{}
			}
			if r.Queued == nil {
				r.Queued = []string{}
			}
			p, err := f.Printer()
			if err != nil {
				return err
			}
			if p.Structured() {
				if err := p.Print(r, output.Tab{}); err != nil {
					return err
				}
			} else {
				if _, err := fmt.Fprintf(f.IO.Out, "%d sent, %d failed, %d waiting for back-off\n", len(r.Sent), len(r.Queued)+len(r.Failed), r.Waiting); err != nil {
					return err
				}
			}
			if len(r.Queued) > 0 {
				f.reportDelivery(app.Delivery{Failed: r.Failed, FailReason: r.FailReason, Resend: r.Resend})
				return errs.Negativef("%d mail(s) not delivered: %s", len(r.Queued), r.Reason)
			}
			if len(r.Failed) > 0 {
				return errs.Negativef("mail to %s %s", strings.Join(r.Failed, ", "), r.FailReason).WithHint("%s", r.Resend)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "ignore back-off and try every queued mail now")
	return cmd
}

func newCmdMailTest(f *Factory) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "test --to ADDR",
		Short: "Send a test message through the configured SMTP server (admin)",
		Long: `Send a test message right away (not through the outbox) to check the smtp.* settings.
Needs the admin permission: it sends through the helpdesk's own mail account.` +
			exitStatus("1  the server refused (the login, the sender or the recipient) or could not be reached",
				"2  --to is not a mail address, or SMTP is not configured or its settings are invalid",
				"4  you lack the admin permission"),
		Example: "  deskctl mail test --to alice@example.com",
		Args:    usageArgs(0, 0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := helpdesk.ValidateEmail(to); err != nil {
				return err
			}
			svc, err := f.Service()
			if err != nil {
				return err
			}
			if err := svc.TestMail(to); err != nil {
				return err
			}
			f.notef("test mail accepted by the server for %s", to)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "recipient address")
	return cmd
}
