"""gunicorn for the page benchmark: started on a free loopback port, waited for, signed in to, stopped."""

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.machine import child_pids

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(args, env: dict, port: int, log_path: Path) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "lms.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--timeout",
        "60",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    if getattr(args, "access_log", None):
        # One line per request with its time in the worker (microseconds), to find where slow answers waited.
        command += ["--access-logfile", str(args.access_log), "--access-logformat", '%(t)s %(p)s "%(r)s" %(s)s %(D)s']
    log = log_path.open("w")
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return process


def gunicorn_wait(process: subprocess.Popen, port: int, workers: int, log_path: Path, timeout: float = 60) -> None:
    """Until every worker answers (each worker imports Django on its own)."""
    deadline = time.monotonic() + timeout
    answered = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/bench/minimal/")
            if conn.getresponse().status == 200:
                answered += 1
                if answered >= workers * 4 and len(child_pids(process.pid)) >= workers:
                    return
            conn.close()
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def gunicorn_up(args, env: dict, log_path: Path) -> tuple[subprocess.Popen, int]:
    """Start gunicorn on a free port and wait for its workers."""
    try:
        return _gunicorn_try(args, env, log_path)
    except SystemExit:
        # Another program may have taken the port between choosing it and gunicorn binding it.
        return _gunicorn_try(args, env, log_path)


def _gunicorn_try(args, env: dict, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    print(f"Starting gunicorn on 127.0.0.1:{port} ({args.workers} {args.worker_class} workers) ...", flush=True)
    process = gunicorn_start(args, env, port, log_path)
    try:
        gunicorn_wait(process, port, args.workers, log_path)
    except BaseException:
        gunicorn_stop(process)
        raise
    return process, port


def gunicorn_stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def login_cookie(port: int, username: str, password: str) -> str:
    """Sign in through the login form (CSRF token and all); the Cookie header for later requests."""
    import requests

    base = f"http://127.0.0.1:{port}"
    with requests.Session() as http:
        form = http.get(f"{base}/accounts/login/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if form.status_code != 200 or not token:
            raise SystemExit(f"The login page answered {form.status_code} without a CSRF token.")
        answer = http.post(
            f"{base}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{base}/accounts/login/"},
            allow_redirects=False,
            timeout=10,
        )
        if answer.status_code != 302 or "sessionid" not in http.cookies:
            raise SystemExit(f"Signing in as {username} failed ({answer.status_code}).")
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items())
