"""Text messages to members' phones through a pluggable backend.

PINGYI_SMS_BACKEND names the backend class:
- members.sms.ConsoleBackend (the default): writes the message to the server's console with the
  phone masked, so a developer reads the one-time code there. Nothing is sent.
- members.sms.HttpGatewayBackend: POSTs JSON to an SMS gateway set up by PINGYI_SMS_GATEWAY_*.
- members.sms.LocmemBackend: keeps messages in `outbox` (tests).
"""

import json
import logging
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .identity import mask_mobile

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway did not accept the message; str() is the message for the member."""

    code = "sms_failed"
    field = None


@dataclass(frozen=True)
class Sms:
    phone: str
    message: str


class ConsoleBackend:
    def send(self, sms: Sms) -> None:
        # stdout, not the log: the phone is masked and the message (a code) expires in minutes.
        sys.stdout.write(f"[短信] {mask_mobile(sms.phone)}：{sms.message}\n")
        sys.stdout.flush()


class LocmemBackend:
    outbox: list[Sms] = []

    def send(self, sms: Sms) -> None:
        LocmemBackend.outbox.append(sms)


class HttpGatewayBackend:
    """A generic HTTP gateway: POST {"phone", "message", "sign"} with a bearer key.

    Most Chinese SMS providers offer such an endpoint or a small relay in front of their SDK.
    """

    def send(self, sms: Sms) -> None:
        if not settings.PINGYI_SMS_GATEWAY_URL:
            logger.error("PINGYI_SMS_GATEWAY_URL is not set")
            raise SmsError(_("短信服务尚未配置，请联系客服"))
        body = json.dumps(
            {"phone": sms.phone, "message": sms.message, "sign": settings.PINGYI_SMS_SIGN},
            ensure_ascii=False,
        ).encode()
        request = urllib.request.Request(
            settings.PINGYI_SMS_GATEWAY_URL,
            data=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {settings.PINGYI_SMS_GATEWAY_KEY}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.PINGYI_SMS_TIMEOUT) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            # urlopen raises for every status it does not follow (4xx, 5xx): the gateway answered.
            status = error.code
            error.close()
        except OSError as error:
            logger.warning("SMS gateway unreachable: %s", type(error).__name__)
            raise SmsError(_("短信网关无法连接，请稍后再试")) from error
        if not 200 <= status < 300:
            logger.warning("SMS gateway answered %s", status)
            raise SmsError(_("短信发送失败，请稍后再试"))


def get_backend():
    return import_string(settings.PINGYI_SMS_BACKEND)()


def send_sms(*, phone: str, message: str) -> None:
    """Send one message; raises SmsError when the gateway refuses."""
    get_backend().send(Sms(phone=phone, message=message))
