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
