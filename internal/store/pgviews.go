package store

// Reporting views: the records are stored as JSON in the deskctl_kv_*
// tables; these views give them columns, so reporting tools query tickets,
// their log, the directory, grants, approvals and the audit log with plain
// SQL. They are recreated with every migration and never written through.
// docs/postgres.md documents each column.
var pgViews = []string{
	`CREATE OR REPLACE VIEW deskctl_tickets AS
	SELECT (j->>'number')::bigint AS number, j->>'subject' AS subject, j->>'description' AS description,
		j->>'requester' AS requester, NULLIF(j->>'resource', '') AS resource, j->>'state' AS state,
		j->>'priority' AS priority, NULLIF(j->>'category', '') AS category, NULLIF(j->>'due', '') AS due,
		NULLIF(j->>'assignee', '') AS assignee, (j->>'created')::timestamptz AS created,
		(j->>'updated')::timestamptz AS updated
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_tickets) r`,

	`CREATE OR REPLACE VIEW deskctl_ticket_log AS
	SELECT (r.j->>'number')::bigint AS ticket, (e->>'seq')::int AS seq, (e->>'time')::timestamptz AS time,
		e->>'actor' AS actor, e->>'action' AS action, e->>'text' AS text, NULLIF(e->>'from', '') AS from_state,
		NULLIF(e->>'to', '') AS to_state, e->>'visibility' AS visibility, COALESCE((e->>'system')::boolean, false) AS system
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_tickets) r,
		jsonb_array_elements(COALESCE(r.j->'log', '[]'::jsonb)) e`,

	`CREATE OR REPLACE VIEW deskctl_users AS
	SELECT j->>'login' AS login, j->>'name' AS name, j->>'email' AS email, (j->>'active')::boolean AS active,
		NULLIF(j->>'os_login', '') AS os_login, (j->>'created')::timestamptz AS created
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_users) r`,

	`CREATE OR REPLACE VIEW deskctl_groups AS
	SELECT j->>'name' AS name, j->>'description' AS description, (j->>'created')::timestamptz AS created
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_groups) r`,

	`CREATE OR REPLACE VIEW deskctl_group_members AS
	SELECT r.j->>'name' AS group_name, m.value->>'Kind' AS member_kind, m.value->>'Name' AS member_name,
		m.ordinality AS position
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_groups) r,
		jsonb_array_elements(COALESCE(r.j->'members', '[]'::jsonb)) WITH ORDINALITY m`,

	`CREATE OR REPLACE VIEW deskctl_resources AS
	SELECT j->>'name' AS name, j->>'description' AS description, NULLIF(j->>'parent', '') AS parent,
		(j->>'created')::timestamptz AS created
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_resources) r`,

	`CREATE OR REPLACE VIEW deskctl_resource_members AS
	SELECT r.j->>'name' AS resource, m->>'login' AS login, m->>'access' AS access
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_resources) r,
		jsonb_array_elements(COALESCE(r.j->'members', '[]'::jsonb)) m`,

	// A grant is only a key: "kind:name" NUL right.
	`CREATE OR REPLACE VIEW deskctl_grants AS
	SELECT split_part(s, ':', 1) AS subject_kind, substr(s, length(split_part(s, ':', 1)) + 2) AS subject_name,
		right_name
	FROM (SELECT convert_from(substring(k FROM 1 FOR position('\x00'::bytea IN k) - 1), 'UTF8') AS s,
		convert_from(substring(k FROM position('\x00'::bytea IN k) + 1), 'UTF8') AS right_name
		FROM deskctl_kv_grants) g`,

	`CREATE OR REPLACE VIEW deskctl_approvals AS
	SELECT (j->>'ticket')::bigint AS ticket, j->>'state' AS state, j->>'approver' AS approver,
		j->>'requested_by' AS requested_by, (j->>'requested_at')::timestamptz AS requested_at,
		NULLIF(j->>'decided_by', '') AS decided_by, (j->>'decided_at')::timestamptz AS decided_at,
		NULLIF(j->>'comment', '') AS comment, (j->>'expires')::timestamptz AS expires,
		(j->>'round')::int AS round, (j->>'reminders')::int AS reminders,
		NULLIF(j->>'on_behalf_of', '') AS on_behalf_of
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_approvals) r`,

	`CREATE OR REPLACE VIEW deskctl_approval_delegations AS
	SELECT j->>'user' AS login, j->>'delegate' AS delegate, (j->>'from')::timestamptz AS valid_from,
		(j->>'until')::timestamptz AS valid_until, j->>'set_by' AS set_by, (j->>'set_at')::timestamptz AS set_at
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_approval_delegations) r`,

	// A digest record is only the approver's login and when their last
	// digest went out, as RFC 3339 text.
	`CREATE OR REPLACE VIEW deskctl_approval_digests AS
	SELECT convert_from(k, 'UTF8') AS login, convert_from(v, 'UTF8')::timestamptz AS last_sent
	FROM deskctl_kv_approval_digests`,

	`CREATE OR REPLACE VIEW deskctl_audit_log AS
	SELECT (j->>'seq')::bigint AS seq, (j->>'time')::timestamptz AS time, j->>'actor' AS actor,
		j->>'command' AS command, j->>'subject' AS subject, NULLIF(j->>'via', '') AS via,
		NULLIF(j->>'os_user', '') AS os_user, NULLIF(j->>'real_actor', '') AS real_actor,
		j->'before' AS before, j->'after' AS after, j->>'prev' AS prev, j->>'hash' AS hash
	FROM (SELECT convert_from(v, 'UTF8')::jsonb AS j FROM deskctl_kv_audit) r`,
}

func createViews(tx *pgTx) error {
	if err := tx.flush(); err != nil {
		return err
	}
	for _, v := range pgViews {
		if _, err := tx.tx.Exec(tx.ctx, v); err != nil {
			return err
		}
	}
	return nil
}
