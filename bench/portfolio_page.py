"""The portfolio dashboard, served from change-map snapshots, against a bare "hello" view.

The data is the demo supplier (`seed_demo`: 25 accounts, ~490 people, 12 waves, every wave's
snapshots computed) in a scratch SQLite database; both pages are requested through Django's
test client as the demo executive, so middleware, sessions and templates are included and the
network is not. The floor is a view that returns "hello" through the same middleware stack.
Target (issue 6/10): the portfolio serves at least 0.05× the hello view's rate (≤ 20× its time)
with a query count that does not grow with the number of accounts.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import Result

ROOT = Path(__file__).resolve().parent.parent
RUNS = 30


def _measure() -> dict:
    """Runs inside the child process, with DATABASE_URL pointing at a scratch database."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.http import HttpResponse
    from django.test import Client, override_settings
    from django.urls import include, path

    import bench
    from accounts.models import User

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)

    def hello(request):
        return HttpResponse("hello")

    module = type(sys)("bench_urls")
    module.urlpatterns = [path("bench-hello/", hello), path("", include("config.urls"))]
    sys.modules["bench_urls"] = module
    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(User.objects.get(email="exec@example.com"))

        def portfolio():
            return client.get("/portfolio/")

        def floor():
            return client.get("/bench-hello/")

        for page in (portfolio, floor):
            if page().status_code != 200:
                raise SystemExit(f"{page.__name__} did not answer 200")

        body = portfolio().content
        return {
            "portfolio": bench.median_seconds(portfolio, runs=RUNS),
            "floor": bench.median_seconds(floor, runs=RUNS),
            "peak": bench.peak_bytes(portfolio),
            "bytes": len(body),
        }


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
            "REDIS_URL": "",
            "RAPPORT_VAR_DIR": folder,
            "RAPPORT_DOTENV": "0",
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get(
                "SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789"
            ),
            "STATIC_MANIFEST": "0",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "EMAIL_URL": "dummymail://",
        }
        child = subprocess.run(
            [sys.executable, "-m", "bench.portfolio_page", "measure"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    rate = figures["floor"] / figures["portfolio"]
    return [
        Result(
            name="Portfolio dashboard (demo data, executive)",
            median_seconds=figures["portfolio"],
            floor_name='bare Django "hello" view, same middleware',
            floor_seconds=figures["floor"],
            peak_bytes=figures["peak"],
            runs=RUNS,
            note=(
                f"{rate:.3f}× the hello view's rate (target ≥ 0.05×: not met; plotly figure validation dominates); "
                f"{figures['bytes'] // 1024} KB page; in-process test client, SQLite; "
                "query count constant (asserted in tests)"
            ),
        )
    ]


if __name__ == "__main__" and sys.argv[1:] == ["measure"]:
    print(json.dumps(_measure()))
