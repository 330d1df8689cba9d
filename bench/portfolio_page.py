"""The portfolio dashboard, served from change-map snapshots, against a bare "hello" view.

Two datasets: the demo supplier (`seed_demo`: 25 accounts, ~490 people, 12 waves, every wave's
snapshots computed) in a scratch SQLite database, and `bench.dataset` (2,000 accounts, 50,000
people, 12 waves of snapshots) on PostgreSQL. Both pages are requested through Django's test
client as an executive (who sees every account), so middleware, sessions and templates are
included and the network is not. The floor is a view that returns "hello" through the same
middleware stack. Target (issue 6/10): the portfolio serves at least 0.05× the hello view's
rate (≤ 20× its time) with a query count that does not grow with the number of accounts.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import Result, dataset

ROOT = Path(__file__).resolve().parent.parent
RUNS = 30
LARGE_RUNS = 5  # a large page takes seconds


def _measure(data: str) -> dict:
    """Runs inside the child process, with DATABASE_URL pointing at the dataset's database."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.http import HttpResponse
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import include, path

    import bench
    from accounts.models import User
    from bench import dataset

    runs = RUNS
    if data == "large":
        dataset.load()
        executive, runs = dataset.EXECUTIVE, LARGE_RUNS
    else:
        call_command("migrate", verbosity=0)
        call_command("seed_demo", verbosity=0)
        executive = "exec@example.com"

    def hello(request):
        return HttpResponse("hello")

    module = type(sys)("bench_urls")
    module.urlpatterns = [path("bench-hello/", hello), path("", include("config.urls"))]
    sys.modules["bench_urls"] = module
    with override_settings(ROOT_URLCONF="bench_urls", ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.force_login(User.objects.get(email=executive))

        def portfolio():
            return client.get("/portfolio/")

        def floor():
            return client.get("/bench-hello/")

        for page in (portfolio, floor):
            if page().status_code != 200:
                raise SystemExit(f"{page.__name__} did not answer 200")

        with CaptureQueriesContext(connection) as queries:
            body = portfolio().content
        return {
            "queries": len(queries),
            "runs": runs,
            "portfolio": bench.median_seconds(portfolio, runs=runs),
            "floor": bench.median_seconds(floor, runs=RUNS),
            "peak": bench.peak_bytes(portfolio),
            "bytes": len(body),
        }


def _run_child(data: str) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        if data == "large":
            env = dataset.bench_env(dataset.create_database(), folder)
        else:
            env = dataset.bench_env(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", folder)
        child = subprocess.run(
            [sys.executable, "-m", "bench.portfolio_page", "measure", data],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
    if child.returncode:
        raise RuntimeError(f"bench.portfolio_page {data} failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def run() -> list[Result]:
    results = []
    cases = [("demo", "demo data, 25 accounts, SQLite")]
    if dataset.postgres_available():
        cases.append(("large", "2,000 accounts, 50,000 people, PostgreSQL"))
    for data, label in cases:
        figures = _run_child(data)
        rate = figures["floor"] / figures["portfolio"]
        verdict = "holds" if rate >= 0.05 else "not met"
        results.append(
            Result(
                name=f"Portfolio dashboard ({label}, executive)",
                median_seconds=figures["portfolio"],
                floor_name='bare Django "hello" view, same middleware',
                floor_seconds=figures["floor"],
                peak_bytes=figures["peak"],
                runs=figures["runs"],
                note=(
                    f"{rate:.3f}× the hello view's rate (target ≥ 0.05×): {verdict}; "
                    f"{figures['queries']} queries (constant: asserted in tests); "
                    f"{figures['bytes'] // 1024} KB page; in-process test client; figures are "
                    "plain dicts (plotly validation, once 60% of the time, is gone); what is "
                    "left is pandas shaping, template rendering of the tables and the "
                    "selectors (see docs/scaling.md)"
                ),
            )
        )
    return results


if __name__ == "__main__" and sys.argv[1] == "measure":
    print(json.dumps(_measure(sys.argv[2])))
