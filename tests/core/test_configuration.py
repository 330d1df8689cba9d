"""Settings from the environment, deploy checks, migrations and the compose file."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _run(args, **env):
    # Start from the real environment minus what the test settings pin (pytest-env).
    pinned = {
        "SECRET_KEY",
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",  # the browser fixture sets it for its own thread
    }
    base = {k: v for k, v in os.environ.items() if k not in pinned}
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY="9f3c1e7a0b6d4c28a5e1f0b7c3d9e2a6-a-real-production-secret-with-entropy",
        ALLOWED_HOSTS="rapport.example.com",
        STATIC_MANIFEST="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_missing_secret_key_in_production_fails_loudly():
    result = _run(["check"], DEBUG="0", RAPPORT_DOTENV="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_healthz_answers_without_login(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_pages_send_a_content_security_policy(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_docker_compose_file_is_valid():
    binary = shutil.which("docker-compose")
    if binary is None:
        if ON_CI:
            pytest.fail("docker-compose is missing; .ci/run installs Debian's docker-compose")
        pytest.skip("docker-compose not installed (apt-get install docker-compose)")
    env = {**os.environ, "SECRET_KEY": "compose-check"}
    run = {"cwd": ROOT, "capture_output": True, "text": True, "env": env}
    result = subprocess.run([binary, "-f", "docker-compose.yml", "config", "--quiet"], **run)
    assert result.returncode == 0, result.stderr
    services = subprocess.run(
        [binary, "-f", "docker-compose.yml", "config", "--services"], **run
    ).stdout.split()
    assert set(services) >= {"web", "worker", "beat", "postgres", "redis", "mail"}
