"""`python -m simulators.zoom` (serve) and `python -m simulators.zoom ctl ...` (drive a running simulator)."""

from __future__ import annotations

import argparse
import json
import sys

from simulators.zoom.client import AdminAPIError, AdminClient
from simulators.zoom.seed import DEFAULT_REDIRECT_URI, DEFAULT_WEBHOOK_URL

SERVE_EPILOG = """\
seeded Zoom users (password zoom-password):
  pro@zoomsim.test          Pro (type 2), account A (the apps' account)
  basic@zoomsim.test        Basic (type 1), account A
  other@otheraccount.test   Pro (type 2), account B: private apps refuse it

seeded apps (account A):
  zoomsim-client-id / zoomsim-client-secret                       granular scopes, private
  zoomsim-classic-client-id / zoomsim-classic-client-secret       classic scopes, private
  zoomsim-limited-client-id / zoomsim-limited-client-secret       too few scopes (read only)
  zoomsim-published-client-id / zoomsim-published-client-secret   granular scopes, published
  zoomsim-meetings-only-client-id / ...-secret                    granular, no attendance/recording scopes
seeded Server-to-Server OAuth apps (account A, Account ID acctA-zoomsim00000001):
  zoomsim-s2s-client-id / zoomsim-s2s-client-secret               granular admin scopes
  zoomsim-s2s-classic-client-id / zoomsim-s2s-classic-client-secret   classic admin scopes
  zoomsim-s2s-limited-client-id / ...-secret                      too few scopes (no user:read)
  webhook secret tokens: zoomsim-webhook-secret, zoomsim-classic-webhook-secret, ...

drive it: python -m simulators.zoom ctl --url http://127.0.0.1:9100 --help
"""


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.zoom",
        description="A local Zoom simulator (OAuth host and REST API /v2).",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: the admin API has no auth)"
    )
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--db", default="var/zoomsim.sqlite3", help="SQLite file for the simulator's state")
    parser.add_argument(
        "--seed",
        action="store_true",
        help="start from a fresh seeded state (wipe meetings, tokens, clock offset, limits). "
        "Without it the state is kept; the seeded users and apps are always (re)inserted",
    )
    parser.add_argument("--redirect-uri", default=DEFAULT_REDIRECT_URI, help="the seeded apps' OAuth redirect URL")
    parser.add_argument("--webhook-url", default=DEFAULT_WEBHOOK_URL, help="the seeded apps' webhook endpoint")
    parser.add_argument("--public-url", default="", help="base of join/start URLs (default http://host:port)")
    parser.add_argument("--verbose", action="store_true", help="log each request")
    args = parser.parse_args(argv)

    import os

    from simulators.zoom.server import make_server

    if os.path.dirname(args.db):
        os.makedirs(os.path.dirname(args.db), exist_ok=True)
    httpd = make_server(
        host=args.host,
        port=args.port,
        db_path=args.db,
        seed_data=True,
        redirect_uri=args.redirect_uri,
        webhook_url=args.webhook_url,
        public_url=args.public_url,
        verbose=args.verbose,
    )
    if args.seed:
        httpd.sim.reset()
    print(
        f"zoomsim listening on {httpd.sim.public_url} (OAuth base {httpd.sim.public_url}, "
        f"API base {httpd.sim.public_url}/v2)",
        flush=True,
    )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.sim.stopping.set()
        httpd.server_close()
    return 0


def _ctl_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.zoom ctl", description="Drive a running Zoom simulator."
    )
    parser.add_argument("--url", default="http://127.0.0.1:9100")
    sub = parser.add_subparsers(dest="command", required=True)

    clock = sub.add_parser("clock", help="show or move the simulator clock")
    clock.add_argument("--set", metavar="ISO", help="set the clock to this datetime, e.g. 2026-11-29T00:00:00Z")
    clock.add_argument("--offset", type=float, metavar="SECONDS", help="set the offset from real time")
    clock.add_argument("--advance", type=float, metavar="SECONDS", help="move the clock forward (or back)")
    clock.add_argument("--freeze", action="store_true", help="stop the clock (it moves only when told)")
    clock.add_argument("--unfreeze", action="store_true", help="let the clock run again from where it stands")

    sub.add_parser("state", help="clock, limits and faults")
    sub.add_parser("reset", help="back to the seeded state (no meetings or tokens; clock, limits, faults reset)")
    sub.add_parser("users", help="list users")
    add_users = sub.add_parser("add-users", help="seed an account with users (for the Server-to-Server app's hosts)")
    add_users.add_argument("--account", default="acctA-zoomsim00000001", help="the account (default: account A)")
    add_users.add_argument("--email", action="append", default=[], help="a user to add (repeat); else --count")
    add_users.add_argument("--count", type=int, help="this many made-up users, host0004@zoomsim.test and on")
    add_users.add_argument("--type", type=int, choices=[1, 2, 3, 99], default=2, help="licence: 1 Basic, 2 Licensed")
    add_users.add_argument("--status", choices=["active", "inactive", "pending"], default="active")
    sub.add_parser("apps", help="list apps")
    meetings = sub.add_parser("meetings", help="list all meetings (deleted ones flagged)")
    meetings.add_argument("--host", help="only this host's (email)")

    quota = sub.add_parser("quota", help="show or set a user's daily create/update count")
    quota.add_argument("email")
    quota.add_argument("--exhaust", action="store_true")
    quota.add_argument("--used", type=int)

    limits = sub.add_parser("limits", help="show or set limits")
    limits.add_argument("--daily-limit", type=int)
    limits.add_argument(
        "--daily-variant",
        choices=["full", "bare"],
        help="bare: the daily 429 has no Retry-After and no X-RateLimit-Type",
    )
    limits.add_argument("--per-second", metavar="JSON", help='e.g. {"pro": {"Medium": 5}}')
    limits.add_argument("--count-deletes", choices=["yes", "no"], help="count deletes in the daily quota (older docs)")
    limits.add_argument(
        "--api-change-webhooks",
        choices=["yes", "no"],
        help="also send meeting.created/updated/deleted for changes made through the API",
    )
    limits.add_argument("--max-registrants", type=int, help="registrants a meeting may hold (Zoom: 4999)")

    user = sub.add_parser("user", help="edit a user (e.g. --can-host no gives 3161 on meeting calls)")
    user.add_argument("email")
    user.add_argument("--can-host", choices=["yes", "no"])
    user.add_argument("--type", type=int, choices=[1, 2, 3, 99])
    user.add_argument("--timezone")

    plan = sub.add_parser("plan", help="set an account's plan (free, pro, business): its per-second limits")
    plan.add_argument("account_id")
    plan.add_argument("plan")

    faults = sub.add_parser("faults", help="show, set or clear faults")
    faults.add_argument("action", choices=["show", "set", "clear", "next"])
    faults.add_argument("--route", help="route name or '*' (see `faults show`)")
    for kind in ("error-500", "error-502", "timeout", "drop", "rate-429"):
        faults.add_argument(f"--{kind}", type=float, metavar="RATE")
    faults.add_argument("--delay-ms", type=int)
    faults.add_argument("--seed", type=int)
    faults.add_argument("--timeout-seconds", type=float)
    faults.add_argument("--drop-mode", choices=["close", "504"])
    faults.add_argument("--fault", help="with `next`: error_500, error_502, timeout, drop or rate_429")
    faults.add_argument("--count", type=int, default=1)

    revoke = sub.add_parser("revoke", help="revoke a user's tokens (all apps, or --client-id)")
    revoke.add_argument("email")
    revoke.add_argument("--client-id")

    edit = sub.add_parser("edit-meeting", help="edit a meeting in Zoom and send meeting.updated")
    edit.add_argument("meeting_id")
    edit.add_argument("--topic")
    edit.add_argument("--start-time", help="yyyy-MM-ddTHH:mm:ssZ, or local with --timezone")
    edit.add_argument("--timezone")
    edit.add_argument("--duration", type=int)
    edit.add_argument("--agenda")
    edit.add_argument("--no-webhook", action="store_true")

    delete = sub.add_parser("delete-meeting", help="delete a meeting in Zoom and send meeting.deleted")
    delete.add_argument("meeting_id")
    delete.add_argument("--no-webhook", action="store_true")

    start = sub.add_parser("start-meeting", help="start an occurrence of a meeting (meeting.started; the host joins)")
    start.add_argument("meeting_id")
    start.add_argument("--at", help="ISO time (default: the simulator clock)")
    start.add_argument("--uuid", help="the occurrence's uuid (default: Zoom's)")
    start.add_argument("--no-host", action="store_true", help="the host does not join as a participant")
    end = sub.add_parser("end-meeting", help="end a meeting in progress (a meeting id or an occurrence uuid)")
    end.add_argument("meeting")
    end.add_argument("--at", help="ISO time, or seconds after the start")
    join = sub.add_parser("join", help="someone joins an occurrence (meeting.participant_joined)")
    join.add_argument("uuid")
    join.add_argument("--registrant-id")
    join.add_argument("--name")
    join.add_argument("--email")
    join.add_argument("--in-account", choices=["yes", "no"], help="signed in to the host's account")
    join.add_argument("--device", help="rejoin from the device with this participant_uuid")
    join.add_argument("--at", help="ISO time, or seconds after the start")
    leave = sub.add_parser("leave", help="a participant's device leaves (meeting.participant_left)")
    leave.add_argument("uuid")
    leave.add_argument("participant_uuid")
    leave.add_argument("--at", help="ISO time, or seconds after the start")
    recording = sub.add_parser("add-recording", help="an ended occurrence's cloud recording (recording.completed)")
    recording.add_argument("uuid")
    recording.add_argument("--passcode", help="default: a random one; '' for none")
    for action, event in (("trash", "trashed"), ("delete", "deleted"), ("recover", "recovered")):
        sub.add_parser(f"{action}-recording", help=f"{action} a recording (recording.{event})").add_argument("uuid")
    recordings = sub.add_parser("recordings", help="recordings and their status")
    recordings.add_argument("--meeting", help="only this meeting's")
    occurrences = sub.add_parser("occurrences", help="occurrences with their join sessions")
    occurrences.add_argument("--meeting", help="only this meeting's")

    validate = sub.add_parser("validate-webhook", help="send endpoint.url_validation and check the answer")
    validate.add_argument("client_id")
    deauth = sub.add_parser("deauthorize", help="the user removes the app: revoke and send app_deauthorized")
    deauth.add_argument("client_id")
    deauth.add_argument("email")
    deauth.add_argument("--force", action="store_true", help="send the event even to a private app")

    registrants = sub.add_parser("registrants", help="a meeting's registrants and the emails Zoom would have sent")
    registrants.add_argument("meeting_id")
    emails = sub.add_parser("emails", help="registrant emails Zoom would have sent")
    emails.add_argument("--meeting", help="only this meeting's")

    requests = sub.add_parser("requests", help="the request log")
    requests.add_argument("--since", type=int, default=0)
    requests.add_argument("--clear", action="store_true")
    webhooks = sub.add_parser("webhooks", help="webhook deliveries; --off/--on switch every webhook")
    webhooks.add_argument("--off", action="store_true")
    webhooks.add_argument("--on", action="store_true")
    limits.add_argument(
        "--participants-delay",
        type=float,
        metavar="SECONDS",
        help="how long after a meeting ends its past participants appear",
    )
    limits.add_argument("--past-participants-variant", choices=["full", "spec"])
    return parser


def _ctl_run(client: AdminClient, args) -> dict | list:
    command = args.command
    if command == "clock":
        if args.freeze or args.unfreeze:
            client.freeze_clock(args.freeze)
        if args.set:
            return client.set_clock(now=args.set)
        if args.offset is not None:
            return client.set_clock(offset_seconds=args.offset)
        if args.advance is not None:
            return client.advance_clock(args.advance)
        return client.clock()
    simple = {
        "state": client.state,
        "reset": client.reset,
        "users": client.users,
        "apps": client.apps,
    }
    if command in simple:
        return simple[command]()
    if command == "add-users":
        if args.email:
            people = [{"email": email, "type": args.type, "status": args.status} for email in args.email]
            return client.add_users(args.account, users=people)
        return client.add_users(args.account, count=args.count or 1, type=args.type, status=args.status)
    if command == "meetings":
        return client.meetings(args.host)
    if command == "quota":
        if args.exhaust:
            return client.exhaust_quota(args.email)
        if args.used is not None:
            return client.set_quota_used(args.email, args.used)
        return client.quota(args.email)
    if command == "limits":
        config = {}
        if args.daily_limit is not None:
            config["daily_limit"] = args.daily_limit
        if args.daily_variant:
            config["daily_variant"] = args.daily_variant
        if args.per_second:
            config["per_second"] = json.loads(args.per_second)
        if args.count_deletes:
            config["daily_counts_deletes"] = args.count_deletes == "yes"
        if args.api_change_webhooks:
            config["api_change_webhooks"] = args.api_change_webhooks == "yes"
        if args.max_registrants is not None:
            config["max_registrants"] = args.max_registrants
        if args.participants_delay is not None:
            config["participants_delay_seconds"] = args.participants_delay
        if args.past_participants_variant:
            config["past_participants_variant"] = args.past_participants_variant
        return client.limits(**config)
    if command == "user":
        fields = {
            "type": args.type,
            "timezone": args.timezone,
            "can_host": None if args.can_host is None else args.can_host == "yes",
        }
        return client.edit_user(args.email, **{key: value for key, value in fields.items() if value is not None})
    if command == "plan":
        return client.set_account_plan(args.account_id, args.plan)
    if command == "faults":
        return _ctl_faults(client, args)
    if command == "revoke":
        return client.revoke_tokens(args.email, args.client_id)
    if command == "edit-meeting":
        fields = {
            key: getattr(args, key)
            for key in ("topic", "start_time", "timezone", "duration", "agenda")
            if getattr(args, key) is not None
        }
        return client.edit_meeting(args.meeting_id, notify=not args.no_webhook, **fields)
    if command == "delete-meeting":
        return client.delete_meeting(args.meeting_id, notify=not args.no_webhook)
    if command in ("start-meeting", "end-meeting", "join", "leave", "occurrences"):
        return _ctl_occurrences(client, args)
    if command == "add-recording":
        return client.add_recording(args.uuid, passcode=args.passcode)
    if command in ("trash-recording", "delete-recording", "recover-recording"):
        return getattr(client, command.replace("-", "_"))(args.uuid)
    if command == "recordings":
        return client.recordings(args.meeting)
    if command == "webhooks":
        if args.off or args.on:
            client.set_webhooks(args.on)
        return client.call("GET", "webhooks")
    if command == "validate-webhook":
        return client.validate_webhook(args.client_id)
    if command == "deauthorize":
        return client.deauthorize(args.client_id, args.email, args.force)
    if command == "registrants":
        return client.registrants(args.meeting_id)
    if command == "emails":
        return client.emails(args.meeting)
    if command == "requests":
        return client.clear_requests() if args.clear else client.requests(args.since)
    raise AdminAPIError(f"unknown command {command}")


def _ctl_occurrences(client: AdminClient, args) -> dict | list:
    def when(value):
        return float(value) if value and value.replace(".", "", 1).isdigit() else value

    if args.command == "start-meeting":
        return {"uuid": client.start_meeting(args.meeting_id, at=args.at, uuid=args.uuid, host_joins=not args.no_host)}
    if args.command == "end-meeting":
        return client.end_meeting(args.meeting, at=when(args.at))
    if args.command == "join":
        in_account = None if args.in_account is None else args.in_account == "yes"
        device = client.participant_join(
            args.uuid,
            registrant_id=args.registrant_id,
            name=args.name,
            email=args.email,
            in_account=in_account,
            participant_uuid=args.device,
            at=when(args.at),
        )
        return {"participant_uuid": device}
    if args.command == "leave":
        return client.participant_leave(args.uuid, args.participant_uuid, at=when(args.at))
    return client.occurrences(args.meeting)


def _ctl_faults(client: AdminClient, args) -> dict:
    if args.action == "show":
        return client.faults()
    if args.action == "clear":
        return client.clear_faults()
    if args.action == "next":
        if not args.route or not args.fault:
            raise AdminAPIError("faults next needs --route and --fault")
        return client.next_fault(args.route, args.fault, args.count)
    config = {}
    for kind in (
        "error_500",
        "error_502",
        "timeout",
        "drop",
        "rate_429",
        "delay_ms",
        "seed",
        "timeout_seconds",
        "drop_mode",
        "route",
    ):
        value = getattr(args, kind)
        if value is not None:
            config[kind] = value
    return client.set_faults(**config)


def ctl(argv: list[str]) -> int:
    args = _ctl_parser().parse_args(argv)
    try:
        result = _ctl_run(AdminClient(args.url), args)
    except (AdminAPIError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "ctl":
        return ctl(argv[1:])
    return serve(argv)
