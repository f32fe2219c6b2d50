"""Production settings pass Django's deployment checklist and refuse to start without a key."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"


def _production_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """A clean production environment: no DATABASE_URL, so SQLite under a scratch var dir."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(var_dir)),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "DJANGO_DEBUG": "0",
        "ALLOWED_HOSTS": "pingyi.example.org",
        "PINGYI_VAR_DIR": str(var_dir),
    }
    env.update(extra)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(MANAGE), *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path):
    env = _production_env(tmp_path, SECRET_KEY=secrets.token_urlsafe(64), **_member_keys())

    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS:" not in output
    assert "ERRORS:" not in output


def _member_keys() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "PINGYI_FIELD_KEYS": Fernet.generate_key().decode(),
        "PINGYI_LOOKUP_KEY": secrets.token_urlsafe(32),
    }


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = _manage("check", env=_production_env(tmp_path, **_member_keys()))

    assert result.returncode != 0
    assert "生产环境必须设置 SECRET_KEY 环境变量" in result.stderr


def test_production_without_personal_data_keys_refuses_to_start(tmp_path):
    env = _production_env(tmp_path, SECRET_KEY=secrets.token_urlsafe(64))

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "PINGYI_FIELD_KEYS" in result.stderr


def _production_shell(tmp_path, code: str) -> list[str]:
    """What `code` prints when run by `manage.py shell` under the production settings."""
    env = _production_env(tmp_path, SECRET_KEY=secrets.token_urlsafe(64), **_member_keys())
    result = _manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


SECURE_SETTINGS = {
    "SESSION_COOKIE_SECURE": "True",
    "CSRF_COOKIE_SECURE": "True",
    "SESSION_COOKIE_HTTPONLY": "True",
    "SECURE_SSL_REDIRECT": "True",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
    "SECURE_PROXY_SSL_HEADER": "('HTTP_X_FORWARDED_PROTO', 'https')",
    "DEBUG": "False",
}


def test_production_cookies_are_secure_and_https_is_enforced(tmp_path):
    code = "from django.conf import settings as s; " + "; ".join(
        f"print('{name}', repr(s.{name}))" for name in SECURE_SETTINGS
    )

    lines = _production_shell(tmp_path, code)

    assert dict(line.split(" ", 1) for line in lines) == SECURE_SETTINGS


def test_production_answers_plain_http_with_a_redirect_and_https_with_hsts(tmp_path):
    """Through the real production settings (a test client in a subprocess, static files
    collected): a plain-HTTP request is sent to HTTPS; behind the proxy's X-Forwarded-Proto the
    page carries HSTS and the security headers, and its CSRF cookie is Secure."""
    code = (
        "from django.core.management import call_command; "
        "call_command('collectstatic', interactive=False, verbosity=0); "
        "from django.test import Client; c = Client(HTTP_HOST='pingyi.example.org'); "
        "r = c.get('/accounts/login/'); print('plain', r.status_code, r['Location']); "
        "r = c.get('/accounts/login/', HTTP_X_FORWARDED_PROTO='https'); "
        "print('https', r.status_code); "
        "print('hsts', r['Strict-Transport-Security']); "
        "print('csp', 'Content-Security-Policy' in r.headers); "
        "print('cookie', r.cookies['csrftoken']['secure'])"
    )

    lines = _production_shell(tmp_path, code)

    assert lines == [
        "plain 301 https://pingyi.example.org/accounts/login/",
        "https 200",
        "hsts max-age=31536000; includeSubDomains",
        "csp True",
        "cookie True",
    ]
