"""`make stack`: the production stack on this machine, smoke-tested over HTTP.

PostgreSQL and Redis as they run here; a scratch database pingyi_stack (dropped after unless
--keep); gunicorn (2 sync workers, DJANGO_DEBUG=0), a Celery worker and Celery beat on Redis
database 7. Then, over HTTP: an admin logs in (CSRF), a member asks for an SMS code and logs in
with it (the code read from gunicorn's log: the console SMS backend), submits an evaluation
through the API, the admin sees it counted on the progress page, presses 生成通报 and the
bulletin is built by the Celery worker. Prints each step with its time; exits 1 on a failure.

    .venv/bin/python scripts/stack.py [--keep] [--redis-url redis://127.0.0.1:6379/7]
"""

import argparse
import json
import re
import sys
import time
import uuid
from datetime import timedelta

import _stack
from _stack import Browser, Failed, Servers, Steps, check


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    _stack.add_arguments(parser, database="pingyi_stack", redis_db=7)
    return parser.parse_args()


def smoke(args, env, steps: Steps) -> None:
    with steps.step("world: 1 federation, 4 towns, unions, members, an admin") as note:
        campaign, _tokens, password = _stack.build_world(args)
        note.detail = f"{args.unions} unions, {args.members} members, campaign #{campaign.pk}"
    with steps.step("manage.py collectstatic; check --deploy") as note:
        _stack.manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        report = _stack.manage(env, "check", "--deploy")
        note.detail = report.strip().splitlines()[-1][:80] if report.strip() else ""
    servers = Servers(args, env)
    try:
        with steps.step("gunicorn (sync workers, DJANGO_DEBUG=0) answers") as note:
            servers.start_gunicorn()
            note.detail = f"{args.workers} workers on {servers.base()}"
        with steps.step("Celery worker ready") as note:
            servers.start_worker()
            note.detail = f"broker {args.redis_url}"
        with steps.step("Celery beat started"):
            servers.start_beat()

        with steps.step("admin logs in (CSRF, session cookie)"):
            admin = _stack.admin_login(servers.base(), password)
            status, _h, body = admin.get("/console/")
            check(status == 200, f"/console/ answered {status}")

        with steps.step("member logs in by SMS code (API)") as note:
            status, _h, body = Browser(servers.base()).get("/m/login/")
            check(status == 200 and "会员登录" in body, f"/m/login/ answered {status}")
            token = _stack.member_api_login(servers, _stack.member_phone(0))
            note.detail = "code read from gunicorn's log"

        with steps.step("member submits an evaluation (API) → 201") as note:
            member = Browser(servers.base())
            auth = {"Authorization": f"Bearer {token}"}
            status, _h, body = member.get(f"/api/v1/campaigns/{campaign.pk}/questionnaire", auth)
            check(status == 200, f"questionnaire answered {status}: {body[:200]}")
            items = [item["id"] for item in json.loads(body)["items"]]
            answer = {
                "overall": 5,
                "items": [{"question_id": q, "rating": 5} for q in items],
                "suggestion": "希望多组织职工文体活动。",
                "return_visit": False,
            }
            status, _h, body = member.post_json(
                f"/api/v1/campaigns/{campaign.pk}/evaluation",
                answer,
                {**auth, "Idempotency-Key": uuid.uuid4().hex},
            )
            check(status == 201, f"submission answered {status}: {body[:300]}")
            note.detail = f"{len(items)} items rated"

        with steps.step("admin sees it on the progress page (已评议 = 1)") as note:
            evaluated = _stack.evaluated_on_progress_page(admin, campaign.org_id)
            check(evaluated == 1, f"已评议 shows {evaluated}, not 1")
            note.detail = f"/console/progress/{campaign.org_id}/ 已评议 {evaluated}"

        with steps.step("admin presses 生成通报; the Celery worker publishes it") as note:
            bulletin_id, seconds = build_bulletin(admin, servers, campaign)
            note.detail = f"bulletin #{bulletin_id} published {seconds:.1f} s after the press"
    except Exception:
        if servers.gunicorn is not None:
            print("gunicorn's log (end):\n" + servers.gunicorn_log()[-2000:])
        raise
    finally:
        with steps.step("servers stopped"):
            servers.stop()


def build_bulletin(admin: Browser, servers: Servers, campaign) -> tuple[int, float]:
    from django.utils import timezone

    from reports.models import Bulletin, BulletinStatus

    status, _h, body = admin.get("/console/bulletins/")
    check(status == 200, f"/console/bulletins/ answered {status}")
    yesterday = timezone.localdate() - timedelta(days=1)
    pressed = time.monotonic()
    status, headers, body = admin.post_form(
        "/console/bulletins/build/",
        {"target": f"{campaign.pk}:{campaign.org_id}", "until": yesterday.isoformat()},
    )
    check(status == 302, f"生成通报 answered {status}: {body[:300]}")
    found = re.search(r"/console/bulletins/(\d+)/", headers.get("Location", ""))
    check(found is not None, f"生成通报 went to {headers.get('Location')}")
    bulletin_id = int(found.group(1))

    def published():
        status, _h, _body = admin.get(f"/console/bulletins/{bulletin_id}/")
        check(status == 200, f"the bulletin's page answered {status}")
        record = Bulletin.objects.get(pk=bulletin_id)
        check(record.status != BulletinStatus.FAILED, f"the build failed: {record.error}")
        return record.status == BulletinStatus.PUBLISHED

    _stack.wait_until(published, 60, "the bulletin published")
    seconds = time.monotonic() - pressed
    log = servers.worker_log()
    check(
        re.search(r"Task reports\.build_bulletin\[[^\]]+\] succeeded", log) is not None,
        "the Celery worker's log does not show reports.build_bulletin succeeded",
    )
    return bulletin_id, seconds


def main() -> None:
    args = parse_args()
    steps = Steps()
    began = time.perf_counter()
    print(f"pingyi stack on this machine: PostgreSQL database {args.database}, {args.redis_url}")
    failed = False
    try:
        with _stack.scratch_stack(args) as env:
            smoke(args, env, steps)
    except (Failed, SystemExit, Exception) as exc:  # every failure ends in the summary
        failed = True
        if not steps.done or steps.done[-1].ok:
            print(f"  ✗ {type(exc).__name__}: {exc}")
    print()
    print(steps.summary())
    print(f"\n{'FAILED' if failed else 'OK'} in {time.perf_counter() - began:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
