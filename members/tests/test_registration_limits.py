"""How often codes may be asked for and tried: per phone, per address, and their expiry."""

import re
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from conftest import SHANGHAI, fake_id_number
from members import otp, registration
from members.models import OneTimeCode

pytestmark = pytest.mark.django_db


class Clock:
    """timezone.now() under the test's control (every caller, auto_now_add included)."""

    def __init__(self, monkeypatch, start: datetime):
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch, datetime(2022, 9, 20, 9, 0, tzinfo=SHANGHAI))


def code_in(sms) -> str:
    return re.search(r"\d{6}", sms.message).group()


def test_a_phone_waits_a_minute_between_codes(roster, clock, sms_outbox):
    issued = registration.send_code(phone="13905141234", purpose="register", address="10.0.0.1")
    assert issued.phone_masked == "139****1234" and issued.resend_after == 60
    clock.advance(seconds=20)
    with pytest.raises(otp.CodeRateLimited, match="请 40 秒后再获取") as refused:
        registration.send_code(phone="13905141234", purpose="register", address="10.0.0.1")
    assert refused.value.retry_after == 40
    clock.advance(seconds=40)
    registration.send_code(phone="13905141234", purpose="register", address="10.0.0.1")
    assert len(sms_outbox) == 2


def test_a_phone_gets_ten_codes_a_day(roster, clock, sms_outbox):
    for _ in range(10):
        registration.send_code(phone="13905141234", purpose="register")
        clock.advance(minutes=2)
    with pytest.raises(otp.CodeRateLimited, match="今天获取验证码的次数已达上限"):
        registration.send_code(phone="13905141234", purpose="register")
    clock.now = datetime(2022, 9, 21, 0, 0, 1, tzinfo=SHANGHAI)  # a new day in Shanghai
    registration.send_code(phone="13905141234", purpose="register")
    assert len(sms_outbox) == 11


def test_an_address_gets_twenty_codes_an_hour(roster, sms_outbox):
    for n in range(20):
        registration.send_code(phone=f"137000{n:05d}", purpose="register", address="10.0.0.2")
    with pytest.raises(otp.CodeRateLimited, match="当前网络获取验证码过于频繁"):
        registration.send_code(phone="13600000000", purpose="register", address="10.0.0.2")
    # Another address is not held up.
    registration.send_code(phone="13600000000", purpose="register", address="10.0.0.3")
    assert len(sms_outbox) == 21


def test_asking_login_codes_for_unregistered_phones_counts_against_the_address(roster):
    for n in range(20):
        with pytest.raises(registration.PhoneNotRegistered):
            registration.send_code(phone=f"137000{n:05d}", purpose="login", address="10.0.0.4")
    with pytest.raises(otp.CodeRateLimited):
        registration.send_code(phone="13905141234", purpose="login", address="10.0.0.4")


def test_the_page_says_how_long_to_wait(client, roster, sms_outbox):
    client.post("/m/register/", {"phone": "13905141234", "send_code": "1"})
    html = client.post("/m/register/", {"phone": "13905141234", "send_code": "1"}).content
    html = html.decode()
    assert "验证码发送过于频繁，请" in html and "秒后再获取" in html
    assert len(sms_outbox) == 1


def test_code_expires_after_five_minutes(roster, clock, sms_outbox):
    registration.send_code(phone="13905141234", purpose="register")
    code = code_in(sms_outbox[-1])
    clock.advance(minutes=4, seconds=59)
    otp.check_code(phone="13905141234", purpose="register", code=code)  # still good
    clock.advance(seconds=1)
    with pytest.raises(otp.CodeExpired, match="验证码已过期，请重新获取"):
        registration.register_member(
            name="李华", id_number=fake_id_number(1), phone="13905141234", code=code
        )


def test_expiry_follows_the_setting(roster, clock, sms_outbox, settings):
    settings.PINGYI_OTP_TTL_SECONDS = 600
    registration.send_code(phone="13905141234", purpose="register")
    assert "10 分钟内有效" in sms_outbox[-1].message
    clock.advance(minutes=9)
    otp.check_code(phone="13905141234", purpose="register", code=code_in(sms_outbox[-1]))


def test_only_the_newest_code_counts(roster, clock, sms_outbox):
    registration.send_code(phone="13905141234", purpose="register")
    first = code_in(sms_outbox[-1])
    clock.advance(minutes=1)
    registration.send_code(phone="13905141234", purpose="register")
    second = code_in(sms_outbox[-1])
    if first != second:
        with pytest.raises(otp.CodeWrong):
            otp.check_code(phone="13905141234", purpose="register", code=first)
    otp.check_code(phone="13905141234", purpose="register", code=second)


def test_a_register_code_does_not_log_in(roster, sms_outbox):
    registration.send_code(phone="13905141234", purpose="register")
    code = code_in(sms_outbox[-1])
    registration.register_member(
        name="李华", id_number=fake_id_number(1), phone="13905141234", code=code
    )
    with pytest.raises(otp.CodeMissing):
        registration.login_with_code(phone="13905141234", code=code)


def test_wrong_codes_from_one_address_are_limited_across_phones(roster, settings):
    settings.PINGYI_OTP_MAX_FAILURES_PER_ADDRESS = 3
    for n in range(3):
        with pytest.raises(otp.CodeError):
            otp.check_code(phone=f"137000{n:05d}", purpose="login", code="000000", address="10.9")
    with pytest.raises(otp.CodeRateLimited, match="尝试次数过多"):
        otp.check_code(phone="13905141234", purpose="login", code="000000", address="10.9")


def test_codes_are_stored_only_as_keyed_hashes(roster, sms_outbox):
    registration.send_code(phone="13905141234", purpose="register", address="10.0.0.9")
    code = code_in(sms_outbox[-1])
    record = OneTimeCode.objects.get()
    assert code not in record.code_hash and len(record.code_hash) == 64
    assert "13905141234" not in record.phone_hash
    assert record.address == "10.0.0.9"


def test_a_gateway_failure_does_not_hold_the_phone_up(roster, settings):
    settings.PINGYI_SMS_BACKEND = "members.sms.HttpGatewayBackend"
    settings.PINGYI_SMS_GATEWAY_URL = ""
    with pytest.raises(registration.SmsError, match="短信服务尚未配置"):
        registration.send_code(phone="13905141234", purpose="register")
    assert not OneTimeCode.objects.exists()
