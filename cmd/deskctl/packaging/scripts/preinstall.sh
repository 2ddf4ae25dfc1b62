#!/bin/sh
# Create the service account that alone owns deskctl serve's database,
# before the files (the config file belongs to its group) are unpacked.
set -e
if ! getent group deskctl >/dev/null 2>&1; then
	groupadd --system deskctl
fi
if ! getent passwd deskctl >/dev/null 2>&1; then
	useradd --system --gid deskctl --home-dir /var/lib/deskctl --no-create-home \
		--shell /usr/sbin/nologin --comment "deskctl helpdesk server" deskctl
fi
