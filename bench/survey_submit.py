"""Survey submit throughput: gunicorn on PostgreSQL, wrk on loopback, real answers by personal link.

A scratch database (`rapport_bench_web`, created and dropped here) holds one account, 20,000
contacts and an open wave of the default questionnaire with an invitation each. gunicorn runs
the production command (`config.wsgi`, 3 sync workers, no access log) with DEBUG off, Redis as
broker and cache, and `bench._web_settings`: the real settings plus the floor's URL and
**django-ratelimit switched off** (the survey allows 10 POSTs a minute per address, and every
request here comes from 127.0.0.1).

wrk POSTs complete, valid answers (score, ratings, choices, both open questions) to the survey
pages. Each round takes its own slice of the personal links, so every POST is a person's first
submit (the response, its answers, the acknowledgement and its receipt, the receipt published
to Redis), as most submits are; every answer must be the survey's redirect (302), counted by
the wrk script. Two measurements:

- **the POST alone** (the issue's target: ≥ 0.25× the floor's requests per second, p99 latency
  ≤ 3× the median);
- **a person's whole submit**: the POST and then the "thank you" page it redirects to (a GET
  that must answer 200 with that page), as a browser does; its rate counts submits (two
  requests each) against the same floor.

The floor is a bare Django view doing one INSERT, behind the same middleware (CSRF included)
and the same gunicorn, POSTed the same body. All run turn about, several rounds.
"""

import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from bench import Result, dataset

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "rapport_bench_web"
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/11")
PEOPLE = 20_000  # enough fresh links for every round at a few hundred POSTs a second
ROUNDS = 3
SECONDS = 8
CONNECTIONS = 8
WORKERS = 3  # as Dockerfile and docker-compose.yml run gunicorn
# 32 characters, as Django's CSRF cookie holds; a fixed value so that wrk can send it.
CSRF_SECRET = "BenchCsrfSecret0123456789abcdefg"  # noqa: S105 # nosec B105


def _setup(out: Path) -> None:
    """In a child process on the scratch database: the people, the wave, the links."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Account, Role, User
    from contacts.models import Contact
    from pulses.forms import SurveyForm
    from pulses.models import Invitation, Question, Wave
    from pulses.services.questionnaires import (
        questionnaire_ensure_default,
        questionnaire_version_for_sending,
    )

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_floor (id serial PRIMARY KEY, body text)")
    owner = User.objects.create(email="owner@bench.example.com", full_name="Bench Owner",
                                role=Role.ACCOUNT_MANAGER)  # fmt: skip
    account = Account.objects.create(name="Bench Account", owner=owner)
    contacts = Contact.objects.bulk_create(
        Contact(account=account, name=f"Person {i}", email=f"person{i}@client.example.com",
                owner=owner)
        for i in range(PEOPLE)
    )  # fmt: skip
    version = questionnaire_version_for_sending(questionnaire=questionnaire_ensure_default())
    now = timezone.now()
    wave = Wave.objects.create(name="Bench pulse", questionnaire_version=version,
                               opens_on=now.date(), closes_at=now + timezone.timedelta(days=7))  # fmt: skip
    invitations, tokens = [], []
    for contact in contacts:
        invitation = Invitation(wave=wave, contact=contact, signer=owner,
                                status=Invitation.Status.SENT, sent_at=now)  # fmt: skip
        tokens.append(invitation.issue_token())
        invitations.append(invitation)
    Invitation.objects.bulk_create(invitations)
    # A complete answer, as a person would give it: every question, in its own field names.
    form = SurveyForm(version=version, language="en")
    data = {"csrfmiddlewaretoken": CSRF_SECRET}
    for name, field in form.fields.items():
        if field.kind in Question.RANGES:
            data[name] = str(Question.RANGES[field.kind][1] - 2)
        elif field.kind == Question.Kind.SINGLE_CHOICE:
            data[name] = str(field.choices[0][0])
        else:
            data[name] = "The weekly calls keep us aligned; more notice before releases, please."
    out.write_text(json.dumps({"tokens": tokens, "body": urllib.parse.urlencode(data)}))


LUA = """
local paths = {%(paths)s}
local follow = %(follow)s
local counter = 0
local threads = {}
local pending = {}
wrk.method = "POST"
wrk.body = "%(body)s"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "csrftoken=%(secret)s"
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  bad = 0
  -- Each thread starts in its own half of this round's links.
  counter = id * math.floor(#paths / 2)
end
function request()
  -- A person's browser follows the redirect: GET the page before the next person's POST.
  local location = table.remove(pending)
  if location then
    return wrk.format("GET", location, {}, "")
  end
  counter = counter + 1
  return wrk.format("POST", paths[(counter %% #paths) + 1])
end
function response(status, headers, body)
  if status == 302 then
    if follow then table.insert(pending, headers["Location"]) end
  elseif status == 200 and follow then
    if not string.find(body, "state-icon-done", 1, true) then bad = bad + 1 end
  else
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("BAD %%d\\n", total))
end
"""

FLOOR_LUA = """
wrk.method = "POST"
wrk.path = "/bench-insert/"
wrk.body = "%(body)s"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "csrftoken=%(secret)s"
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  bad = 0
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("BAD %%d\\n", total))
end
"""

# The survey rounds: the POST alone, and a person's whole submit (POST, then the page).
MODES = {"post": False, "person": True}
QUERIES = (
    "a first submit runs 11 statements and one commit (was 15; 28 and three before that): the "
    "invitation with its wave, contact, account, signer and response in one query, then one "
    "transaction with the response, its answers (one INSERT), the previous score, the "
    "acknowledgement and its receipt (in a savepoint) and the change-map count. No longer "
    "queried: the questions of the wave's frozen questionnaire version (a per-process cache), "
    "the wave again (the one loaded with the invitation), the response before a first submit's "
    "INSERT (a rival's row makes the INSERT fail and the retry looks it up) and the webhook "
    "endpoints (remembered per process until one is saved or deleted: one Redis read of a "
    "stamp); the receipt goes to Redis over a pooled connection"
)
WHY_NOT = (
    "why not: the floor is one INSERT and one commit; a first submit still validates a "
    "7-question form and runs 11 statements through the ORM, and compiling them in Python is "
    "most of its CPU, on the same 2 cores as PostgreSQL, the 3 workers and wrk (cProfile of the "
    "view in one process: the invitation's six-table select_related ≈ 30 %, the "
    "acknowledgement with its previous-score query, savepoint and receipt ≈ 25 %, the response "
    "and its answers ≈ 20 %, the Celery publish of the receipt ≈ 10 %); what would: fewer and "
    "simpler statements in the acknowledgement (actions/services/acknowledgements.py: the "
    "previous score without a join, no savepoint, the receipt queued without Celery's message "
    "building), a narrower invitation query for the POST, and web workers on cores of their "
    "own. Past a few hundred submits/s the limit would be the one change-map row every submit "
    "updates: its lock is held through the commit's fsync (4 ms on this disk; four clients "
    "commit 390 times a second on one shared row, 880 on rows of their own), so submits commit "
    "one at a time; counting changes per worker or per shard would lift it"
)


def _slices(items: list, count: int) -> list[list]:
    size = len(items) // count
    return [items[n * size : (n + 1) * size] for n in range(count)]


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _wrk(script: Path, url: str) -> dict:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "30s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True, timeout=SECONDS * 10,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    quantiles = {
        int(q): float(v) * UNITS[u]
        for q, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    bad = int(re.search(r"BAD (\d+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if bad or errors or socket_errors:
        raise RuntimeError(f"wrk saw unexpected answers:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {"rate": rate, "p50": quantiles[50], "p99": quantiles[99], "requests": requests}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited: " + server.stderr.read().decode()[-2000:])
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz within a minute")


def _post(port: int, path: str, body: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", path, body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={CSRF_SECRET}",
    })  # fmt: skip
    return connection.getresponse().status


def _count(url: str, sql: str) -> tuple:
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute(sql).fetchone()


def run() -> list[Result]:
    if not dataset.postgres_available() or not shutil.which("wrk"):
        print("  skipped: needs PostgreSQL and wrk (apt-get install wrk)", flush=True)
        return []
    dataset.drop_database(DATABASE)
    url = dataset.create_database(DATABASE)
    server = None
    try:
        with tempfile.TemporaryDirectory() as folder:
            env = {**dataset.bench_env(url, folder), "REDIS_URL": REDIS,
                   "DJANGO_SETTINGS_MODULE": "bench._web_settings", "LOG_LEVEL": "WARNING"}  # fmt: skip
            links = Path(folder) / "links.json"
            subprocess.run(
                [sys.executable, "-m", "bench.survey_submit", "setup", str(links)],
                cwd=ROOT, env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            setup = json.loads(links.read_text())
            paths = [f"/p/{token}/" for token in setup["tokens"]]
            preflight, fresh = paths[0], paths[1:]
            # Every survey round gets links of its own: each POST is a first submit.
            slices = iter(_slices(fresh, len(MODES) * ROUNDS))
            scripts = {name: [] for name in ("floor", *MODES)}
            for number in range(ROUNDS):
                script = Path(folder) / f"floor-{number}.lua"
                script.write_text(FLOOR_LUA % {"body": setup["body"], "secret": CSRF_SECRET})
                scripts["floor"].append(script)
                for name, follow in MODES.items():
                    script = Path(folder) / f"{name}-{number}.lua"
                    script.write_text(LUA % {
                        "paths": ",".join(f'"{p}"' for p in next(slices)),
                        "follow": "true" if follow else "false",
                        "body": setup["body"], "secret": CSRF_SECRET,
                    })  # fmt: skip
                    scripts[name].append(script)
            port = _free_port()
            gunicorn = Path(sys.executable).with_name("gunicorn")
            server = subprocess.Popen(
                [str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(WORKERS)],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )  # fmt: skip
            _wait_for(port, server)
            for name, path in (("survey", preflight), ("floor", "/bench-insert/")):
                status = _post(port, path, setup["body"])
                if status != (302 if name == "survey" else 200):
                    raise RuntimeError(f"{name} preflight answered {status}")
            rounds = {name: [] for name in scripts}
            for number in range(ROUNDS):
                for name in scripts:
                    rounds[name].append(_wrk(scripts[name][number], f"http://127.0.0.1:{port}"))
            # POSTs: all of the POST-only rounds' requests, half of the others' (and the preflight).
            posted = 1 + sum(r["requests"] for r in rounds["post"])
            posted += sum(r["requests"] - r["requests"] // 2 for r in rounds["person"])
            # One snapshot: a POST still in flight commits its response and receipt together.
            answered, receipts = _count(
                url,
                "SELECT (SELECT count(*) FROM pulses_response), (SELECT count(*) FROM "
                "actions_acknowledgementemail WHERE kind = 'receipt')",
            )
            # A round faster than its slice wraps round and edits. wrk counts answered requests:
            # each connection may leave one POST in flight at the end of a round.
            in_flight = CONNECTIONS * ROUNDS * len(MODES)
            if not 0 < answered <= min(posted + in_flight, PEOPLE) or receipts != answered:
                raise RuntimeError(
                    f"{posted} survey POSTs, {answered} responses, {receipts} receipts stored"
                )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        dataset.drop_database(DATABASE)
        _flush_redis()

    def median(name, key):
        return statistics.median(r[key] for r in rounds[name])

    floor_rate = median("floor", "rate")
    rate, p50, p99 = median("post", "rate"), median("post", "p50"), median("post", "p99")
    share, tail = rate / floor_rate, p99 / p50
    # A person's submit is two requests (the POST, the thank-you page).
    submits = median("person", "rate") / 2
    person_share = submits / floor_rate
    rate_verdict = "holds" if share >= 0.25 else "not met"
    tail_verdict = "holds" if tail <= 3 else "not met"
    common = (
        f"{CONNECTIONS} connections, {SECONDS} s per round, every POST a first submit on a link "
        f"of its own ({answered:,} responses and receipts stored for {posted:,} POSTs); "
        "rate limiting off (RATELIMIT_ENABLE=False: one client address); times are per "
        "request or submit (1 / rate); peak memory not measured (separate processes)"
    )
    floor_name = "bare Django view doing one INSERT, same gunicorn and middleware"
    return [
        Result(
            name="Survey submit throughput: the POST (gunicorn ×3 on PostgreSQL, wrk on loopback)",
            median_seconds=1 / rate,
            floor_name=floor_name,
            floor_seconds=1 / floor_rate,
            peak_bytes=0,
            runs=ROUNDS,
            note=(
                f"{rate:.0f} vs {floor_rate:.0f} requests/s = {share:.2f}× the floor's rate "
                f"(target ≥ 0.25×: {rate_verdict}); p50 {p50 * 1000:.1f} ms, p99 "
                f"{p99 * 1000:.1f} ms = {tail:.1f}× the median (target ≤ 3×: {tail_verdict}); "
                f"{QUERIES}; {common}" + ("" if share >= 0.25 else f"; {WHY_NOT}")
            ),
        ),
        Result(
            name="Survey submit as a person makes it: the POST and the thank-you page it "
            "redirects to",
            median_seconds=1 / submits,
            floor_name=floor_name,
            floor_seconds=1 / floor_rate,
            peak_bytes=0,
            runs=ROUNDS,
            note=(
                f"{submits:.0f} submits/s (two requests each) vs {floor_rate:.0f} floor "
                f"requests/s = {person_share:.2f}× (no target of its own; the POST row is the "
                f"issue's); the page after the redirect runs 3 queries (2 for someone who "
                f"opened the form first); {common}"
            ),
        ),
    ]


def _flush_redis() -> None:
    """Empty the benchmark's own Redis database of the tasks the survey queued (no worker ran)."""
    try:
        import redis

        redis.Redis.from_url(REDIS).flushdb()
    except Exception:  # noqa: S110 - nothing to clean when Redis is absent # nosec B110
        pass


if __name__ == "__main__" and sys.argv[1:2] == ["setup"]:
    _setup(Path(sys.argv[2]))
