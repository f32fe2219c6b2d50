"""A deadline rush (locust): members log in by SMS and submit while admins read the progress.

The last days of a campaign: members open the app, log in with an SMS code, open their
campaign, fetch the questionnaire and submit, some twice, while admins follow the progress of
the city, a town and a union and download it as .xlsx. Against gunicorn on PostgreSQL as
production runs them (evaluation_http.py's server start-up and world, imported: a city → 4
towns → --unions unions, a campaign open now, --members registered members), in a database of
its own (`pingyi_bench_rush` on the server of DATABASE_URL, dropped afterwards unless --keep).

Locust runs as a library (headless, --users simulated users spawned at --spawn-rate a second,
for --duration seconds); 1 in 20 users is an admin (--admin-share).

  member  POST /api/v1/members/codes           the login code, sent through the SMS gateway:
                                               gunicorn's HttpGatewayBackend posts it to a
                                               stand-in gateway in this process, where the
                                               "phone" reads it
          POST /api/v1/members/login           the code → a bearer token (each member logs in
                                               once, as a phone does after installing the app)
          GET  /api/v1/me/campaigns            the campaign to do
          GET  /api/v1/campaigns/{id}/questionnaire
          POST /api/v1/campaigns/{id}/evaluation  once with an Idempotency-Key; --double-tap of
                                               the members send it twice at once with the same
                                               key; --retry send it without a key, then again
                                               without one (a retry after a lost answer)
          then the user takes the next member: one journey per member
  admin   GET + POST /accounts/login/          once per simulated admin (session and CSRF)
          GET  /console/progress/{org}/        the city, a town and a union (as far as the
                                               admin's role reaches), then the top one's .xlsx

Members pause up to --think seconds between steps (reading, filling in); admins 1–3 s between
rounds. Then it prints requests, failures, req/s and p50/p95/p99 per request type and overall,
failures by type, the submissions accepted, and CHECKS: no 5xx and no transport error, every
accepted submission stored exactly once (one evaluation per member; as many evaluations as
members answered 201; a repeat answered with the stored evaluation), the evaluation counters and
the registration counters equal to a recount. It exits non-zero when a check fails.

    .venv/bin/python benchmarks/deadline_rush.py
    .venv/bin/python benchmarks/deadline_rush.py --users 20 --duration 20 --members 1000
"""
# ruff: noqa: E402  (gevent patches the standard library before anything opens a socket)

from gevent import monkey

monkey.patch_all()

import argparse
import itertools
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field

import gevent
from _scratch import scratch_database
from evaluation_http import (
    ROOT_DIR,
    build,
    evaluation_body,
    free_port,
    production_env,
    start_gunicorn,
    stop_gunicorn,
)
from gevent.pywsgi import WSGIServer
from locust import FastHttpUser, between, constant, task
from locust.env import Environment
from locust.exception import StopUser

ADMIN_PASSWORD = "rush-" + uuid.uuid4().hex[:12]
CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=6000, help="registered members")
    parser.add_argument("--users", type=int, default=120, help="simulated users at once")
    parser.add_argument("--spawn-rate", type=float, default=20, help="users started a second")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load")
    parser.add_argument(
        "--think", type=float, default=1.0, help="a member's pause between steps: 0..THINK s"
    )
    parser.add_argument("--admin-share", type=float, default=0.05, help="share of admin users")
    parser.add_argument(
        "--double-tap", type=float, default=0.1, help="share of members who submit twice at once"
    )
    parser.add_argument(
        "--retry", type=float, default=0.1, help="share who submit, then retry, without a key"
    )
    # gunicorn as evaluation_http.py runs it (sync × 2: see the README for why)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--unions", type=int, default=40, help="grassroots unions")
    parser.add_argument("--database", default="pingyi_bench_rush", help="on DATABASE_URL's server")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    args = parser.parse_args()
    if args.database in {"pingyi", "postgres"}:
        parser.error(f"refusing to recreate the database {args.database}")
    args.postgres = True
    return args


# ---------------------------------------------------------------- the world


def add_admins(campaign) -> list[tuple[str, list[int]]]:
    """Admins at the city, two towns and two unions: (username, orgs whose progress they read).

    Each reads its own org and, below it, the first town and union it reaches.
    """
    from accounts.models import Role, RoleKind, User
    from orgs.models import Org, OrgKind

    city = campaign.org
    towns = list(Org.objects.filter(kind=OrgKind.TOWN).order_by("path")[:2])
    unions = [
        Org.objects.filter(kind=OrgKind.GRASSROOTS, path__startswith=t.path)
        .order_by("path")
        .first()
        for t in towns
    ]
    posts = [
        ("rush-city", RoleKind.FEDERATION_ADMIN, city, [city, towns[0], unions[0]]),
        ("rush-town-1", RoleKind.UNIT_ADMIN, towns[0], [towns[0], unions[0]]),
        ("rush-town-2", RoleKind.UNIT_ADMIN, towns[1], [towns[1], unions[1]]),
        ("rush-union-1", RoleKind.GRASSROOTS_ADMIN, unions[0], [unions[0]]),
        ("rush-union-2", RoleKind.GRASSROOTS_ADMIN, unions[1], [unions[1]]),
    ]
    admins = []
    for username, kind, org, reads in posts:
        user = User.objects.create_user(username=username, password=ADMIN_PASSWORD)
        Role.objects.create(user=user, org=org, kind=kind)
        admins.append((username, [o.pk for o in reads]))
    return admins


def members_by_phone(phones: list[str]) -> dict[str, int]:
    """The member id of each phone (through the keyed hash, as login finds them)."""
    from members import crypto
    from members.models import Member

    by_hash = dict(Member.objects.values_list("phone_hash", "pk"))
    return {phone: by_hash[crypto.lookup_hash("phone", phone)] for phone in phones}


# ---------------------------------------------------------------- the SMS gateway


class Gateway:
    """The SMS gateway as HttpGatewayBackend calls it; the phone it "sends" to reads the code."""

    def __init__(self):
        self.codes: dict[str, str] = {}
        self.server = WSGIServer(("127.0.0.1", free_port()), self.app, log=None, error_log=None)

    def app(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        sms = json.loads(environ["wsgi.input"].read(length) or b"{}")
        found = CODE.search(sms.get("message", ""))
        if found:
            self.codes[sms.get("phone", "")] = found.group(1)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"ok": true}']

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/send"


# ---------------------------------------------------------------- the users


@dataclass
class Journey:
    """One member's way through: what each submission answered."""

    phone: str
    variant: str  # once / double tap / retry
    answers: list[tuple[int, bool | None, int | None]] = field(default_factory=list)
    # (status, created, evaluation id) of each POST evaluation


class Rush:
    """What the users share: the members still to come, the gateway, what happened."""

    args: argparse.Namespace
    gateway: Gateway
    phones: deque
    admins: list[tuple[str, list[int]]]
    admin_turn = itertools.count()
    campaign_id: int
    journeys: list[Journey] = []
    statuses: Counter = Counter()  # (name, status) → requests; 0: no answer
    ran_out: bool = False


def address_of(n: int) -> str:
    # Forwarded-for values from 198.18.0.0/15 (set aside for benchmarks): each phone its own
    # network address, as on the street, so the per-address limits count per member.
    return f"198.{18 + n // 62500}.{n // 250 % 250}.{n % 250 + 1}"


class MemberUser(FastHttpUser):
    weight = 19
    wait_time = constant(0)  # the pauses are inside the journey
    concurrency = 4  # a double tap needs two requests in flight

    def pause(self):
        if Rush.args.think:
            gevent.sleep(random.uniform(0, Rush.args.think))

    def call(self, method, path, name, *, token="", address="", body=None, key="", ok=(200,)):
        headers = {
            "X-Forwarded-Proto": "https",  # the TLS-terminating proxy's word
            "X-Forwarded-For": address,
            "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0) pingyi-app/1.0",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if key:
            headers["Idempotency-Key"] = key
        with self.client.request(
            method, path, name=name, headers=headers, json=body, catch_response=True
        ) as response:
            if response.status_code in ok:
                response.success()
                try:
                    return response.status_code, response.json()
                except ValueError:
                    return response.status_code, {}
            response.failure(f"{response.status_code}: {(response.text or '')[:120]}")
            return response.status_code, None

    @task
    def journey(self):
        try:
            n, phone = Rush.phones.popleft()
        except IndexError:
            Rush.ran_out = True
            raise StopUser() from None
        address = address_of(n)
        roll = random.random()
        variant = (
            "double tap"
            if roll < Rush.args.double_tap
            else "retry, no key"
            if roll < Rush.args.double_tap + Rush.args.retry
            else "once"
        )
        journey = Journey(phone, variant)
        Rush.journeys.append(journey)

        status, _sent = self.call(
            "POST",
            "/api/v1/members/codes",
            "POST /members/codes",
            address=address,
            body={"phone": phone, "purpose": "login"},
        )
        code = Rush.gateway.codes.pop(phone, None)
        if status != 200 or code is None:
            return
        self.pause()
        status, session = self.call(
            "POST",
            "/api/v1/members/login",
            "POST /members/login",
            address=address,
            body={"phone": phone, "code": code},
        )
        if not session:
            return
        token = session["token"]
        status, campaigns = self.call(
            "GET", "/api/v1/me/campaigns", "GET /me/campaigns", token=token, address=address
        )
        to_do = [c for c in campaigns or [] if c["to_do"]]
        if not to_do:
            return
        campaign_id = to_do[0]["id"]
        self.pause()
        status, form = self.call(
            "GET",
            f"/api/v1/campaigns/{campaign_id}/questionnaire",
            "GET /campaigns/{id}/questionnaire",
            token=token,
            address=address,
        )
        if not form:
            return
        body = evaluation_body(random, [item["id"] for item in form["items"]])
        self.pause()
        path = f"/api/v1/campaigns/{campaign_id}/evaluation"

        def submit(name, key):
            status, done = self.call(
                "POST", path, name, token=token, address=address, body=body, key=key, ok=(201, 200)
            )
            if done:
                journey.answers.append((status, done["created"], done["evaluation"]["id"]))
            else:
                journey.answers.append((status, None, None))

        if variant == "double tap":
            key = uuid.uuid4().hex
            taps = [gevent.spawn(submit, "POST evaluation (double tap)", key) for _ in range(2)]
            gevent.joinall(taps)
        elif variant == "retry, no key":
            submit("POST evaluation (no key)", "")
            submit("POST evaluation (retry, no key)", "")
        else:
            submit("POST evaluation", uuid.uuid4().hex)


class AdminUser(FastHttpUser):
    weight = 1
    wait_time = between(1, 3)

    def on_start(self):
        # In turn, the city's admin first: every run reads the city's page.
        self.username, self.reads = Rush.admins[next(Rush.admin_turn) % len(Rush.admins)]
        self.cookies: dict[str, str] = {}
        page = self.get("/accounts/login/", "GET /accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page or "")
        with self.client.post(
            "/accounts/login/",
            name="POST /accounts/login/",
            data=(
                f"username={self.username}&password={ADMIN_PASSWORD}"
                f"&csrfmiddlewaretoken={token.group(1) if token else ''}"
            ),
            headers={
                **self.headers(),
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"https://{self.host_name}/accounts/login/",
            },
            allow_redirects=False,
            catch_response=True,
        ) as response:
            self.keep_cookies(response)
            if response.status_code == 302 and "sessionid" in self.cookies:
                response.success()
            else:
                response.failure(f"login answered {response.status_code}")
                raise StopUser()

    @property
    def host_name(self) -> str:
        return self.host.split("://", 1)[1]

    def headers(self) -> dict[str, str]:
        return {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "198.19.255.1",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }

    def keep_cookies(self, response) -> None:
        # The cookies are Secure (https behind the proxy): the client would not send them back
        # over plain http to gunicorn, so they are kept here.
        for name, value in response.headers.items():
            if name.lower() == "set-cookie":
                for cookie in value.split("\n"):
                    pair = cookie.split(";", 1)[0]
                    key, _, val = pair.partition("=")
                    self.cookies[key.strip()] = val.strip()

    def get(self, path: str, name: str, *, binary: bool = False):
        with self.client.get(
            path, name=name, headers=self.headers(), catch_response=True
        ) as response:
            self.keep_cookies(response)
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return None
            return response.content if binary else response.text

    @task
    def follow_progress(self):
        query = f"?campaign={Rush.campaign_id}"
        levels = ["city", "town", "union"][-len(self.reads) :]
        for org_id, level in zip(self.reads, levels, strict=True):
            self.get(f"/console/progress/{org_id}/{query}", f"GET progress ({level})")
        self.get(
            f"/console/progress/{self.reads[0]}/xlsx/{query}", "GET progress .xlsx", binary=True
        )


# ---------------------------------------------------------------- the run


def run_load(args: argparse.Namespace, port: int) -> tuple[Environment, float]:
    MemberUser.weight = round((1 - args.admin_share) * 100)
    AdminUser.weight = round(args.admin_share * 100)
    env = Environment(
        user_classes=[MemberUser, AdminUser],
        host=f"http://127.0.0.1:{port}",
        stop_timeout=60,  # a journey under way ends before the users stop: no answer is lost
    )

    def on_request(name, response, exception, **_kwargs):
        Rush.statuses[(name, getattr(response, "status_code", 0) or 0)] += 1

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    cpu = time.process_time()
    began = time.perf_counter()
    runner.start(args.users, spawn_rate=args.spawn_rate)
    gevent.spawn_later(args.duration, runner.stop)
    while runner.state not in ("stopped", "stopping") or runner.user_count:
        gevent.sleep(0.5)
        if time.perf_counter() - began > args.duration + 90:
            break
    elapsed = time.perf_counter() - began
    runner.quit()
    # Locust shares the 2 cores with gunicorn and PostgreSQL: how much it took of them.
    print(
        f"load: {elapsed:.1f} s; locust (this process) used {time.process_time() - cpu:.1f} s "
        f"of CPU; load average after it {os.getloadavg()[0]:.1f}"
    )
    return env, elapsed


def report(env: Environment, elapsed: float) -> None:
    stats = env.stats
    print()
    print(
        f"{'request':<38} {'requests':>8} {'failed':>7} {'req/s':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    entries = sorted(stats.entries.values(), key=lambda e: e.name)
    for entry in [*entries, stats.total]:
        name = "all requests" if entry is stats.total else entry.name
        print(
            f"{name:<38} {entry.num_requests:>8,} {entry.num_failures:>7} "
            f"{entry.num_requests / elapsed:>7.1f} "
            f"{entry.get_response_time_percentile(0.50):>7.0f} "
            f"{entry.get_response_time_percentile(0.95):>7.0f} "
            f"{entry.get_response_time_percentile(0.99):>7.0f}"
        )
    if stats.errors:
        print("\nfailures by type:")
        for error in sorted(stats.errors.values(), key=lambda e: -e.occurrences):
            print(f"  {error.occurrences:>6} × {error.name}: {str(error.error)[:140]}")


def check(campaign, elapsed: float, stats_total) -> list[str]:
    """What must hold after the rush; returns the failed checks (printed as a table)."""
    from django.db.models import Count

    from evaluations import counters
    from evaluations.models import Evaluation
    from members.counters import recount_registrations

    journeys = [j for j in Rush.journeys if j.answers]
    member_of = members_by_phone([j.phone for j in journeys])
    accepted = {eid: j for j in journeys for status, _c, eid in j.answers if status == 201}
    repeats = [(j, eid) for j in journeys for status, created, eid in j.answers if status == 200]
    stored = dict(Evaluation.objects.filter(campaign=campaign).values_list("pk", "member_id"))
    doubled = (
        Evaluation.objects.filter(campaign=campaign)
        .values("member")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    members_201 = {j.phone for j in accepted.values()}
    wrong_member = [eid for eid, j in accepted.items() if stored.get(eid) != member_of[j.phone]]
    bad_repeats = [
        eid
        for j, eid in repeats
        if stored.get(eid) != member_of[j.phone]
        or any(created for status, created, _e in j.answers if status == 200)
    ]
    server_errors = sum(n for (_name, s), n in Rush.statuses.items() if s >= 500)
    no_answer = sum(n for (_name, s), n in Rush.statuses.items() if s == 0)
    drift = counters.recount(campaign)
    registration_drift = recount_registrations()
    by_variant = Counter(j.variant for j in journeys)
    print()
    print(
        f"members who submitted: {len(journeys):,} ("
        + ", ".join(f"{v} {n:,}" for v, n in sorted(by_variant.items()))
        + f"); accepted (201) {len(accepted):,}, repeats answered 200 {len(repeats):,}; "
        f"{len(accepted) / elapsed:.1f} evaluations/s"
    )
    failed = stats_total.num_failures
    rows = [
        ("no request failed", failed == 0, f"{failed} failed (see failures by type)"),
        ("no 5xx answer", server_errors == 0, f"{server_errors} answers ≥ 500"),
        ("no request without an answer", no_answer == 0, f"{no_answer} without an answer"),
        (
            "every submission answered 201 or 200",
            all(s in (200, 201) for j in journeys for s, _c, _e in j.answers),
            f"{sum(1 for j in journeys for s, _c, _e in j.answers if s not in (200, 201))} other",
        ),
        (
            "evaluations stored = members answered 201",
            len(stored) == len(accepted) == len(members_201),
            f"{len(stored):,} stored, {len(accepted):,} ids answered 201, "
            f"{len(members_201):,} members",
        ),
        ("each 201 is stored, for its member", not wrong_member, f"{len(wrong_member)} not"),
        ("one evaluation per member", doubled == 0, f"{doubled} members with more than one"),
        (
            "a repeat answers the stored one (created false)",
            not bad_repeats,
            f"{len(bad_repeats)} of {len(repeats)} not",
        ),
        ("evaluation counters = recount", not drift, f"{len(drift)} rows differ"),
        (
            "registration counters = recount",
            not registration_drift,
            f"{len(registration_drift)} rows differ",
        ),
    ]
    print()
    print(f"{'check':<50} {'':<5} detail")
    for name, ok, detail in rows:
        print(f"{name:<50} {'ok' if ok else 'FAIL':<5} {detail}")
    return [name for name, ok, _detail in rows if not ok]


def main() -> None:
    args = parse_args()
    Rush.args = args
    env = production_env(args)
    # Members are encrypted and their phones hashed here, and read by gunicorn: the same keys.
    os.environ.update({k: env[k] for k in ("SECRET_KEY", "PINGYI_FIELD_KEYS", "PINGYI_LOOKUP_KEY")})
    with scratch_database(args):
        from django.core.management import call_command
        from django.db import connections

        from members.counters import rebuild_registration_counts

        env["PINGYI_VAR_DIR"] = os.environ["PINGYI_VAR_DIR"]
        call_command("migrate", verbosity=0)
        began = time.perf_counter()
        campaign, _tokens = build(args)  # the tokens stay unused: members log in by SMS here
        # build() loads registered members in bulk, past the registration counters.
        rebuild_registration_counts()
        Rush.admins = add_admins(campaign)
        Rush.campaign_id = campaign.pk
        phones = [(n, f"1700{n:07d}") for n in range(args.members)]
        random.Random(args.seed).shuffle(phones)
        Rush.phones = deque(phones)
        print(
            f"{args.members:,} registered members, {len(Rush.admins)} admins built in "
            f"{time.perf_counter() - began:.1f} s; gunicorn {args.workers} × {args.worker_class}"
            + (f" ({args.threads} threads)" if args.worker_class == "gthread" else "")
            + f"; {args.users} users (1 in {round(1 / args.admin_share)} an admin) spawned "
            f"{args.spawn_rate:g}/s for {args.duration:g} s, think ≤ {args.think:g} s; "
            f"PostgreSQL database {args.database}"
        )
        Rush.gateway = Gateway()
        Rush.gateway.server.start()
        env.update(
            PINGYI_SMS_BACKEND="members.sms.HttpGatewayBackend",
            PINGYI_SMS_GATEWAY_URL=Rush.gateway.url,
            PINGYI_SMS_GATEWAY_KEY="bench",
            NO_PROXY="127.0.0.1,localhost",
        )
        # DJANGO_DEBUG=0 serves static files from the hashed manifest (the console's CSS).
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT_DIR,
            env={**os.environ, **env},
            check=True,
        )
        connections.close_all()  # gunicorn's workers open their own
        port = free_port()
        server = start_gunicorn(args, env, port)
        try:
            load, elapsed = run_load(args, port)
        finally:
            server_log = stop_gunicorn(server, env)
            Rush.gateway.server.stop()
        errors = [line for line in server_log.splitlines() if "Error" in line or "Trace" in line]
        if errors:
            print("gunicorn wrote errors:\n" + "\n".join(errors[-20:]))
        report(load, elapsed)
        if Rush.ran_out:
            print("\n(the members ran out before the end: raise --members)")
        failed = check(campaign, elapsed, load.stats.total)
        if failed:
            raise SystemExit("failed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
