"""`make run`: the web server, a Celery worker with beat, and the simulators of the services with no real app
configured: Zoom (simulators.zoom) and Microsoft (simulators.microsoft, for Teams).

Everything runs on the embedded defaults (SQLite, kombu's filesystem
transport). Ctrl-C, SIGTERM or SIGHUP stops every process this started.

Two copies run side by side when each has its own ports and files: the web
port comes from SITE_URL, the simulators' from ZOOMSIM_PORT and MSSIM_PORT, the database,
broker and simulator files from LMS_VAR_DIR (var/ of the checkout by default).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _django():
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
    django.setup()


def _real_app_configured(provider: str, client_id_variable: str) -> bool:
    """True when a real app of the provider is configured (environment or the settings page)."""
    if os.environ.get(client_id_variable):
        return True
    _django()
    from virtualmeeting.models import ProviderConfig

    config = ProviderConfig.objects.filter(provider=provider).first()
    return bool(config and config.client_id and not config.options.get("simulator"))


def _has_command(name: str) -> bool:
    _django()
    from django.core.management import get_commands

    return name in get_commands()


def _wait_for_port(host: str, port: int, seconds: float = 20) -> bool:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.2)
    return False


class _Stop(Exception):
    """SIGTERM or SIGHUP: stop like Ctrl-C."""


def _stop_on_signal(signum, frame):
    raise _Stop(signal.Signals(signum).name)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    site_url = env.setdefault("SITE_URL", "http://localhost:8000")
    web_port = urlsplit(site_url).port or 8000
    var_dir = Path(env.get("LMS_VAR_DIR", BASE_DIR / "var"))
    simulated_zoom = not _real_app_configured("zoom", "ZOOM_CLIENT_ID")
    sim_port = int(env.get("ZOOMSIM_PORT", "9100"))
    simulated_microsoft = not _real_app_configured("teams", "TEAMS_CLIENT_ID")
    mssim_port = int(env.get("MSSIM_PORT", "9200"))

    # Another copy (or anything else) on our ports: say which variable moves us, start nothing.
    busy = [(web_port, "SITE_URL (e.g. http://localhost:8001)")]
    if simulated_zoom:
        busy.append((sim_port, "ZOOMSIM_PORT (e.g. 9101)"))
    if simulated_microsoft:
        busy.append((mssim_port, "MSSIM_PORT (e.g. 9201)"))
    for port, variable in busy:
        if not _port_free(port):
            print(f"Port {port} is in use (another copy?). Set {variable} to run beside it.", file=sys.stderr)
            return 1

    processes: list[subprocess.Popen] = []
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    try:
        return _run(
            env,
            processes,
            site_url=site_url,
            web_port=web_port,
            var_dir=var_dir,
            simulated_zoom=simulated_zoom,
            sim_port=sim_port,
            mssim_port=mssim_port if simulated_microsoft else None,
        )
    except (KeyboardInterrupt, _Stop):
        return 0
    finally:
        _stop(processes)


def _run(env, processes, *, site_url, web_port, var_dir, simulated_zoom, sim_port, mssim_port) -> int:
    def start(args, **kwargs):
        # Each in its own session, so a Ctrl-C reaches us first and we stop them in order.
        proc = subprocess.Popen(args, cwd=BASE_DIR, env=env, start_new_session=True, **kwargs)
        processes.append(proc)
        return proc

    if simulated_zoom:
        sim_url = f"http://127.0.0.1:{sim_port}"
        env["ZOOM_OAUTH_BASE_URL"] = sim_url
        env["ZOOM_API_BASE_URL"] = f"{sim_url}/v2"
        start(
            [
                PYTHON,
                "-m",
                "simulators.zoom",
                "--port",
                str(sim_port),
                "--db",
                str(var_dir / "zoomsim.sqlite3"),
                "--redirect-uri",
                f"{site_url}/integrations/virtualmeeting/auth_callback/zoom",
                "--webhook-url",
                f"{site_url}/integrations/virtualmeeting/zoom/webhook",
            ]
        )
        if not _wait_for_port("127.0.0.1", sim_port):
            print("The Zoom simulator did not start.", file=sys.stderr)
            return 1
        subprocess.run(
            [PYTHON, "manage.py", "virtualmeeting_zoom_configure", "--simulator", sim_url],
            cwd=BASE_DIR,
            env=env,
            check=True,
        )

    if mssim_port is not None:
        mssim_url = f"http://127.0.0.1:{mssim_port}"
        env["TEAMS_AUTH_BASE_URL"] = mssim_url
        env["GRAPH_API_BASE_URL"] = f"{mssim_url}/v1.0"
        start(
            [
                PYTHON,
                "-m",
                "simulators.microsoft",
                "--port",
                str(mssim_port),
                "--db",
                str(var_dir / "mssim.sqlite3"),
                "--redirect-uri",
                f"{site_url}/integrations/virtualmeeting/auth_callback/teams",
            ]
        )
        if not _wait_for_port("127.0.0.1", mssim_port):
            print("The Microsoft simulator did not start.", file=sys.stderr)
            return 1
        if _has_command("virtualmeeting_teams_configure"):
            subprocess.run(
                [PYTHON, "manage.py", "virtualmeeting_teams_configure", "--simulator", mssim_url],
                cwd=BASE_DIR,
                env=env,
                check=True,
            )

    start([PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{web_port}"])
    start(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "lms",
            "worker",
            "--beat",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--schedule",
            str(var_dir / "celerybeat-schedule"),
        ]
    )
    _wait_for_port("127.0.0.1", web_port)

    print(_banner(site_url, simulated_zoom, simulated_microsoft=mssim_port is not None), flush=True)
    while all(proc.poll() is None for proc in processes):
        time.sleep(0.5)
    print("A process stopped; stopping the others.", file=sys.stderr)
    return 1


def _banner(site_url: str, simulated_zoom: bool, *, simulated_microsoft: bool = False) -> str:
    lines = [
        "",
        f"  LMS is running at {site_url}/",
        "",
        "  Log in as (password demo-password-123):",
        "    admin               site admin",
        "    trainer1            editing trainer",
        "    trainer2            trainer",
        "    learner1..learner5  learners",
    ]
    if simulated_zoom:
        lines += [
            "",
            "  Zoom is simulated (no Zoom app configured). Simulated Zoom logins (password zoom-password):",
            "    pro@zoomsim.test          Pro user, same account as the app",
            "    basic@zoomsim.test        Basic user, same account",
            "    other@otheraccount.test   user of another Zoom account (a private app refuses it)",
        ]
    if simulated_microsoft:
        from simulators.microsoft.seed import PASSWORD, SIGN_IN_ACCOUNTS

        lines += ["", f"  Microsoft (Teams) is simulated. Simulated Microsoft logins (password {PASSWORD}):"]
        lines += [f"    {email:25} {what}" for email, what in SIGN_IN_ACCOUNTS]
    lines += ["", "  Ctrl-C (or SIGTERM) stops everything.", ""]
    return "\n".join(lines)


def _stop(processes: list[subprocess.Popen]) -> None:
    # A second Ctrl-C or SIGTERM must not cut this short and leave processes behind.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    # SIGTERM to each leader (Celery then shuts its pool down warmly); the whole group is killed if it lingers.
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 10
    for proc in processes:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


if __name__ == "__main__":
    sys.exit(main())
