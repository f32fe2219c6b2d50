"""What only the production backends can show: PostgreSQL's plans and Redis' shared counters.

Each test is marked and skipped, with its reason, where its server is not the one in use;
`make test` runs the PostgreSQL pass with DATABASE_URL set, and Redis runs on every machine here.
"""

import pytest
import redis
from django.core.cache.backends.redis import RedisCache
from django.db import connection

from accounts import throttle
from orgs.models import Org
from orgs.selectors import within

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_subtree_is_an_index_range_scan_on_postgresql(world):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs in make test's PostgreSQL pass (DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a tiny table would be scanned anyway
        plan = Org.objects.filter(within(world.town)).explain()
        cursor.execute("RESET enable_seqscan")
    assert "Index" in plan and "orgs_org_path" in plan, plan
    names = set(Org.objects.filter(within(world.town)).values_list("name", flat=True))
    assert names == {"真州镇", "真州镇中心小学工会", "真州镇卫生院工会"}


@pytest.mark.redis
def test_login_failures_are_counted_in_redis_across_app_servers(settings, monkeypatch):
    if not _redis_answers():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    shared = RedisCache(REDIS_URL, {})
    shared.clear()
    monkeypatch.setattr(throttle, "cache", shared)
    for _attempt in range(throttle.MAX_FAILURES):
        throttle.record_failure(username="Town_Admin", address="203.0.113.9")
    # Another app server, with its own connection, sees the same count.
    monkeypatch.setattr(throttle, "cache", RedisCache(REDIS_URL, {}))
    assert throttle.is_locked(username="town_admin", address="")
    throttle.clear_failures(username="town_admin")
    assert not throttle.is_locked(username="town_admin", address="")
    shared.clear()
