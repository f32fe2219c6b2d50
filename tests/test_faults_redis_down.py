"""Redis down: members still log in, open the form and submit; jobs still start.

The cache points at a port where no Redis listens (as when Redis has stopped). Before
pingyi.cache.DegradingRedisCache, the login page's rate-limit counters raised ConnectionError
there and the member saw a server error.
"""

import re
import threading
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.urls import reverse
from kombu.exceptions import OperationalError

from evaluations.forms_h5 import TOKEN_FIELD
from evaluations.models import Evaluation
from pingyi import jobs

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "pingyi.cache.DegradingRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def test_the_cache_answers_as_a_miss_while_redis_is_down(redis_down, caplog):
    assert cache.get("anything", "default") == "default"
    assert cache.add("k", 0, 60) is False
    with pytest.raises(ValueError):
        cache.incr("k")
    cache.set("k", 1, 60)
    assert cache.get("k") is None
    assert "Redis 缓存不可用" in caplog.text


def test_a_member_logs_in_opens_the_form_and_submits_while_redis_is_down(
    redis_down, evaluators, client, sms_outbox
):
    w = evaluators
    assert "会员登录" in client.get("/m/login/").content.decode()
    html = client.post("/m/login/", {"phone": "13905141234", "send_code": "1"}).content.decode()
    assert "验证码已发送至" in html
    code = re.search(r"\d{6}", sms_outbox[-1].message).group()
    response = client.post("/m/login/", {"phone": "13905141234", "code": code})
    assert response.status_code == 302 and response.url == reverse("members:home")
    assert "李华" in client.get(reverse("members:home")).content.decode()

    form_url = reverse("members:evaluate", args=[w.open_campaign.pk])
    html = client.get(form_url).content.decode()
    token = re.search(rf'name="{TOKEN_FIELD}" value="([^"]+)"', html).group(1)
    response = client.post(form_url, {TOKEN_FIELD: token, "overall": "5"})
    assert response.status_code == 302
    evaluation = Evaluation.objects.get()
    assert (evaluation.member, evaluation.overall) == (w.li, 5)
    assert client.get(response.url).status_code == 200


def test_a_member_logs_in_and_submits_through_the_api_while_redis_is_down(
    redis_down, evaluators, client, sms_outbox
):
    w = evaluators
    sent = client.post(
        "/api/v1/members/codes",
        {"phone": "13805140001", "purpose": "login"},
        content_type="application/json",
    )
    assert sent.status_code == 200, sent.content
    code = re.search(r"\d{6}", sms_outbox[-1].message).group()
    session = client.post(
        "/api/v1/members/login",
        {"phone": "13805140001", "code": code},
        content_type="application/json",
    )
    assert session.status_code == 200, session.content
    auth = {"Authorization": f"Bearer {session.json()['token']}"}
    submitted = client.post(
        f"/api/v1/campaigns/{w.open_campaign.pk}/evaluation",
        {"overall": 4, "items": [], "suggestion": "", "return_visit": False},
        content_type="application/json",
        headers={**auth, "Idempotency-Key": "redis-down-1"},
    )
    assert submitted.status_code == 201, submitted.content
    assert Evaluation.objects.get().member == w.zhao


def test_a_job_runs_in_process_when_the_broker_is_down(settings, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    ran = threading.Event()

    def delay(*args):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    task = SimpleNamespace(name="reports.build_bulletin", delay=delay)
    task.apply = lambda args: ran.set() if args == (7,) else None
    jobs.start(task, 7)
    assert ran.wait(10), "the job did not run"
    assert "消息队列不可用，后台任务 reports.build_bulletin 改在本进程内运行" in caplog.text


@pytest.mark.redis
def test_with_redis_up_the_cache_counts_as_redis_does():
    import redis

    from pingyi.cache import DegradingRedisCache

    url = "redis://127.0.0.1:6379/13"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis does not answer at 127.0.0.1:6379")
    shared = DegradingRedisCache(url, {})
    shared.delete("faults:count")
    assert shared.add("faults:count", 0, 60) is True
    assert shared.incr("faults:count") == 1
    assert shared.get("faults:count") == 1
    shared.delete("faults:count")
