"""Configure Zoom Meeting from the command line (automated deployments).

    python manage.py virtualmeeting_zoom_configure --client-id ID --client-secret-file PATH \
        [--webhook-secret-file PATH] [--redirect-url {modern,legacy}] [--enable | --disable]
    python manage.py virtualmeeting_zoom_configure --account-id ACCOUNT --account-client-id ID \
        --account-client-secret-file PATH [--hosting {user,account}]
    python manage.py virtualmeeting_zoom_configure --simulator http://127.0.0.1:9100

Without the flags, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET (and ZOOM_WEBHOOK_SECRET) are read from the
environment, and for the Server-to-Server app (one Zoom account for the whole site) ZOOM_ACCOUNT_ID,
ZOOM_ACCOUNT_CLIENT_ID and ZOOM_ACCOUNT_CLIENT_SECRET. `--hosting` says which of the two new rooms use:
`user` (each trainer connects their own Zoom account, the General App) or `account` (the
Server-to-Server app, which must then be set up). Secrets come from files or the environment,
never from the command line (it is visible to other users of the machine),
and are never printed. `--redirect-url legacy` is for an app registered with the
previous LMS's `.../auth_callback.php/zoom`: Connect then sends that Redirect URL.

`--simulator URL` sets up the local Zoom simulator's seeded apps, the General App and the
Server-to-Server app (`make run` does this when no real Zoom app is configured) and marks the configuration as
the simulator's, so that configuring a real app later replaces it. The site
reaches the simulator through ZOOM_OAUTH_BASE_URL and ZOOM_API_BASE_URL.
"""

import os
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from virtualmeeting.models import ProviderConfig
from virtualmeeting_zoom.forms import zoom_config_update
from virtualmeeting_zoom.options import REDIRECT_CHOICES
from virtualmeeting_zoom.provider import ZoomProvider

# The simulator's seeded app (granular scopes, private to the seeded account); not secrets.
SIMULATOR_CLIENT_ID = "zoomsim-client-id"
SIMULATOR_CLIENT_SECRET = "zoomsim-client-secret"
SIMULATOR_WEBHOOK_SECRET = "zoomsim-webhook-secret"
SIMULATOR_ACCOUNT_ID = "acctA-zoomsim00000001"
SIMULATOR_ACCOUNT_CLIENT_ID = "zoomsim-s2s-client-id"
SIMULATOR_ACCOUNT_CLIENT_SECRET = "zoomsim-s2s-client-secret"
CREDENTIAL = re.compile(r"\A[A-Za-z0-9_.-]+\Z")


def _read_secret(path: str, what: str) -> str:
    try:
        value = Path(path).read_text().strip()
    except OSError as exc:
        raise CommandError(f"Cannot read the {what} file {path!r}: {exc.strerror or exc}.") from None
    if not value:
        raise CommandError(f"The {what} file {path!r} is empty.")
    return value


class Command(BaseCommand):
    help = "Set the Zoom Meeting provider's Client ID, Client secret, webhook secret token and enabled flag."

    def add_arguments(self, parser):
        parser.add_argument("--client-id", help="The app's Client ID (default: $ZOOM_CLIENT_ID).")
        parser.add_argument(
            "--client-secret-file", help="A file holding the Client secret (default: $ZOOM_CLIENT_SECRET)."
        )
        parser.add_argument(
            "--webhook-secret-file", help="A file holding the webhook secret token (default: $ZOOM_WEBHOOK_SECRET)."
        )
        parser.add_argument(
            "--redirect-url",
            choices=REDIRECT_CHOICES,
            help="The Redirect URL for OAuth the Zoom app has registered: modern (.../auth_callback/zoom, "
            "the default) or legacy (.../auth_callback.php/zoom, an app registered for the previous LMS).",
        )
        parser.add_argument("--account-id", help="The Server-to-Server app's Account ID (default: $ZOOM_ACCOUNT_ID).")
        parser.add_argument(
            "--account-client-id", help="The Server-to-Server app's Client ID (default: $ZOOM_ACCOUNT_CLIENT_ID)."
        )
        parser.add_argument(
            "--account-client-secret-file",
            help="A file holding the Server-to-Server app's Client secret (default: $ZOOM_ACCOUNT_CLIENT_SECRET).",
        )
        parser.add_argument(
            "--hosting",
            choices=ProviderConfig.Hosting.values,
            help="What new rooms use: user (each trainer connects their own Zoom account) or account (one Zoom "
            "account for the whole site, the Server-to-Server app).",
        )
        parser.add_argument(
            "--simulator", metavar="URL", help="Use the local Zoom simulator at URL with its seeded app, and enable."
        )
        switch = parser.add_mutually_exclusive_group()
        switch.add_argument("--enable", action="store_true", help="Offer Zoom Meeting for rooms.")
        switch.add_argument("--disable", action="store_true", help="Stop offering Zoom Meeting for new rooms.")

    def handle(self, *args, **options):
        if options["simulator"]:
            return self._simulator(options["simulator"])
        client_id = options["client_id"] if options["client_id"] is not None else os.environ.get("ZOOM_CLIENT_ID")
        if options["client_secret_file"]:
            client_secret = _read_secret(options["client_secret_file"], "client secret")
        else:
            client_secret = os.environ.get("ZOOM_CLIENT_SECRET") or None
        if options["webhook_secret_file"]:
            webhook_secret = _read_secret(options["webhook_secret_file"], "webhook secret")
        else:
            webhook_secret = os.environ.get("ZOOM_WEBHOOK_SECRET") or None
        enabled = True if options["enable"] else False if options["disable"] else None
        if client_id is not None and not client_id.strip():
            raise CommandError("The Client ID is empty.")
        account = self._account_options(options)

        with transaction.atomic():
            config, _ = ProviderConfig.objects.select_for_update().get_or_create(provider="zoom")
            # New rooms in the site's account need no General App (_check_account asks for the account's app).
            in_site_account = (options["hosting"] or config.hosting) == ProviderConfig.Hosting.ACCOUNT
            general_app = (client_id or config.client_id) and (client_secret or config.client_secret)
            if enabled and not (general_app or in_site_account):
                raise CommandError("Cannot enable Zoom Meeting without a Client ID and a Client secret.")
            self._check_account(config, account, client_id or config.client_id, options["hosting"])
            zoom_config_update(
                config=config,
                client_id=client_id,
                client_secret=client_secret,
                webhook_secret=webhook_secret,
                enabled=enabled,
                options={"redirect_url": options["redirect_url"]} if options["redirect_url"] else None,
                hosting=options["hosting"],
                **account,
            )

        self.stdout.write(
            "Zoom Meeting settings saved: "
            f"Client ID {config.client_id or '(not set)'}; "
            f"Client secret {'set' if config.client_secret else 'not set'}"
            f"{' (updated)' if client_secret else ''}; "
            f"webhook secret token {'set' if config.webhook_secret else 'not set'}"
            f"{' (updated)' if webhook_secret else ''}; "
            f"Redirect URL {ZoomProvider(config).redirect_uri()}; "
            f"{'enabled' if config.enabled else 'disabled'}.\n"
            f"Server-to-Server app: Account ID {config.account_id or '(not set)'}; "
            f"Client ID {config.account_client_id or '(not set)'}; "
            f"Client secret {'set' if config.account_client_secret else 'not set'}"
            f"{' (updated)' if account['account_client_secret'] else ''}.\n"
            f"New rooms use: {_hosting_words(config.hosting)}."
        )

    @staticmethod
    def _account_options(options) -> dict:
        """The Server-to-Server app's credentials from the flags, else the environment (None: leave as is)."""
        values = {
            "account_id": options["account_id"]
            if options["account_id"] is not None
            else os.environ.get("ZOOM_ACCOUNT_ID"),
            "account_client_id": options["account_client_id"]
            if options["account_client_id"] is not None
            else os.environ.get("ZOOM_ACCOUNT_CLIENT_ID"),
        }
        for name, what in (("account_id", "Account ID"), ("account_client_id", "Server-to-Server Client ID")):
            value = values[name]
            if value is not None and not CREDENTIAL.match(value.strip()):
                raise CommandError(
                    f"The {what} must be letters, digits, dots, dashes and underscores, as the app's App "
                    "Credentials page shows it."
                )
        if options["account_client_secret_file"]:
            values["account_client_secret"] = _read_secret(
                options["account_client_secret_file"], "Server-to-Server client secret"
            )
        else:
            values["account_client_secret"] = os.environ.get("ZOOM_ACCOUNT_CLIENT_SECRET") or None
        return values

    @staticmethod
    def _check_account(config, account: dict, client_id: str, hosting: str | None) -> None:
        """All three Server-to-Server credentials or none, all three for hosting "account" (nothing half-saved)."""
        after = {
            "account_id": account["account_id"] if account["account_id"] is not None else config.account_id,
            "account_client_id": account["account_client_id"]
            if account["account_client_id"] is not None
            else config.account_client_id,
            "account_client_secret": account["account_client_secret"] or config.account_client_secret,
        }
        wanted = (hosting or config.hosting) == ProviderConfig.Hosting.ACCOUNT
        given = any((account["account_id"], account["account_client_id"], account["account_client_secret"]))
        missing = [name for name, value in after.items() if not (value or "").strip()]
        if (wanted or given) and missing:
            names = ", ".join(f"--{name.replace('_', '-')}{'-file' if 'secret' in name else ''}" for name in missing)
            raise CommandError(
                f"The Server-to-Server app needs its Account ID, Client ID and Client secret: missing {names}."
            )
        if after["account_client_id"] and after["account_client_id"].strip() == (client_id or "").strip():
            raise CommandError(
                "The Server-to-Server app's Client ID is the General App's: the Server-to-Server app has its own."
            )

    def _simulator(self, url: str) -> None:
        if not url.startswith(("http://", "https://")):
            raise CommandError("--simulator takes the simulator's URL, e.g. http://127.0.0.1:9100.")
        with transaction.atomic():
            config, _ = ProviderConfig.objects.select_for_update().get_or_create(provider="zoom")
            zoom_config_update(
                config=config,
                client_id=SIMULATOR_CLIENT_ID,
                client_secret=SIMULATOR_CLIENT_SECRET,
                webhook_secret=SIMULATOR_WEBHOOK_SECRET,
                enabled=True,
                options={"simulator": url},
                account_id=SIMULATOR_ACCOUNT_ID,
                account_client_id=SIMULATOR_ACCOUNT_CLIENT_ID,
                account_client_secret=SIMULATOR_ACCOUNT_CLIENT_SECRET,
            )
        self.stdout.write(
            f"Zoom Meeting uses the Zoom simulator at {url} (app {SIMULATOR_CLIENT_ID}, Server-to-Server app "
            f"{SIMULATOR_ACCOUNT_CLIENT_ID} of account {SIMULATOR_ACCOUNT_ID}); enabled."
        )


def _hosting_words(hosting: str) -> str:
    if hosting == ProviderConfig.Hosting.ACCOUNT:
        return "one Zoom account for the whole site (the Server-to-Server app)"
    return "each trainer's own Zoom account (the General App)"
