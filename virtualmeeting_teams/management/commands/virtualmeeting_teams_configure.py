"""Configure Microsoft Teams from the command line (automated deployments, `make run`).

    python manage.py virtualmeeting_teams_configure --client-id ID --client-secret-file PATH [--tenant T]
        [--enable | --disable]
    python manage.py virtualmeeting_teams_configure --simulator http://127.0.0.1:9200 [--tenant T]

Without the flags, TEAMS_CLIENT_ID, TEAMS_CLIENT_SECRET and TEAMS_TENANT are read from the environment. The
secret comes from a file or the environment, never from the command line (it is visible to other users of the
machine), and is never printed.

`--simulator URL` sets up the Microsoft simulator's seeded app (`make run` does this when no real app is
configured), enables the provider and marks the configuration as the simulator's, so that configuring a real
app later replaces it. The site reaches the simulator through TEAMS_AUTH_BASE_URL and GRAPH_API_BASE_URL.
"""

import os
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from virtualmeeting.models import ProviderConfig
from virtualmeeting_teams.options import DEFAULT_TENANT, tenant_of
from virtualmeeting_teams.provider import TeamsProvider

# The simulator's seeded app registration; not secrets.
SIMULATOR_CLIENT_ID = "mssim-client-id"
SIMULATOR_CLIENT_SECRET = "mssim-client-secret"
CLIENT_ID = re.compile(r"\A[A-Za-z0-9-]+\Z")
TENANT = re.compile(r"\A[A-Za-z0-9.-]+\Z")


def _read_secret(path: str) -> str:
    try:
        value = Path(path).read_text().strip()
    except OSError as exc:
        raise CommandError(f"Cannot read the client secret file {path!r}: {exc.strerror or exc}.") from None
    if not value:
        raise CommandError(f"The client secret file {path!r} is empty.")
    return value


class Command(BaseCommand):
    help = "Set the Microsoft Teams provider's tenant, Application (client) ID, client secret and enabled flag."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", help="The Application (client) ID (default: $TEAMS_CLIENT_ID).")
        parser.add_argument(
            "--client-secret-file", help="A file holding the client secret (default: $TEAMS_CLIENT_SECRET)."
        )
        parser.add_argument(
            "--tenant", help='The tenant: "common", "organizations", a tenant id or domain (default: $TEAMS_TENANT).'
        )
        parser.add_argument(
            "--simulator", metavar="URL", help="Use the Microsoft simulator at URL with its seeded app, and enable."
        )
        switch = parser.add_mutually_exclusive_group()
        switch.add_argument("--enable", action="store_true", help="Offer Microsoft Teams for rooms.")
        switch.add_argument("--disable", action="store_true", help="Stop offering Microsoft Teams for new rooms.")

    def handle(self, *args, **options):
        tenant = options["tenant"] if options["tenant"] is not None else os.environ.get("TEAMS_TENANT")
        if tenant is not None and not TENANT.match(tenant.strip()):
            raise CommandError('The tenant must be "common", "organizations", a tenant id or a domain, with no spaces.')
        if options["simulator"]:
            return self._simulator(options["simulator"], tenant)
        client_id = options["client_id"] if options["client_id"] is not None else os.environ.get("TEAMS_CLIENT_ID")
        if client_id is not None and not CLIENT_ID.match(client_id.strip()):
            raise CommandError("The Application (client) ID must be letters, digits and dashes (a GUID).")
        if options["client_secret_file"]:
            client_secret = _read_secret(options["client_secret_file"])
        else:
            client_secret = os.environ.get("TEAMS_CLIENT_SECRET") or None
        enabled = True if options["enable"] else False if options["disable"] else None

        with transaction.atomic():
            config, _ = ProviderConfig.objects.select_for_update().get_or_create(provider="teams")
            if enabled and not ((client_id or config.client_id) and (client_secret or config.client_secret)):
                raise CommandError(
                    "Cannot enable Microsoft Teams without an Application (client) ID and a client secret."
                )
            options_now = dict(config.options or {})
            if client_id is not None and client_id.strip() != config.client_id:
                config.client_id = client_id.strip()
                options_now.pop("simulator", None)  # a real app replaces the simulator's
            if client_secret:
                config.client_secret = client_secret
            if tenant is not None:
                options_now["tenant"] = tenant.strip() or DEFAULT_TENANT
            if enabled is not None:
                config.enabled = enabled
            config.options = options_now
            config.save()
        self._report(config, updated_secret=bool(client_secret))

    def _simulator(self, url: str, tenant: str | None) -> None:
        if not url.startswith(("http://", "https://")):
            raise CommandError("--simulator takes the simulator's URL, e.g. http://127.0.0.1:9200.")
        with transaction.atomic():
            config, _ = ProviderConfig.objects.select_for_update().get_or_create(provider="teams")
            config.client_id = SIMULATOR_CLIENT_ID
            config.client_secret = SIMULATOR_CLIENT_SECRET
            config.enabled = True
            config.options = {
                **(config.options or {}),
                "tenant": (tenant or "").strip() or tenant_of(config),
                "simulator": url,
            }
            config.save()
        self.stdout.write(
            f"Microsoft Teams uses the Microsoft simulator at {url} (app {SIMULATOR_CLIENT_ID}, tenant "
            f"{tenant_of(config)}); enabled."
        )

    def _report(self, config, *, updated_secret: bool) -> None:
        self.stdout.write(
            "Microsoft Teams settings saved: "
            f"tenant {tenant_of(config)}; "
            f"Application (client) ID {config.client_id or '(not set)'}; "
            f"client secret {'set' if config.client_secret else 'not set'}{' (updated)' if updated_secret else ''}; "
            f"Redirect URL {TeamsProvider(config).redirect_uri()}; "
            f"{'enabled' if config.enabled else 'disabled'}."
        )
