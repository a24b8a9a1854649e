"""What the meeting-sync benchmarks and the convergence run share: the processes and the setup.

- `Simulator`: the Zoom simulator (`python -m simulators.zoom`) as a process on a free
  loopback port, with its own SQLite file and extra Pro users in account A;
- `RedisServer`: a private `redis-server` (no persistence), so a run can restart
  it without touching anyone else's Redis;
- `Workers`: real Celery worker processes (`--pool=solo`, one task at a time),
  started, SIGKILLed, stopped, and their resident memory read from /proc;
- `prepare_django`: a fresh PostgreSQL database of the run's own, migrated, and
  the Zoom provider configured for the simulator (`virtualmeeting_zoom_configure
  --simulator`);
- `connect_trainer`: a trainer connects Zoom through the product's real OAuth
  flow (the connect view, the simulator's sign-in and consent pages, the
  callback view), driven by Django's test client and `requests`.

Everything listens on 127.0.0.1 and every process is stopped by the script that
started it (also on Ctrl-C).
"""

from __future__ import annotations

import io
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SIM_ACCOUNT = "acctA-zoomsim00000001"  # the simulator's seeded Pro account (its per-second buckets)
SIM_PASSWORD = "zoom-password"
HTTP_TIMEOUT = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float, what: str, interval: float = 0.2):
    """Poll `condition` until it returns something true; raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout:g} s waiting for {what}.")
        time.sleep(interval)


def _stop(process: subprocess.Popen, *, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


# --- the Zoom simulator ---------------------------------------------------------------------------------------
def sim_user_email(index: int) -> str:
    return f"trainer{index:02d}@zoomsim.test"


class SimulatorProcess:
    """A simulator (`python -m simulators.<module>`) as a process on a free port, with its own SQLite file and log,
    registered with `redirect_uri`; `admin` is its admin API client once started."""

    module = ""
    title = ""  # in messages: "the Zoom simulator"

    def __init__(self, workdir: Path, *, redirect_uri: str, db_name: str, log_name: str):
        self.workdir = workdir
        self.db_path = workdir / db_name
        self.redirect_uri = redirect_uri
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / log_name

    def _launch(self, admin_class):
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                self.module,
                "--port",
                str(self.port),
                "--db",
                str(self.db_path),
                "--redirect-uri",
                self.redirect_uri,
            ],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.admin = admin_class(self.url, timeout=HTTP_TIMEOUT)
        wait_until(self._answers, timeout=30, what=f"{self.title} to start")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.title.capitalize()} exited:\n{self.log_path.read_text()[-2000:]}")
        try:
            self.admin.state()
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self._log.close()
            self.process = None


class Simulator(SimulatorProcess):
    """`python -m simulators.zoom` on a free port, with `users` extra Pro users in the seeded account A.

    The simulator's admin API cannot add users, so they are written into its SQLite
    file (its own schema, the way its seeding writes the seeded users) before it starts.
    """

    module = "simulators.zoom"
    title = "the Zoom simulator"

    def __init__(self, workdir: Path, *, redirect_uri: str, users: int):
        super().__init__(workdir, redirect_uri=redirect_uri, db_name="zoomsim.sqlite3", log_name="zoomsim.log")
        self.users = users

    def start(self) -> Simulator:
        from simulators.zoom.client import AdminClient
        from simulators.zoom.seed import seed
        from simulators.zoom.store import Store

        if self.db_path.exists():
            self.db_path.unlink()
        store = Store(str(self.db_path))
        seed(store, redirect_uri=self.redirect_uri)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with store.lock:
            for index in range(1, self.users + 1):
                store.run(
                    "INSERT INTO users (id, account_id, email, password, first_name, last_name, type, timezone,"
                    " pmi, created_at) VALUES (?, ?, ?, ?, ?, ?, 2, 'Europe/London', ?, ?)",
                    (
                        f"zsBENCHtrainer{index:08d}",
                        SIM_ACCOUNT,
                        sim_user_email(index),
                        SIM_PASSWORD,
                        "Trainer",
                        f"{index:02d}",
                        8113000000 + index,
                        created,
                    ),
                )
        store.close()
        return self._launch(AdminClient)

    def meetings(self, emails: list[str]) -> list[dict]:
        found = []
        for email in emails:
            found.extend(self.admin.meetings(host=email))
        return found

    def requests_log(self) -> list[dict]:
        return self.admin.requests()


class MicrosoftSimulator(SimulatorProcess):
    """`python -m simulators.microsoft` on a free port (the Microsoft identity platform and Graph, for Teams), its
    app registered with the product's Teams callback. Seeded organiser: trainer@contoso.test."""

    module = "simulators.microsoft"
    title = "the Microsoft simulator"
    ORGANISER = "trainer@contoso.test"

    def __init__(self, workdir: Path, *, site_url: str = "http://127.0.0.1:8000"):
        super().__init__(
            workdir,
            redirect_uri=f"{site_url}/integrations/virtualmeeting/auth_callback/teams",
            db_name="mssim.sqlite3",
            log_name="mssim.log",
        )

    def start(self) -> MicrosoftSimulator:
        from simulators.microsoft.client import AdminClient

        if self.db_path.exists():
            self.db_path.unlink()
        return self._launch(AdminClient)


def connect_teams_trainer(trainer, *, ms_url: str, email: str = MicrosoftSimulator.ORGANISER) -> None:
    """The product's connect view, the simulator's sign-in and consent pages, and the callback, as a person does
    them (the trainer's Teams connection)."""
    from django.test import Client
    from django.urls import reverse

    from simulators.microsoft.seed import PASSWORD as MS_PASSWORD

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(trainer)
    answer = client.get(reverse("virtualmeeting:connect", args=["teams"]))
    if answer.status_code != 302:
        raise RuntimeError(f"The Teams connect view answered {answer.status_code}.")
    browser = requests.Session()
    page = browser.get(answer["Location"], timeout=HTTP_TIMEOUT)

    def form_post(page, data, **kwargs):
        action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
        txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
        return browser.post(f"{ms_url}{action}", data={"txn": txn, **data}, timeout=HTTP_TIMEOUT, **kwargs)

    consent = form_post(page, {"email": email, "password": MS_PASSWORD})  # the sign-in page, then consent
    decision = form_post(consent, {"decision": "accept"}, allow_redirects=False)
    back = urlsplit(urljoin(ms_url, decision.headers["Location"]))
    done = client.get(f"{back.path}?{back.query}")
    if done.status_code != 200 or not trainer.meeting_connections.filter(provider="teams").exists():
        raise RuntimeError(f"Connecting {trainer.username} to Teams failed ({done.status_code}).")


def outcome_counts(log: list[dict]) -> Counter:
    """(route, status) -> number of simulator answers; status "close" is a dropped answer, "hang" a timeout."""
    return Counter((entry["route"], str(entry["status"])) for entry in log if entry["route"].startswith("meetings."))


def creates_per_second(log: list[dict]) -> dict:
    """Successful creates over the span from the first to the last (simulator clock), and the busiest second."""
    times = sorted(entry["time"] for entry in log if entry["route"] == "meetings.create" and entry["status"] == 201)
    if len(times) < 2:
        return {"creates": len(times), "span_s": 0.0, "per_second": 0.0, "busiest_second": len(times)}
    span = times[-1] - times[0]
    busiest = Counter(int(t) for t in times).most_common(1)[0][1]
    return {
        "creates": len(times),
        "span_s": round(span, 2),
        "per_second": round((len(times) - 1) / span, 2),
        "busiest_second": busiest,
    }


# --- Redis --------------------------------------------------------------------------------------------------
class RedisServer:
    """A private redis-server on 127.0.0.1:`port`, no persistence: a restart loses every queued message."""

    def __init__(self, workdir: Path, port: int):
        self.workdir = workdir
        self.port = port
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        import redis

        try:
            redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            pass
        else:
            raise RuntimeError(f"Something already listens on 127.0.0.1:{self.port}; choose another --redis-port.")
        self._log = (self.workdir / "redis.log").open("ab")
        try:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                ],
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except FileNotFoundError:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server).") from None
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def answers():
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_until(answers, timeout=20, what=f"redis-server on port {self.port}")
        return self

    def restart(self) -> None:
        self.stop()
        self.start()
        self.restarts += 1

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self._log.close()
            self.process = None


# --- Celery workers -----------------------------------------------------------------------------------------
class Workers:
    """Real `celery -A lms worker --pool=solo` processes with the environment `env`."""

    def __init__(self, workdir: Path, env: dict):
        self.workdir = workdir
        self.env = env
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.killed = 0

    def start(self, count: int = 1, *, wait: bool = True) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            number = len(self.processes) + 1
            log = self.workdir / f"worker-{number}.log"
            handle = log.open("w")
            process = subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "lms",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    "celery",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "INFO",
                    "-n",
                    f"bench-{number}-{os.getpid()}@%h",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
            handle.close()
            self.processes.append(process)
            self.logs.append(log)
            started.append((process, log))
        if wait:
            for process, log in started:
                wait_until(
                    lambda p=process, path=log: self._ready(p, path), timeout=60, what="a Celery worker to start"
                )
        return [process for process, _ in started]

    @staticmethod
    def _ready(process: subprocess.Popen, log: Path) -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"A Celery worker exited:\n{log.read_text()[-3000:]}")
        return " ready." in log.read_text()

    def running(self) -> list[subprocess.Popen]:
        return [process for process in self.processes if process.poll() is None]

    def busy(self) -> subprocess.Popen | None:
        """A running worker whose last logged task was received and has not finished yet."""
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                continue
            lines = [line for line in log.read_text(errors="replace").splitlines() if "Task " in line]
            if lines and " received" in lines[-1]:
                return process
        return None

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: no chance to ack, release a claim or say goodbye to the broker."""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=15)
        self.killed += 1

    def stop_all(self) -> None:
        for process in self.processes:
            _stop(process, timeout=30)

    def task_outcomes(self) -> Counter:
        """What meeting_sync returned, by step ('create', 'retry', 'waiting', 'find (adopted)', ...)."""
        outcomes = Counter()
        pattern = re.compile(r"meeting_sync\[[^\]]+\] succeeded in [0-9.]+s: (\[.*\])")
        for log in self.logs:
            for match in pattern.finditer(log.read_text(errors="replace")):
                for step in re.findall(r"'([^']*)'", match.group(1)):
                    outcomes[step] += 1
        return outcomes

    def errors_logged(self) -> int:
        return sum(log.read_text(errors="replace").count("ERROR/") for log in self.logs)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


# --- Django, PostgreSQL and the product's setup ----------------------------------------------------------
def run_keys() -> dict:
    """Keys for a DEBUG-off run: the environment's, else fresh ones (production refuses the development keys)."""
    from cryptography.fernet import Fernet
    from django.core.management.utils import get_random_secret_key

    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or get_random_secret_key(),
        "FIELD_ENCRYPTION_KEYS": os.environ.get("FIELD_ENCRYPTION_KEYS") or Fernet.generate_key().decode(),
    }


def configure_environment(
    *, database_url: str, broker_url: str, sim_url: str, settings_module: str, var_dir: Path, ms_url: str = ""
) -> dict:
    """The environment of this process and of the workers (set before Django is imported)."""
    env = {
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "ZOOM_OAUTH_BASE_URL": sim_url,
        "ZOOM_API_BASE_URL": f"{sim_url}/v2",
        **({"TEAMS_AUTH_BASE_URL": ms_url, "GRAPH_API_BASE_URL": f"{ms_url}/v1.0"} if ms_url else {}),
        "SITE_URL": "http://127.0.0.1:8000",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DEBUG": "0",
        **run_keys(),
        "SECURE_COOKIES": "0",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_MANIFEST": "0",  # the callback page renders templates; no collectstatic needed
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LMS_VAR_DIR": str(var_dir),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    os.environ.update(env)
    return {**os.environ, **env, "LOG_LEVEL": "INFO"}


def redirect_uri(site_url: str = "http://127.0.0.1:8000") -> str:
    """The product's OAuth callback for Zoom (virtualmeeting:auth_callback), registered in the simulator's app."""
    return f"{site_url}/integrations/virtualmeeting/auth_callback/zoom"


def server_params(config: dict) -> dict:
    """psycopg connection parameters for the server's `postgres` database (to create or drop others)."""
    return {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or None,
        "dbname": "postgres",
        "connect_timeout": 10,
        "autocommit": True,
    }


def database_recreate(database_url: str) -> None:
    """Drop and create the run's own database (never the one the tests or others use)."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(database_url)
    if not config["ENGINE"].endswith("postgresql"):
        raise SystemExit(f"The meeting-sync benchmarks need PostgreSQL; the database URL is {config['ENGINE']}.")
    params = server_params(config)
    with psycopg.connect(**params) as conn:
        name = sql.Identifier(config["NAME"])
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def database_drop(database_url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(database_url)
    params = server_params(config)
    with psycopg.connect(**params) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(config["NAME"])))


def prepare_django(sim_url: str, ms_url: str = "") -> None:
    """Migrate the fresh database and configure Zoom (and Teams) for the simulators, as `make run` does."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("virtualmeeting_zoom_configure", simulator=sim_url, stdout=io.StringIO())
    if ms_url:
        call_command("virtualmeeting_teams_configure", simulator=ms_url, stdout=io.StringIO())


def course_with_trainers(count: int, *, prefix: str = "trainer"):
    """A course, a seminar and `count` trainers enrolled as editing trainers. Returns (seminar, trainers)."""
    from django.contrib.auth import get_user_model

    from seminars.models import Enrolment
    from seminars.services.courses import course_create, enrolment_create, seminar_create

    User = get_user_model()
    admin = User.objects.create_superuser("bench-admin", "admin@bench.test", "bench-password-1")
    course = course_create(actor=admin, name=f"Sync benchmark ({prefix})")
    seminar = seminar_create(course=course, actor=admin, name="Virtual seminar")
    trainers = []
    for index in range(1, count + 1):
        trainer = User.objects.create_user(
            f"{prefix}{index:02d}",
            f"{prefix}{index:02d}@lms.test",
            "bench-password-1",
            first_name="Trainer",
            last_name=f"{index:02d}",
        )
        enrolment_create(course=course, user=trainer, role=Enrolment.Role.EDITING_TRAINER, actor=admin)
        trainers.append(trainer)
    return seminar, trainers


def connect_trainer(trainer, *, zoom_email: str, sim_url: str) -> None:
    """Connect `trainer` to the simulator's `zoom_email` through the product's OAuth views and the simulator's pages."""
    from django.test import Client
    from django.urls import reverse

    from virtualmeeting.models import ProviderConnection

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(trainer)
    answer = client.get(reverse("virtualmeeting:connect", args=["zoom"]))
    if answer.status_code != 302 or not answer["Location"].startswith(sim_url):
        raise RuntimeError(f"The connect view did not send {trainer} to the simulator (HTTP {answer.status_code}).")
    zoom = requests.Session()
    page = zoom.get(answer["Location"], timeout=HTTP_TIMEOUT)  # the sign-in form
    next_url = re.search(r'name="next" value="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    page = zoom.post(
        f"{sim_url}/signin",
        data={"email": zoom_email, "password": SIM_PASSWORD, "next": next_url},
        timeout=HTTP_TIMEOUT,
    )  # follows to the consent page
    txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
    decision = zoom.post(
        f"{sim_url}/oauth/authorize/decision",
        data={"txn": txn, "decision": "allow"},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    back = urlsplit(urljoin(sim_url, decision.headers["Location"]))
    done = client.get(f"{back.path}?{back.query}")
    connection = ProviderConnection.objects.filter(user=trainer, provider="zoom").first()
    if done.status_code != 200 or connection is None or connection.email != zoom_email:
        raise RuntimeError(f"Connecting {trainer} to {zoom_email} failed (HTTP {done.status_code}).")


def zoom_users_of(trainers) -> dict[int, str]:
    from virtualmeeting.models import ProviderConnection

    return dict(ProviderConnection.objects.filter(user__in=trainers, provider="zoom").values_list("user_id", "email"))


def machine() -> dict:
    from bench.machine import machine_info

    return machine_info()


class Stack:
    """Redis, the simulator, a fresh database and Django for one run; `with Stack(...) as stack:` stops it all."""

    def __init__(
        self,
        *,
        workdir: Path,
        database_url: str,
        redis_port: int,
        sim_users: int,
        settings_module: str = "lms.settings",
        keep_database: bool = False,
    ):
        self.workdir = workdir
        self.database_url = database_url
        self.keep_database = keep_database
        workdir.mkdir(parents=True, exist_ok=True)
        self.redis = RedisServer(workdir, redis_port)
        self.sim = Simulator(workdir, redirect_uri=redirect_uri(), users=sim_users)
        self.settings_module = settings_module
        self.workers: Workers | None = None

    def __enter__(self) -> Stack:
        try:
            self.redis.start()
            self.sim.start()
            env = configure_environment(
                database_url=self.database_url,
                broker_url=self.redis.url(0),
                sim_url=self.sim.url,
                settings_module=self.settings_module,
                var_dir=self.workdir / "var",
            )
            database_recreate(self.database_url)
            prepare_django(self.sim.url)
            from lms.celery import app

            app.conf.task_always_eager = False
            self.workers = Workers(self.workdir, env)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        if self.workers is not None:
            self.workers.stop_all()
        self.sim.stop()
        self.redis.stop()
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        if not self.keep_database:
            try:
                database_drop(self.database_url)
            except Exception as exc:  # the run's result matters more than the clean-up
                print(f"Could not drop the run's database: {exc}", file=sys.stderr)

    def connect(self, trainers, *, first_user: int = 1) -> dict[int, str]:
        """Connect each trainer to its own simulated Zoom user; returns trainer id -> Zoom email."""
        emails = {}
        for offset, trainer in enumerate(trainers):
            email = sim_user_email(first_user + offset)
            connect_trainer(trainer, zoom_email=email, sim_url=self.sim.url)
            emails[trainer.pk] = email
        return emails


def one_session_event(*, seminar, trainer, start, name: str, sessions: int = 1):
    """An event of `sessions` one-hour sessions a day apart, each in its own ad-hoc Zoom room (event_save)."""
    from datetime import timedelta

    from seminars.services.events import event_save

    rows = [
        {
            "id": None,
            "start": start + timedelta(days=day),
            "finish": start + timedelta(days=day, hours=1),
            "time_zone": "Europe/London",
            "room": {
                "mode": "new",
                "name": f"{name} room {day + 1}",
                "capacity": 30,
                "description": "",
                "virtual_kind": "zoom",
                "virtual_url": "",
            },
        }
        for day in range(sessions)
    ]
    data = {
        "name": name,
        "details": "",
        "capacity": 30,
        "waitlist_enabled": False,
        "cancellation_policy": "cutoff",
        "cancellation_cutoff_hours": 24,
        "sessions": rows,
    }
    return event_save(event_or_none=None, seminar=seminar, actor=trainer, data=data)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat (all CPUs together)."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick
