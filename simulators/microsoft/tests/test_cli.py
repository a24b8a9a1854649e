"""`python -m simulators.microsoft` as a process: it serves on the port and database given, with the redirect
URI given, and `ctl` drives it."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import requests

from simulators.microsoft.tests.conftest import Browser

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_and_ctl(tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    redirect_uri = "http://localhost:8123/integrations/virtualmeeting/auth_callback/teams"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulators.microsoft",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "ms.sqlite3"),
            "--redirect-uri",
            redirect_uri,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert f"mssim listening on {url}" in proc.stdout.readline()
        apps = requests.get(f"{url}/_sim/apps", timeout=10).json()["apps"]
        assert apps[0]["redirect_uris"] == redirect_uri

        class Server:  # what Browser needs of a simulator
            pass

        server = Server()
        server.url = url
        browser = Browser(server)
        assert browser.get(browser.authorize_url(redirect_uri=redirect_uri)).status_code == 200

        ctl = subprocess.run(
            [
                sys.executable,
                "-m",
                "simulators.microsoft",
                "ctl",
                "--url",
                url,
                "licence",
                "trainer@contoso.test",
                "--off",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert ctl.returncode == 0, ctl.stderr
        assert json.loads(ctl.stdout)["licensed"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
