"""`python -m simulators.microsoft` (serve) and `python -m simulators.microsoft ctl ...` (drive a running one)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from simulators.microsoft.client import AdminAPIError, AdminClient
from simulators.microsoft.seed import CLIENT_ID, CLIENT_SECRET, DEFAULT_REDIRECT_URI, PASSWORD, SIGN_IN_ACCOUNTS

SERVE_EPILOG = f"""
seeded app (multi-tenant): {CLIENT_ID} / {CLIENT_SECRET}
sign-in accounts (password {PASSWORD}):
""" + "\n".join(f"  {email:28} {what}" for email, what in SIGN_IN_ACCOUNTS)


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.microsoft",
        description="A local Microsoft identity platform (v2.0) and Microsoft Graph (online meetings) simulator.",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: the admin API has no auth)"
    )
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--db", default="var/mssim.sqlite3", help="SQLite file for the simulator's state")
    parser.add_argument(
        "--seed", action="store_true", help="start from a fresh seeded state (no meetings, tokens, consents)"
    )
    parser.add_argument(
        "--redirect-uri",
        action="append",
        help=f"a redirect URI of the seeded app (repeatable; default {DEFAULT_REDIRECT_URI})",
    )
    parser.add_argument("--public-url", default="", help="base of the join URLs (default http://host:port)")
    parser.add_argument("--verbose", action="store_true", help="log each request")
    args = parser.parse_args(argv)

    from simulators.microsoft.server import make_server

    if os.path.dirname(args.db):
        os.makedirs(os.path.dirname(args.db), exist_ok=True)
    httpd = make_server(
        host=args.host,
        port=args.port,
        db_path=args.db,
        redirect_uris=tuple(args.redirect_uri or (DEFAULT_REDIRECT_URI,)),
        public_url=args.public_url,
        verbose=args.verbose,
    )
    if args.seed:
        httpd.sim.reset()
    url = httpd.sim.public_url
    print(f"mssim listening on {url} (identity platform {url}/{{tenant}}/oauth2/v2.0, Graph {url}/v1.0)", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.sim.stopping.set()
        httpd.server_close()
    return 0


def ctl(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.microsoft ctl", description="Drive a running simulator."
    )
    parser.add_argument("--url", default="http://127.0.0.1:9200")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("state", help="users, app, consents, meetings, settings")
    commands.add_parser("reset", help="back to the seeded state")
    licence = commands.add_parser("licence", help="give or take a person's Teams licence")
    licence.add_argument("email")
    licence.add_argument("--off", action="store_true")
    withhold = commands.add_parser("withhold", help='permissions a person\'s grant never holds ("" for none)')
    withhold.add_argument("email")
    withhold.add_argument("scopes")
    revoke = commands.add_parser("revoke-consent", help="withdraw a person's consent (next refresh: invalid_grant)")
    revoke.add_argument("email")
    redirect = commands.add_parser("redirect-uris", help="set the seeded app's redirect URIs")
    redirect.add_argument("uris", nargs="+")
    throttle = commands.add_parser("throttle", help="at most N Graph calls per person per window (0: none)")
    throttle.add_argument("requests", type=int)
    throttle.add_argument("--window", type=float, default=1)
    fault = commands.add_parser("fault", help="queue faults on a route")
    fault.add_argument("route")
    fault.add_argument("kind")
    fault.add_argument("--count", type=int, default=1)
    args = parser.parse_args(argv)
    client = AdminClient(args.url)
    actions = {
        "state": lambda: client.state(),
        "reset": lambda: client.reset(),
        "licence": lambda: client.edit_user(args.email, licensed=not args.off),
        "withhold": lambda: client.edit_user(args.email, withheld_scopes=args.scopes),
        "revoke-consent": lambda: client.revoke_consent(args.email),
        "redirect-uris": lambda: client.set_redirect_uris(*args.uris),
        "throttle": lambda: client.set_throttle(requests=args.requests, window_seconds=args.window),
        "fault": lambda: client.queue_fault(args.route, args.kind, args.count),
    }
    try:
        print(json.dumps(actions[args.command](), indent=2))
    except (AdminAPIError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["ctl"]:
        return ctl(argv[1:])
    return serve(argv)
