"""`make faults`: the production stack (scripts/_stack.py) through three faults, then checked.

(c) Redis down: a gunicorn whose REDIS_URL points at a port where nothing listens; a member
    logs in by SMS code on the H5 pages, opens the form, submits; another submits by the API;
    an admin presses 生成通报 (the job falls back to a thread of the web process).
(b) A Celery worker killed (SIGKILL) mid-import: first its pool process (the job goes back on
    the queue and runs again), then the whole worker while a bulletin waits in the queue (a new
    worker picks both up after Redis's visibility timeout). The roster is all or nothing, the
    bulletin is shown only once published.
(a) PostgreSQL restarted (`pg_ctlcluster 15 main restart`) while --threads clients submit
    evaluations over HTTP and a roster import runs: requests fail cleanly, the app recovers
    without restarting gunicorn, every accepted evaluation is stored exactly once, the counters
    equal a recount, the import is done or failed and never half-applied.

A summary table ends the run; exit status 1 on any failed check. (a) restarts the machine's
PostgreSQL: it refuses while benchmarks/progress_scale.py runs (--scenarios b,c skips it).

    .venv/bin/python scripts/faults.py [--scenarios a,b,c] [--threads 8] [--members 3000]
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import _stack
from _stack import Browser, Failed, Servers, check

DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there
VISIBILITY_TIMEOUT = 20  # seconds: a vanished worker's job is handed out again after this


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _stack.add_arguments(parser, database="pingyi_faults", redis_db=8)
    parser.set_defaults(members=3000, unions=12)
    parser.add_argument("--scenarios", default="a,b,c", help="which of a, b, c to run")
    parser.add_argument("--threads", type=int, default=8, help="client threads under (a)")
    parser.add_argument("--rows", type=int, default=40000, help="rows of each roster import")
    parser.add_argument(
        "--no-restart",
        action="store_true",
        help="(a) terminates the scratch database's connections instead of restarting PostgreSQL",
    )
    return parser.parse_args()


@dataclass
class Outcome:
    scenario: str
    done: str
    ok: int = 0
    failed: int = 0
    checks: list[tuple[str, bool]] = field(default_factory=list)
    figures: str = ""

    def check(self, what: str, passed: bool) -> bool:
        self.checks.append((what, bool(passed)))
        print(f"    {'✓' if passed else '✗'} {what}", flush=True)
        return passed

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(p for _w, p in self.checks)


# ---------------------------------------------------------------- shared pieces


def roster_csv(rows: list[list[str]]) -> bytes:
    from roster_import import csv_file  # benchmarks/roster_import.py

    return csv_file(rows)


def all_roster_rows(args, count: int) -> list[list[str]]:
    from roster_import import roster_rows  # benchmarks/roster_import.py

    from orgs.models import Org, OrgKind

    unions = list(Org.objects.filter(kind=OrgKind.GRASSROOTS).order_by("pk"))
    return roster_rows(SimpleNamespace(rows=count, seed=args.seed), unions)


def queue_import(root, rows: list[list[str]], name: str):
    """A confirmed roster import queued for the Celery worker, as the confirm page does."""
    from members.roster_import import file_sha256, start_roster_import, upload_stash
    from members.tasks import import_roster

    data = roster_csv(rows)
    record = start_roster_import(
        parent=root, filename=name, sha256=file_sha256(data), keep_valid=False, rows_total=len(rows)
    )
    token = upload_stash.stash(data=data, filename=name)
    import_roster.delay(record.pk, token)
    return record


def import_progress(record) -> int:
    from django.core.cache import cache

    from members.roster_import import progress_key

    done = cache.get(progress_key(record.pk))
    return done[0] if done else 0


def members_with_phones(rows: list[list[str]]) -> int:
    """How many of these rows' members are in the database (by the phone lookup hash)."""
    from members import crypto
    from members.models import Member

    hashes = [crypto.lookup_hash("phone", row[3]) for row in rows]
    return sum(
        Member.objects.filter(phone_hash__in=hashes[i : i + 5000]).count()
        for i in range(0, len(hashes), 5000)
    )


def wait_import_ends(record, seconds: float):
    from members.models import ImportStatus

    def ended():
        record.refresh_from_db()
        return record.status != ImportStatus.RUNNING

    _stack.wait_until(ended, seconds, f"import #{record.pk} to end", every=0.5)
    return record


def pool_children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def evaluation_body(items: list[int], n: int) -> dict:
    overall = 5 - n % 3
    return {
        "overall": overall,
        "items": [{"question_id": q, "rating": overall} for q in items[: n % 4]],
        "suggestion": "希望多关心一线职工。" if n % 5 == 0 else "",
        "return_visit": False,
    }


def questionnaire_items(servers: Servers, campaign_id: int, token: str) -> list[int]:
    status, _h, body = Browser(servers.base()).get(
        f"/api/v1/campaigns/{campaign_id}/questionnaire", {"Authorization": f"Bearer {token}"}
    )
    check(status == 200, f"questionnaire answered {status}")
    return [item["id"] for item in json.loads(body)["items"]]


def submit(host: str, campaign_id: int, token: str, body: dict, key: str) -> int:
    try:
        status, _h, _b = Browser(host, timeout=30).post_json(
            f"/api/v1/campaigns/{campaign_id}/evaluation",
            body,
            {"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        )
    except (OSError, Exception):
        return 0  # refused, reset or timed out: counted as a failure, never a hang
    return status


# ---------------------------------------------------------------- (c) Redis down


def redis_down(args, env, campaign, tokens, password) -> Outcome:
    from evaluations.forms_h5 import TOKEN_FIELD
    from evaluations.models import Evaluation
    from reports.models import Bulletin, BulletinStatus

    out = Outcome("(c) Redis down", f"gunicorn with REDIS_URL={DEAD_REDIS} (broker and cache)")
    servers = Servers(args, {**env, "REDIS_URL": DEAD_REDIS})
    statuses: list[int] = []

    def seen(status: int, expected: set[int]) -> bool:
        statuses.append(status)
        if status in expected:
            out.ok += 1
        else:
            out.failed += 1
        return status in expected

    try:
        servers.start_gunicorn()
        member = Browser(servers.base())
        phone = _stack.member_phone(1)
        status, _h, body = member.get("/m/login/")
        out.check("login page /m/login/ answers 200", seen(status, {200}) and "会员登录" in body)
        status, _h, body = member.post_form("/m/login/", {"phone": phone, "send_code": "1"})
        out.check("SMS code sent (H5)", seen(status, {200}) and "验证码已发送至" in body)
        code = _stack.sms_code(servers, phone)
        status, _h, _b = member.post_form("/m/login/", {"phone": phone, "code": code})
        out.check("member logged in (H5) → /m/", seen(status, {302}))
        for path in ("/m/", "/m/history/", "/m/help/", "/m/campaigns/?all=1"):
            status, _h, _b = member.get(path)
            out.check(f"{path} answers 200", seen(status, {200}))
        form = f"/m/campaigns/{campaign.pk}/"
        status, _h, body = member.get(form)
        found = re.search(rf'name="{TOKEN_FIELD}" value="([^"]+)"', body)
        out.check("the evaluation form answers 200", seen(status, {200}) and found is not None)
        status, _headers, _b = member.post_form(
            form, {TOKEN_FIELD: found.group(1) if found else "", "overall": "4"}
        )
        out.check("the form's submission → 302 to the stored evaluation", seen(status, {302}))
        items = questionnaire_items(servers, campaign.pk, tokens[2])
        status = submit(servers.base(), campaign.pk, tokens[2], evaluation_body(items, 2), "c-2")
        out.check("a submission through the API → 201", seen(status, {201}))
        out.check(
            "both evaluations stored", Evaluation.objects.filter(campaign=campaign).count() == 2
        )

        admin = _stack.admin_login(servers.base(), password)
        out.ok += 2
        until = (_today() - timedelta(days=1)).isoformat()
        status, _h, _b = admin.post_form(
            "/console/bulletins/build/",
            {"target": f"{campaign.pk}:{campaign.org_id}", "until": until},
        )
        seen(status, {302})
        bulletin = Bulletin.objects.order_by("-pk").first()
        published = bulletin is not None and _stack.wait_until(
            lambda: Bulletin.objects.filter(
                pk=bulletin.pk, status=BulletinStatus.PUBLISHED
            ).exists(),
            60,
            "the bulletin published",
        )
        out.check("生成通报 with the broker down: built on a thread, published", published)
        log = servers.gunicorn_log()
        out.check("the log says the queue was down", "消息队列不可用" in log)
        out.check("the log says the cache was down", "Redis 缓存不可用" in log)
        out.check("no server error (500) answered", 500 not in statuses)
        # The bulletin is built again under (b): this one is the first issue of the cut-off.
        Bulletin.objects.all().delete()
    finally:
        servers.stop()
    out.figures = f"{out.ok} requests ok, {out.failed} failed"
    return out


def _today():
    from django.utils import timezone

    return timezone.localdate()


# ---------------------------------------------------------------- (b) a worker killed


def worker_killed(args, env, campaign, password, rows) -> Outcome:
    from members.models import ImportStatus
    from reports.models import Bulletin, BulletinStatus

    out = Outcome("(b) Celery worker SIGKILLed", "")
    servers = Servers(args, {**env, "PINGYI_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT)})
    half = len(rows) // 2
    first, second = rows[:half], rows[half:]
    try:
        servers.start_gunicorn()
        worker = servers.start_worker()

        # 1. The pool process killed mid-import: the job goes back on the queue at once.
        record = queue_import(campaign.org, first, "名册-甲.csv")
        _stack.wait_until(lambda: import_progress(record) > 0, 120, "the import writing rows")
        children = pool_children(worker.pid)
        check(bool(children), "the worker has no pool process")
        written = import_progress(record)
        os.kill(children[0], signal.SIGKILL)
        killed_at = time.monotonic()
        out.check(
            f"pool process killed at {written:,}/{len(first):,} rows: none of them in the database",
            members_with_phones(first) == 0,
        )
        wait_import_ends(record, 300)
        retried = time.monotonic() - killed_at
        out.check(
            f"the import ran again on a new pool process and is done ({retried:.0f} s later)",
            record.status == ImportStatus.DONE,
        )
        out.check(
            f"all {len(first):,} rows in once (not twice, not half)",
            members_with_phones(first) == len(first) and record.rows_done == len(first),
        )

        # 2. The whole worker killed mid-import, a bulletin queued while no worker runs.
        record2 = queue_import(campaign.org, second, "名册-乙.csv")
        _stack.wait_until(lambda: import_progress(record2) > 0, 120, "the second import writing")
        written2 = import_progress(record2)
        _stack.stop_group(worker, sig=signal.SIGKILL)
        killed_at = time.monotonic()
        out.check(
            f"whole worker killed at {written2:,}/{len(second):,} rows: none in the database",
            members_with_phones(second) == 0,
        )
        record2.refresh_from_db()
        out.check(
            "its record says 导入中 (running), no figures", record2.status == ImportStatus.RUNNING
        )
        admin = _stack.admin_login(servers.base(), password)
        until = (_today() - timedelta(days=1)).isoformat()
        status, _h, _b = admin.post_form(
            "/console/bulletins/build/",
            {"target": f"{campaign.pk}:{campaign.org_id}", "until": until},
        )
        check(status == 302, f"生成通报 answered {status}")
        bulletin = Bulletin.objects.order_by("-pk").first()
        _status, headers, body = admin.get(f"/console/bulletins/{bulletin.pk}/")
        out.ok += 3
        out.check(
            "the queued bulletin's page shows it building, with no table",
            bulletin.status == BulletinStatus.BUILDING
            and headers.get("Refresh") == "2"
            and 'id="bulletin-table"' not in body,
        )
        servers.start_worker()
        wait_import_ends(record2, VISIBILITY_TIMEOUT * 3 + 300)
        redone = time.monotonic() - killed_at
        out.check(
            f"a new worker ran the import again after the visibility timeout ({redone:.0f} s)",
            record2.status == ImportStatus.DONE,
        )
        out.check(
            f"all {len(second):,} rows in once",
            members_with_phones(second) == len(second) and record2.rows_done == len(second),
        )
        published = _stack.wait_until(
            lambda: Bulletin.objects.filter(
                pk=bulletin.pk, status=BulletinStatus.PUBLISHED
            ).exists(),
            120,
            "the bulletin published",
        )
        _s, _h, body = admin.get(f"/console/bulletins/{bulletin.pk}/")
        out.check(
            "the bulletin published by the new worker, its table shown",
            published and 'id="bulletin-table"' in body,
        )
        out.figures = (
            f"pool kill at {written:,} rows → redone in {retried:.0f} s; "
            f"worker kill at {written2:,} rows → redone in {redone:.0f} s"
        )
        out.done = (
            f"2 imports of {half:,} rows; SIGKILL the pool process, then the whole worker "
            f"(visibility timeout {VISIBILITY_TIMEOUT} s), a bulletin queued meanwhile"
        )
    finally:
        servers.stop()
    return out


# ---------------------------------------------------------------- (a) PostgreSQL restarted


class _NoRestart(Exception):
    pass


def cut_connections(database: str) -> None:
    """What a restart does to one database only: every connection to it is terminated."""
    import psycopg
    from _stack import http_bench

    server = http_bench.pg_url("postgres")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        )


def progress_benchmark_running() -> bool:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return any("progress_scale" in line and "ps -eo" not in line for line in ps.splitlines())


def postgres_restarted(args, env, campaign, tokens, rows) -> Outcome:
    from evaluations import counters
    from evaluations.models import Evaluation
    from members.models import ImportStatus

    out = Outcome("(a) PostgreSQL restarted under load", "")
    if progress_benchmark_running() and not args.no_restart:
        raise Failed("benchmarks/progress_scale.py is running: not restarting PostgreSQL now")
    servers = Servers(args, env)
    load_tokens = tokens[10:]
    results: dict[int, tuple[int, float, float]] = {}  # member index → (status, began, ended)
    lock = threading.Lock()
    try:
        servers.start_gunicorn()
        servers.start_worker()
        gunicorn_pid = servers.gunicorn.pid
        items = questionnaire_items(servers, campaign.pk, load_tokens[0])
        keys = {n: uuid.uuid4().hex for n in range(len(load_tokens))}
        began_all = time.monotonic()

        def client(share: list[int]) -> None:
            for n in share:
                began = time.monotonic()
                status = submit(
                    servers.base(), campaign.pk, load_tokens[n], evaluation_body(items, n), keys[n]
                )
                with lock:
                    results[n] = (status, began - began_all, time.monotonic() - began_all)

        indices = list(range(len(load_tokens)))
        threads = [
            threading.Thread(target=client, args=(indices[i :: args.threads],))
            for i in range(args.threads)
        ]
        for thread in threads:
            thread.start()
        time.sleep(4)
        record = queue_import(campaign.org, rows, "名册-丙.csv")
        _stack.wait_until(lambda: import_progress(record) > 0, 120, "the import writing rows")
        written = import_progress(record)
        restart_began = time.monotonic() - began_all
        try:
            if args.no_restart:
                cut_connections(args.database)
                raise _NoRestart
            done = subprocess.run(
                ["pg_ctlcluster", "15", "main", "restart"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            check(done.returncode == 0, f"pg_ctlcluster restart: {done.stderr[-500:]}")
        except _NoRestart:
            pass
        finally:
            # Whatever happened, PostgreSQL is left running (CI runs on this machine).
            status = subprocess.run(["pg_ctlcluster", "15", "main", "status"], capture_output=True)
            if status.returncode != 0:
                subprocess.run(["pg_ctlcluster", "15", "main", "start"], check=False)
        restart_ended = time.monotonic() - began_all
        from django.db import connections

        connections.close_all()  # this process's own connection died with the restart
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began_all

        statuses: dict[int, int] = {}
        for status, _b, _e in results.values():
            statuses[status] = statuses.get(status, 0) + 1
        failures = [n for n, (s, _b, _e) in results.items() if s not in (200, 201)]
        out.ok, out.failed = len(results) - len(failures), len(failures)
        after = [(b, s) for s, b, _e in results.values() if b >= restart_ended and s == 201]
        recovered = min(b for b, _s in after) - restart_ended if after else None
        failed_spans = [results[n][1] for n in failures]
        print(
            f"    {len(results):,} submissions in {elapsed:.1f} s from {args.threads} threads; "
            f"statuses {dict(sorted(statuses.items()))}; restart {restart_began:.1f}–"
            f"{restart_ended:.1f} s; failures began {min(failed_spans, default=0):.1f}–"
            f"{max(failed_spans, default=0):.1f} s"
        )
        out.check(
            "failures only as 5xx or a refused connection, none hung (30 s timeout)",
            all(results[n][0] == 0 or results[n][0] >= 500 for n in failures)
            and max(e - b for _s, b, e in results.values()) < 30,
        )
        out.check(
            f"the app recovered by itself: a new submission accepted "
            f"{recovered if recovered is not None else float('nan'):.1f} s after the restart",
            recovered is not None and servers.gunicorn.poll() is None,
        )
        out.check("gunicorn not restarted (same master)", servers.gunicorn.pid == gunicorn_pid)

        accepted = {n for n, (s, _b, _e) in results.items() if s in (200, 201)}
        # (200: a member who had already evaluated under (c) is shown the stored one.)
        stored = Evaluation.objects.filter(campaign=campaign)
        by_member = set(stored.values_list("member__user__username", flat=True))
        # The world's members are bench-http-<n> in the order the tokens were shuffled: map
        # through the tokens' users.
        token_users = token_usernames(load_tokens)
        stored_accepted = sum(1 for n in accepted if token_users[n] in by_member)
        orphans = {token_users[n] for n in failures} & by_member
        out.check(
            f"every accepted submission stored exactly once "
            f"({stored_accepted:,}/{len(accepted):,})",
            stored_accepted == len(accepted)
            and stored.count() == len(set(stored.values_list("member_id", flat=True))),
        )
        # A failed request may have committed before its answer was lost: the client's retry
        # with the same Idempotency-Key must then be answered as a success, not stored twice.
        retried = {
            n: submit(
                servers.base(), campaign.pk, load_tokens[n], evaluation_body(items, n), keys[n]
            )
            for n in failures
        }
        out.check(
            f"the {len(failures)} failed ones retried with their Idempotency-Key: all accepted "
            f"({len(orphans)} had been stored before their answer was lost)",
            all(s in (200, 201) for s in retried.values()),
        )
        total = Evaluation.objects.filter(campaign=campaign).count()
        distinct = Evaluation.objects.filter(campaign=campaign).values("member").distinct().count()
        out.check(f"{total:,} evaluations for {distinct:,} members: none twice", total == distinct)
        drift = counters.recount(campaign)
        out.check("counters equal a recount (recount_evaluations: no drift)", not drift)

        try:
            wait_import_ends(record, 180)
        except Failed:
            record.refresh_from_db()  # still "running": reported below as a failed check
        in_db = members_with_phones(rows)
        out.check(
            f"the import (at {written:,}/{len(rows):,} rows when PostgreSQL went) ended "
            f"{record.status}: {in_db:,} rows in the database",
            (record.status == ImportStatus.DONE and in_db == len(rows))
            or (record.status == ImportStatus.FAILED and in_db == 0),
        )
        out.done = (
            f"{args.threads} threads × {len(load_tokens):,} API submissions, a {len(rows):,}-row "
            f"import; "
            + (
                "pg_terminate_backend of its database (--no-restart)"
                if args.no_restart
                else "pg_ctlcluster 15 main restart"
            )
            + f" ({restart_ended - restart_began:.1f} s)"
        )
        out.figures = (
            f"{len(results) / elapsed:.0f} req/s; {out.failed} failed during the restart "
            f"(requests begun {min(failed_spans, default=0):.1f}–{max(failed_spans, default=0):.1f}"
            f" s, restart {restart_began:.1f}–{restart_ended:.1f} s); "
            f"recovered {recovered if recovered is not None else float('nan'):.1f} s after it"
        )
    finally:
        servers.stop()
    return out


def token_usernames(tokens: list[str]) -> list[str]:
    from members.tokens import user_for_token

    return [user_for_token(token).username for token in tokens]


# ---------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    wanted = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    outcomes: list[Outcome] = []
    began = time.perf_counter()
    error = ""
    print(f"pingyi faults on this machine: PostgreSQL database {args.database}, {args.redis_url}")
    try:
        with _stack.scratch_stack(args) as env:
            campaign, tokens, password = _stack.build_world(args)
            _stack.manage(env, "collectstatic", "--noinput", "--verbosity", "0")
            rows = all_roster_rows(args, args.rows * 3)
            print(
                f"  world: {args.members:,} members, {args.unions} unions; rosters of {args.rows:,}"
            )
            plan = [
                ("c", lambda: redis_down(args, env, campaign, tokens, password)),
                ("b", lambda: worker_killed(args, env, campaign, password, rows[: args.rows * 2])),
                (
                    "a",
                    lambda: postgres_restarted(args, env, campaign, tokens, rows[args.rows * 2 :]),
                ),
            ]
            for key, run in plan:
                if key not in wanted:
                    continue
                print(f"\n== scenario ({key}) ==", flush=True)
                try:
                    outcomes.append(run())
                except Failed as exc:
                    failed = Outcome(f"({key})", "did not complete")
                    failed.check(str(exc)[:200], False)
                    outcomes.append(failed)
    except Exception as exc:  # the summary says what broke
        error = f"{type(exc).__name__}: {exc}"
        print(f"  ✗ {error}")
    print_summary(outcomes)
    passed = outcomes and all(o.passed for o in outcomes) and not error
    print(f"\n{'OK' if passed else 'FAILED'} in {time.perf_counter() - began:.0f} s")
    sys.exit(0 if passed else 1)


def print_summary(outcomes: list[Outcome]) -> None:
    print("\n" + "=" * 100)
    for o in outcomes:
        print(f"{'✓' if o.passed else '✗'} {o.scenario}")
        print(f"    done:     {o.done}")
        print(f"    requests: {o.ok} ok, {o.failed} failed   {o.figures}")
        for what, ok in o.checks:
            print(f"    {'✓' if ok else '✗'} {what}")


if __name__ == "__main__":
    main()
