"""The SMS backends: console (masked phone), the HTTP gateway against a local fake, locmem."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from members.sms import HttpGatewayBackend, Sms, SmsError, send_sms


class FakeGateway:
    """A local HTTP server standing in for the provider: records requests, answers `status`."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                gateway.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length).decode()),
                    }
                )
                self.send_response(gateway.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    fake = FakeGateway()
    settings.PINGYI_SMS_BACKEND = "members.sms.HttpGatewayBackend"
    settings.PINGYI_SMS_GATEWAY_URL = fake.url
    settings.PINGYI_SMS_GATEWAY_KEY = "gateway-secret"
    settings.PINGYI_SMS_SIGN = "仪征市总工会"
    settings.PINGYI_SMS_TIMEOUT = 2
    yield fake
    fake.close()


def test_gateway_receives_json_with_the_key_and_sign(gateway):
    send_sms(phone="13905141234", message="您的登录验证码是 123456")
    (request,) = gateway.requests
    assert request["path"] == "/send"
    assert request["headers"]["Authorization"] == "Bearer gateway-secret"
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert request["body"] == {
        "phone": "13905141234",
        "message": "您的登录验证码是 123456",
        "sign": "仪征市总工会",
    }


@pytest.mark.parametrize("status", [400, 500, 503])
def test_gateway_refusal_raises_a_friendly_error(gateway, status, caplog):
    gateway.status = status
    with pytest.raises(SmsError, match="短信发送失败，请稍后再试"):
        send_sms(phone="13905141234", message="x")
    assert str(status) in caplog.text and "13905141234" not in caplog.text


def test_unreachable_gateway_raises_a_friendly_error(gateway, settings, caplog):
    gateway.close()
    with pytest.raises(SmsError, match="短信网关无法连接，请稍后再试"):
        send_sms(phone="13905141234", message="x")
    assert "13905141234" not in caplog.text


def test_gateway_without_an_address_says_it_is_not_configured(settings):
    settings.PINGYI_SMS_GATEWAY_URL = ""
    with pytest.raises(SmsError, match="短信服务尚未配置"):
        HttpGatewayBackend().send(Sms(phone="13905141234", message="x"))


def test_console_backend_prints_the_phone_masked(settings, capsys):
    settings.PINGYI_SMS_BACKEND = "members.sms.ConsoleBackend"
    send_sms(phone="13905141234", message="您的注册验证码是 654321")
    out = capsys.readouterr().out
    assert "139****1234" in out and "654321" in out
    assert "13905141234" not in out


def test_locmem_backend_keeps_messages(sms_outbox):
    send_sms(phone="13905141234", message="hello")
    assert [(s.phone, s.message) for s in sms_outbox] == [("13905141234", "hello")]
