"""Scaffolding of `make stack` and `make faults`: the production stack started on this machine.

A scratch PostgreSQL database of the script's own (dropped after unless --keep), a small world
(benchmarks/evaluation_http.py's: a federation → 4 towns → unions, a campaign open now, members
with tokens) plus an admin, then gunicorn (sync workers, DJANGO_DEBUG=0, fake keys made for the
run, behind a "proxy" that says https), a Celery worker and Celery beat on a Redis database of
their own. Browser is a small HTTP client with cookies and CSRF (urllib/http.client only).
"""

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

ROOT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT_DIR / "benchmarks"))
sys.path.insert(0, str(ROOT_DIR))

import evaluation_http as http_bench  # noqa: E402  (benchmarks/: the world and gunicorn)
from _scratch import scratch_database  # noqa: E402

ADMIN_USERNAME = "stack-admin"
SMS_LINE = re.compile(r"\[短信\] (\S+)：.*?(\d{6})")


def add_arguments(parser: argparse.ArgumentParser, *, database: str, redis_db: int) -> None:
    parser.add_argument("--database", default=database, help="the scratch PostgreSQL database")
    parser.add_argument(
        "--redis-url",
        default=f"redis://127.0.0.1:6379/{redis_db}",
        help="broker, results and cache (a Redis database of the script's own: it is flushed)",
    )
    parser.add_argument("--members", type=int, default=200, help="members with tokens")
    parser.add_argument("--unions", type=int, default=8, help="grassroots unions")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--seed", type=int, default=2022)


# ---------------------------------------------------------------- steps and the summary


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Steps:
    done: list[Step] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[SimpleNamespace]:
        """Time a step; it fails by raising (the message is kept as its detail)."""
        note = SimpleNamespace(detail="")
        began = time.perf_counter()
        try:
            yield note
        except Exception as exc:
            self.done.append(Step(name, False, time.perf_counter() - began, f"{exc}"[:300]))
            print(f"  ✗ {name}: {exc}", flush=True)
            raise
        self.done.append(Step(name, True, time.perf_counter() - began, note.detail))
        print(f"  ✓ {name} ({time.perf_counter() - began:.1f} s) {note.detail}", flush=True)

    def summary(self) -> str:
        lines = [f"{'':2} {'step':<58} {'s':>6}  detail"]
        for s in self.done:
            lines.append(f"{'✓' if s.ok else '✗':2} {s.name:<58} {s.seconds:>6.1f}  {s.detail}")
        return "\n".join(lines)


class Failed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


# ---------------------------------------------------------------- the world


@contextmanager
def scratch_stack(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    """Django set up on the scratch database; yields the servers' environment.

    This process shares the servers' keys (it encrypts the members it builds) and their broker
    (it may queue jobs); Redis's database of the run is flushed before and after.
    """
    args.postgres = True
    if args.database in {"pingyi", "postgres", "pingyi_bench_progress"}:
        raise SystemExit(f"refusing to recreate the database {args.database}")
    env = http_bench.production_env(args)
    env.update(
        {
            "REDIS_URL": args.redis_url,
            "PINGYI_SMS_BACKEND": "members.sms.ConsoleBackend",  # codes land in gunicorn's log
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in ("SECRET_KEY", "PINGYI_FIELD_KEYS", "PINGYI_LOOKUP_KEY", "REDIS_URL"):
        os.environ[name] = env[name]
    flush_redis(args.redis_url)
    try:
        with scratch_database(args):
            env["PINGYI_VAR_DIR"] = os.environ["PINGYI_VAR_DIR"]
            env["DATABASE_URL"] = os.environ["DATABASE_URL"]
            yield env
    finally:
        flush_redis(args.redis_url)


def flush_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.exceptions.ConnectionError as exc:
        raise SystemExit(f"Redis does not answer at {url}: {exc}") from exc


def build_world(args: argparse.Namespace):
    """The benchmark's world, an admin of its federation; returns (campaign, tokens, password)."""
    from django.core.management import call_command
    from django.db import connections

    from accounts.models import Role, RoleKind, User

    call_command("migrate", verbosity=0)
    campaign, tokens = http_bench.build(args)
    password = "stack-" + uuid.uuid4().hex[:12]
    admin = User.objects.create_user(username=ADMIN_USERNAME, password=password)
    Role.objects.create(user=admin, org=campaign.org, kind=RoleKind.FEDERATION_ADMIN)
    connections.close_all()  # the servers open their own
    return campaign, tokens, password


# ---------------------------------------------------------------- the servers


def manage(env: dict[str, str], *command: str) -> str:
    """Run manage.py as the servers would (their environment); returns what it wrote."""
    done = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise Failed(f"manage.py {' '.join(command)}: {(done.stderr or done.stdout)[-1500:]}")
    return done.stdout + done.stderr


class Servers:
    """gunicorn, Celery worker(s) and beat, each logging to a file of the scratch directory."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str]):
        self.args, self.env = args, env
        self.var = Path(env["PINGYI_VAR_DIR"])
        self.port = http_bench.free_port()
        self.gunicorn: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.beat: subprocess.Popen | None = None

    def start_gunicorn(self, **extra_env: str) -> None:
        args = SimpleNamespace(workers=self.args.workers, worker_class="sync", threads=1)
        self.gunicorn = http_bench.start_gunicorn(args, {**self.env, **extra_env}, self.port)

    def gunicorn_log(self) -> str:
        return http_bench.gunicorn_log(self.env).read_text(errors="replace")

    def start_worker(self, **extra_env: str) -> subprocess.Popen:
        n = len(self.workers) + 1
        log = self.var / f"worker{n}.log"
        command = [
            *celery(),
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "1",
            "--max-tasks-per-child",
            "100",
            "--hostname",
            f"stack{n}-{self.port}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
        worker = self._spawn(command, log, extra_env)
        self.workers.append(worker)
        wait_for_line(log, "ready.", worker, 60)
        return worker

    def worker_log(self, n: int = 0) -> str:
        name = f"worker{n or len(self.workers)}.log"
        return (self.var / name).read_text(errors="replace")

    def all_worker_logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.var.glob("worker*.log")))

    def start_beat(self) -> None:
        log = self.var / "beat.log"
        command = [*celery(), "beat", "--loglevel", "INFO"]
        command += ["--schedule", str(self.var / "beat-schedule"), "--pidfile", ""]
        self.beat = self._spawn(command, log, {})
        wait_for_line(log, "beat: Starting", self.beat, 60)

    def _spawn(self, command: list[str], log: Path, extra_env: dict) -> subprocess.Popen:
        with log.open("ab") as out:
            return subprocess.Popen(
                command,
                cwd=ROOT_DIR,
                env={**os.environ, **self.env, **extra_env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopped without touching anything else
            )

    def stop(self) -> None:
        if self.gunicorn is not None:
            http_bench.stop_gunicorn(self.gunicorn, self.env)
            self.gunicorn = None
        for proc in [*self.workers, *([self.beat] if self.beat else [])]:
            stop_group(proc)
        self.beat = None

    def base(self) -> str:
        return f"127.0.0.1:{self.port}"


def celery() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "pingyi"]


def stop_group(proc: subprocess.Popen, *, sig: int = signal.SIGTERM) -> None:
    """Stop a process we started and its children (its own session's group)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def wait_for_line(log: Path, text: str, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise Failed(f"{log.name}: exited {proc.returncode}: {log.read_text()[-1500:]}")
        time.sleep(0.2)
    raise Failed(f"{log.name}: no “{text}” within {seconds:.0f} s")


def wait_until(predicate, seconds: float, what: str, every: float = 0.3):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise Failed(f"{what}: not within {seconds:.0f} s")


# ---------------------------------------------------------------- the client


class Browser:
    """Cookies, CSRF and the proxy's headers over http.client; a new connection per request."""

    def __init__(self, host: str, timeout: float = 30):
        self.host, self.timeout = host, timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        conn = http.client.HTTPConnection(self.host, timeout=self.timeout)
        all_headers = {
            "Host": self.host,
            "X-Forwarded-Proto": "https",  # the TLS-terminating proxy's word
            "X-Forwarded-For": "10.9.0.1",
            "User-Agent": "pingyi-stack/1.0",
            **(headers or {}),
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response.status, response.headers, payload.decode("utf-8", errors="replace")

    def get(self, path: str, headers=None):
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, data: dict):
        data = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **data}
        return self.request(
            "POST",
            path,
            urlencode(data).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"https://{self.host}{path}",  # CSRF over https checks the referer
            },
        )

    def post_json(self, path: str, data: dict, headers=None):
        return self.request(
            "POST",
            path,
            json.dumps(data).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


def admin_login(host: str, password: str) -> Browser:
    admin = Browser(host)
    status, _h, _body = admin.get("/accounts/login/")
    check(status == 200 and "csrftoken" in admin.cookies, f"login page answered {status}")
    status, _h, body = admin.post_form(
        "/accounts/login/", {"username": ADMIN_USERNAME, "password": password}
    )
    check(status == 302, f"admin login answered {status}: {body[:300]}")
    check("sessionid" in admin.cookies, "no session cookie after the admin's login")
    return admin


def sms_code(servers: Servers, phone: str, seconds: float = 15) -> str:
    """The newest code sent to `phone`, read from gunicorn's log (the console SMS backend)."""
    from members.identity import mask_mobile

    masked = mask_mobile(phone)

    def newest():
        found = [
            m.group(2) for m in SMS_LINE.finditer(servers.gunicorn_log()) if m.group(1) == masked
        ]
        return found[-1] if found else None

    return wait_until(newest, seconds, f"the SMS code to {masked}")


def member_api_login(servers: Servers, phone: str) -> str:
    """A member asks for a code by the API and logs in with it; returns the bearer token."""
    client = Browser(servers.base())
    asked = {"phone": phone, "purpose": "login"}
    status, _h, body = client.post_json("/api/v1/members/codes", asked)
    check(status == 200, f"/members/codes answered {status}: {body[:300]}")
    code = sms_code(servers, phone)
    status, _h, body = client.post_json("/api/v1/members/login", {"phone": phone, "code": code})
    check(status == 200, f"/members/login answered {status}: {body[:300]}")
    return json.loads(body)["token"]


def member_phone(n: int) -> str:
    """The phone of the benchmark world's nth member."""
    return f"1700{n:07d}"


def evaluated_on_progress_page(admin: Browser, org_id: int) -> int:
    status, _h, body = admin.get(f"/console/progress/{org_id}/")
    check(status == 200, f"progress page answered {status}")
    found = re.search(r'data-stat="evaluated">([\d,]+)<', body)
    check(found is not None, "no 已评议 figure on the progress page")
    return int(found.group(1).replace(",", ""))
