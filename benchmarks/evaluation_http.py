"""Submissions over HTTP against gunicorn + PostgreSQL, beside a trivial logged-in endpoint.

Builds a small union tree, an open campaign and --members registered members with a bearer token
each in a database of its own (`pingyi_bench_http` on the server of --database-url or
DATABASE_URL), starts gunicorn on `pingyi.wsgi` as production runs it (DJANGO_DEBUG=0, fake
keys, behind a proxy that says https), and drives it from --concurrency client threads, each with
its own connection (kept alive where the worker class allows: gthread does, sync closes it):

  warm-up  GET  /api/v1/campaigns/{id}/questionnaire  once per member (the app opens the form;
                the token's first use also stamps its last_used_at)
  (a)      GET  /api/v1/members/me                    the trivial logged-in endpoint
  (b)      POST /api/v1/campaigns/{id}/evaluation     once per member, with an Idempotency-Key

(a) and (b) alternate in --rounds rounds, so that other load on the machine weighs on both alike.
It prints requests, errors, requests per second and p50/p95/p99 latency of each, the ratio of
(b) to (a), then checks the database: one evaluation per accepted submission, no duplicates,
counters equal to a recount. --queries also counts the SQL statements of one request of each.

    .venv/bin/python benchmarks/evaluation_http.py
    .venv/bin/python benchmarks/evaluation_http.py --worker-class gthread --threads 4 --queries
"""

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from _scratch import pg_url, scratch_database

ROOT_DIR = Path(__file__).resolve().parent.parent
TRIVIAL_PATH = "/api/v1/members/me"
# The overall's and the items' ratings members give (5★ first), as in the demo.
OVERALL_WEIGHTS = {5: 56, 4: 30, 3: 9, 2: 3, 1: 2}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000, help="members, one submission each")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument(
        "--trivial-requests",
        type=int,
        default=None,
        help="requests of phase (a) (default: as many as members)",
    )
    parser.add_argument(
        "--trivial-seconds", type=float, default=None, help="run phase (a) this long instead"
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="(a) and (b) alternate in this many rounds"
    )
    # sync × 2 on 2 cores: see benchmarks/README.md for why, and the other settings measured.
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--worker-class", choices=["sync", "gthread"], default="sync", help="gunicorn workers"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--unions", type=int, default=40, help="grassroots unions")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server to use (its database is never touched; default: DATABASE_URL "
        "or postgres://postgres@127.0.0.1:5432)",
    )
    parser.add_argument("--database", default="pingyi_bench_http", help="the bench database")
    parser.add_argument(
        "--queries", action="store_true", help="count the SQL statements of one request of each"
    )
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()
    if args.database_url and not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a PostgreSQL URL")
    args.postgres = True
    return args


# ---------------------------------------------------------------- the world


def production_env(args: argparse.Namespace) -> dict[str, str]:
    """Environment of a production deployment with fake secrets (keys made for this run)."""
    from cryptography.fernet import Fernet

    return {
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
        "PINGYI_FIELD_KEYS": Fernet.generate_key().decode(),
        "PINGYI_LOOKUP_KEY": uuid.uuid4().hex,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": pg_url(args.database),
        "DJANGO_BEHIND_PROXY": "1",
        "LOG_LEVEL": "WARNING",
    }


def build(args: argparse.Namespace):
    """A federation → 4 towns → unions, an open campaign, registered members with tokens."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from campaigns.rollups import rebuild_rollups
    from campaigns.services import create_campaign
    from members.identity import Sex, compose_id_number
    from members.models import Member
    from members.tokens import issue_token
    from orgs.models import OrgKind
    from orgs.services import create_child_org, create_root_org, set_reported_members

    rng = random.Random(args.seed)
    now = timezone.now()
    with transaction.atomic():
        root = create_root_org(name="基准市总工会", code="329999")
        towns = [
            create_child_org(parent=root, name=f"基准{i + 1}镇", kind=OrgKind.TOWN, seq=i + 1)
            for i in range(4)
        ]
        unions = [
            create_child_org(
                parent=towns[k % 4], name=f"基准{k + 1}号企业工会", kind=OrgKind.GRASSROOTS
            )
            for k in range(args.unions)
        ]
        for union in unions:
            set_reported_members(org=union, year=2022, count=args.members // args.unions + 1)
        campaign = create_campaign(
            org=root,
            name="HTTP 基准评议",
            year=2022,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=7),
        )
        rebuild_rollups(campaign=campaign)

        members = []
        for n in range(args.members):
            sex = Sex.MALE if n % 2 else Sex.FEMALE
            birth = date(1970, 1, 1) + timedelta(days=n % 9000)
            member = Member(
                org=unions[n % len(unions)],
                name="基准会员",
                sex=sex,
                birth_date=birth,
                registered_at=now - timedelta(days=2),
            )
            sequence = (n // 9000) * 2 + (1 if sex == Sex.MALE else 0)
            member.set_id_number(
                compose_id_number(region="321081", birth_date=birth, sequence=sequence)
            )
            member.set_phone(f"1700{n:07d}")
            members.append(member)
        users = User.objects.bulk_create(
            [User(username=f"bench-http-{n}", password="!") for n in range(args.members)],
            batch_size=5000,
        )
        for member, user in zip(members, users, strict=True):
            member.user = user
        Member.objects.bulk_create(members, batch_size=5000)
        tokens = [issue_token(user=user)[0] for user in users]
    rng.shuffle(tokens)
    return campaign, tokens


# ---------------------------------------------------------------- gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(args: argparse.Namespace, env: dict[str, str], port: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "pingyi.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    if args.worker_class == "gthread":
        command += ["--threads", str(args.threads)]
    with gunicorn_log(env).open("wb") as log:
        server = subprocess.Popen(
            command, cwd=ROOT_DIR, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            print(gunicorn_log(env).read_text(errors="replace")[-3000:])
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", TRIVIAL_PATH, headers={"X-Forwarded-Proto": "https"})
            status = conn.getresponse().status
            conn.close()
            if status == 401:  # up, and refusing an anonymous caller as it should
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def gunicorn_log(env: dict[str, str]) -> Path:
    return Path(env["PINGYI_VAR_DIR"]) / "gunicorn.log"


def stop_gunicorn(server: subprocess.Popen, env: dict[str, str]) -> str:
    """Stop gunicorn; what it wrote beyond the readiness probe's 401 (errors, tracebacks)."""
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    lines = gunicorn_log(env).read_text(errors="replace").splitlines()
    return "\n".join(line for line in lines if f"Unauthorized: {TRIVIAL_PATH}" not in line)


# ---------------------------------------------------------------- the clients


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def add(self, other: "Phase") -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


class Client:
    """One keep-alive connection (http.client reconnects when the server closes it)."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, token: str, body: dict | None = None, key: str = ""):
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Forwarded-Proto": "https",  # the TLS-terminating proxy's word
            "X-Forwarded-For": "10.0.0.1",
            "User-Agent": "pingyi-bench/1.0",
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
            return response.status, payload
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return 0, b""


def run_phase(
    name: str, port: int, jobs: list, concurrency: int, ok: set[int], seconds: float | None = None
) -> Phase:
    """Run jobs (method, path, token, body, key) from `concurrency` threads, each its share.

    With `seconds`, each thread loops over its share until the time is up.
    """
    phase = Phase(name)
    lock = threading.Lock()
    start_line = threading.Barrier(concurrency + 1)
    shares = [jobs[i::concurrency] for i in range(concurrency)]

    def worker(share):
        client = Client(port)
        latencies, statuses, errors = [], {}, 0
        start_line.wait()
        deadline = time.perf_counter() + seconds if seconds else None
        n = 0
        while share:
            if deadline is None and n >= len(share):
                break
            if deadline is not None and time.perf_counter() >= deadline:
                break
            method, path, token, body, key = share[n % len(share)]
            n += 1
            began = time.perf_counter()
            status, _payload = client.call(method, path, token, body, key)
            latencies.append(time.perf_counter() - began)
            statuses[status] = statuses.get(status, 0) + 1
            errors += status not in ok
        client.conn.close()
        with lock:
            phase.latencies += latencies
            phase.errors += errors
            for status, count in statuses.items():
                phase.statuses[status] = phase.statuses.get(status, 0) + count

    threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    phase.elapsed = time.perf_counter() - began
    return phase


def questionnaire_ids(port: int, campaign_id: int, token: str) -> tuple[list[int], dict]:
    status, payload = Client(port).call(
        "GET", f"/api/v1/campaigns/{campaign_id}/questionnaire", token
    )
    if status != 200:
        raise SystemExit(f"questionnaire answered {status}: {payload[:300]!r}")
    form = json.loads(payload)
    return [item["id"] for item in form["items"]], form


def evaluation_body(rng: random.Random, items: list[int]) -> dict:
    """What a member sends: an overall, items for ~70%, a suggestion for ~30%."""
    overall = rng.choices(list(OVERALL_WEIGHTS), weights=list(OVERALL_WEIGHTS.values()))[0]
    body = {"overall": overall, "items": [], "suggestion": "", "return_visit": False}
    if rng.random() < 0.7:
        body["items"] = [
            {"question_id": q, "rating": max(1, min(5, overall + rng.choice((-1, 0, 0, 1))))}
            for q in items
        ]
    if rng.random() < 0.3:
        body["suggestion"] = "希望工会多组织职工文体活动，劳动合同的签订也请多关心。"
    if overall <= 2:
        body["return_visit"] = rng.random() < 0.4
    return body


# ---------------------------------------------------------------- queries


def count_queries(campaign, token_trivial: str, token_submit: str, items: list[int]) -> None:
    """The SQL statements of one trivial request and one submission, run in this process."""
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(HTTP_HOST="127.0.0.1")
    headers = {"Authorization": f"Bearer {token_trivial}"}
    client.get(TRIVIAL_PATH, headers=headers)  # the token's first use writes: not counted
    with CaptureQueriesContext(connection) as trivial:
        client.get(TRIVIAL_PATH, headers=headers)
    headers = {"Authorization": f"Bearer {token_submit}"}
    client.get(f"/api/v1/campaigns/{campaign.pk}/questionnaire", headers=headers)
    body = {  # a full one: every item rated, a suggestion
        "overall": 4,
        "items": [{"question_id": q, "rating": 4} for q in items],
        "suggestion": "希望工会多组织职工文体活动。",
        "return_visit": False,
    }
    with CaptureQueriesContext(connection) as submit:
        response = client.post(
            f"/api/v1/campaigns/{campaign.pk}/evaluation",
            data=json.dumps(body),
            content_type="application/json",
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        )
    print()
    print(f"SQL statements: GET {TRIVIAL_PATH} {len(trivial)}, submission {len(submit)}")
    if response.status_code != 201:
        print(f"  (the counted submission answered {response.status_code})")
    for n, query in enumerate(submit.captured_queries, start=1):
        print(f"  {n:>2}. {query['time']:>6}s  {query['sql'][:150]}")


# ---------------------------------------------------------------- main


def print_phase(phase: Phase) -> None:
    print(
        f"{phase.name:<34} {phase.requests:>8,} {phase.errors:>7} {phase.per_second:>8.1f} "
        f"{phase.percentile(0.50):>8.1f} {phase.percentile(0.95):>8.1f} "
        f"{phase.percentile(0.99):>8.1f}"
    )


def main() -> None:
    args = parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if args.database in {"pingyi", "postgres"}:
        raise SystemExit(f"refusing to recreate the database {args.database}")
    # This process and gunicorn must share the keys: members are encrypted here.
    env = production_env(args)
    for name in ("SECRET_KEY", "PINGYI_FIELD_KEYS", "PINGYI_LOOKUP_KEY"):
        os.environ[name] = env[name]
    with scratch_database(args):
        from django.core.management import call_command

        from evaluations import counters
        from evaluations.models import Evaluation

        env["PINGYI_VAR_DIR"] = os.environ["PINGYI_VAR_DIR"]  # the scratch directory
        call_command("migrate", verbosity=0)
        began = time.perf_counter()
        campaign, tokens = build(args)
        spare = tokens[args.members - 2 :] if args.queries else []
        tokens = tokens[: args.members - len(spare)]
        print(
            f"{len(tokens):,} members with tokens built in {time.perf_counter() - began:.1f} s; "
            f"gunicorn {args.workers} × {args.worker_class}"
            + (f" ({args.threads} threads)" if args.worker_class == "gthread" else "")
            + f", {args.concurrency} client threads, PostgreSQL database {args.database}"
        )
        from django.db import connections

        connections.close_all()  # gunicorn's workers open their own
        port = free_port()
        server = start_gunicorn(args, env, port)
        try:
            items, _form = questionnaire_ids(port, campaign.pk, tokens[0])
            form_path = f"/api/v1/campaigns/{campaign.pk}/questionnaire"
            warm = run_phase(
                "warm-up: GET questionnaire",
                port,
                [("GET", form_path, t, None, "") for t in tokens],
                args.concurrency,
                {200},
            )
            trivial_jobs = [("GET", TRIVIAL_PATH, t, None, "") for t in tokens]
            if args.trivial_requests:
                trivial_jobs = [
                    trivial_jobs[i % len(trivial_jobs)] for i in range(args.trivial_requests)
                ]
            rng = random.Random(args.seed)
            submit_path = f"/api/v1/campaigns/{campaign.pk}/evaluation"
            submit_jobs = [
                ("POST", submit_path, t, evaluation_body(rng, items), uuid.uuid4().hex)
                for t in tokens
            ]
            # Phases alternate in rounds, so that a machine's other load weighs on both alike.
            trivial, submit = Phase(f"(a) GET {TRIVIAL_PATH}"), Phase("(b) POST evaluation")
            seconds = args.trivial_seconds / args.rounds if args.trivial_seconds else None
            for r in range(args.rounds):
                trivial.add(
                    run_phase(
                        trivial.name,
                        port,
                        trivial_jobs[r :: args.rounds],
                        args.concurrency,
                        {200},
                        seconds=seconds,
                    )
                )
                submit.add(
                    run_phase(
                        submit.name, port, submit_jobs[r :: args.rounds], args.concurrency, {201}
                    )
                )
        finally:
            server_log = stop_gunicorn(server, env)

        if server_log.strip():
            print("gunicorn wrote:\n" + server_log[-3000:])
        print()
        print(
            f"{'phase':<34} {'requests':>8} {'errors':>7} {'req/s':>8} "
            f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        )
        for phase in (warm, trivial, submit):
            print_phase(phase)
            if phase.errors:
                print(f"{'':<34} statuses: {dict(sorted(phase.statuses.items()))}")
        print()
        print(
            f"evaluations/s ÷ trivial req/s: {submit.per_second / trivial.per_second:.2f}    "
            f"trivial p95 ÷ evaluation p95: "
            f"{trivial.percentile(0.95) / submit.percentile(0.95):.2f}"
        )

        accepted = submit.statuses.get(201, 0)
        stored = Evaluation.objects.filter(campaign=campaign)
        distinct = stored.values("member").distinct().count()
        drift = counters.recount(campaign)
        print(
            f"stored evaluations {stored.count():,} for {accepted:,} accepted submissions; "
            f"{distinct:,} members; counters "
            + ("equal a recount" if not drift else f"DIFFER on {len(drift)} rows")
        )
        failed = stored.count() != accepted or distinct != stored.count() or drift
        if args.queries:
            count_queries(campaign, spare[0], spare[1], items)
        if failed:
            raise SystemExit("the database does not match the accepted submissions")


if __name__ == "__main__":
    main()
