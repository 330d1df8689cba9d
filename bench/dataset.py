"""The benchmarks' large dataset in a real database: 2,000 accounts, 50,000 contacts, 12 waves,
600,000 invitations (about 480,000 answered), 120 account owners and one executive, and every
wave's change-map snapshots.

The people, journeys and accounts are `bench.changemap_compute.synthetic()` — the very frames
the in-memory change-map benchmark classifies — so the database benchmarks work on the same
data. Deterministic: the same seed gives the same rows.

Benchmarks that need PostgreSQL use a database of their own, `rapport_bench` (never `rapport`
or a `test_*` database). It is kept between runs and reused when its `bench_dataset` table holds
this module's `VERSION`, because loading takes a minute; `python -m bench.dataset drop` removes
it. Bulk rows go in with COPY, the handful of users, accounts and waves through the ORM.

Use it from a benchmark's child process (Django set up on that database):

    with bench.dataset.postgres() as url:          # creates/reuses rapport_bench
        subprocess.run([...], env={**bench_env(url)})
    # in the child: bench.dataset.load()            # no-op when already loaded
"""

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np

VERSION = "2026-11-23.2"
DATABASE = "rapport_bench"
SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
PASSWORD = "bench-password"  # noqa: S105 - a throwaway password for generated users # nosec B105
EXECUTIVE = "bench-exec@example.com"


def database_url() -> str:
    return f"{SERVER}/{DATABASE}"


def bench_env(database_url: str, folder: str) -> dict[str, str]:
    """The environment of a benchmark child process: production-like settings on a database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
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


def _admin_connection():
    import psycopg

    return psycopg.connect(f"{SERVER}/postgres", autocommit=True)


def postgres_available() -> bool:
    try:
        with _admin_connection():
            return True
    except Exception:
        return False


def create_database(name: str = DATABASE) -> str:
    """Create `name` unless it exists; its URL. Refuses the application's own databases."""
    if name == "rapport" or name.startswith("test"):
        raise ValueError(f"Benchmarks never use the {name!r} database.")
    with _admin_connection() as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    return f"{SERVER}/{name}"


def drop_database(name: str = DATABASE) -> None:
    if name == "rapport" or name.startswith("test"):
        raise ValueError(f"Benchmarks never drop the {name!r} database.")
    with _admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def postgres(name: str = DATABASE) -> Iterator[str]:
    """The benchmark database's URL (created if missing; kept for the next run)."""
    yield create_database(name)


# --- Loading (inside a process whose Django uses the benchmark database) ------------------------


def loaded_version() -> str | None:
    from django.db import connection

    with connection.cursor() as cursor:
        if "bench_dataset" not in connection.introspection.table_names(cursor):
            return None
        cursor.execute("SELECT version FROM bench_dataset")
        row = cursor.fetchone()
    return row[0] if row else None


def _copy(model, columns: dict[str, object], count: int) -> None:
    """COPY `count` rows into `model`'s table: `columns` maps a field's column to a sequence
    (or one value for every row); every other column gets its field's default."""
    from django.db import connection

    now = datetime.now(UTC)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.column in columns]
    values = []
    for field in fields:
        if field.column in columns:
            value = columns[field.column]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        else:
            value = field.get_default()
        if isinstance(value, np.ndarray):
            value = value.tolist()
        values.append(value if isinstance(value, list) else [value] * count)
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3: COPY through the driver, not Django's wrapper
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # nosec B608
            for row in zip(*values, strict=True):
                copy.write_row(row)


def _reset_sequences(*models) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def load(*, verbose: bool = True) -> dict:
    """Migrate and fill the current database (PostgreSQL) unless it already holds this
    version of the dataset. Returns what it holds."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from accounts.models import Account, Role, Segment, Territory, User
    from bench.changemap_compute import ACCOUNTS, WAVES, synthetic
    from contacts.models import Contact
    from pulses.models import Invitation, Response, Wave
    from pulses.services.questionnaires import (
        questionnaire_ensure_default,
        questionnaire_version_for_sending,
    )

    if connection.vendor != "postgresql":
        raise SystemExit("bench.dataset loads into PostgreSQL only (COPY).")
    if loaded_version() == VERSION:
        return summary()
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    invitations, contacts, accounts = synthetic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_dataset")
            tables = [
                m._meta.db_table
                for m in (Response, Invitation, Contact.buying_roles.through, Contact, Wave)
            ] + [Contact.history.model._meta.db_table, Account._meta.db_table]
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")  # nosec B608
        password = make_password(PASSWORD)
        User.objects.filter(email__endswith="@bench.example.com").delete()
        owners = User.objects.bulk_create(
            User(email=f"owner{i:03d}@bench.example.com", full_name=f"Owner {i}",
                 role=Role.ACCOUNT_MANAGER, password=password)
            for i in range(1, 121)
        )  # fmt: skip
        User.objects.update_or_create(
            email=EXECUTIVE,
            defaults={"full_name": "Bench Executive", "role": Role.EXECUTIVE, "password": password},
        )
        territories = {
            i: Territory.objects.get_or_create(name=f"Territory {i}")[0] for i in range(1, 21)
        }
        segments = {i: Segment.objects.get_or_create(name=f"Segment {i}")[0] for i in range(1, 7)}
        Account.objects.bulk_create(
            Account(id=int(row.account_id), name=row.account_name,
                    territory=territories[int(row.territory_id)],
                    segment=segments[int(row.segment_id)], owner=owners[int(row.owner_id) - 1],
                    status=Account.Status.ACTIVE)
            for row in accounts.itertuples(index=False)
        )  # fmt: skip
        version = questionnaire_version_for_sending(questionnaire=questionnaire_ensure_default())
        opens = invitations.drop_duplicates("wave_id").sort_values("wave_id")
        latest = int(opens["wave_id"].max())
        now = datetime.now(UTC)
        Wave.objects.bulk_create(
            Wave(id=int(row.wave_id), name=str(row.wave_name), questionnaire_version=version,
                 opens_on=row.wave_opens_on.date(),
                 # The latest wave is still open (its silent people are pending), as in
                 # the in-memory benchmark; the others closed.
                 closes_at=now + timedelta(days=10) if row.wave_id == latest
                 else row.wave_opens_on.to_pydatetime().replace(tzinfo=UTC) + timedelta(days=14),
                 status=Wave.Status.OPEN if row.wave_id == latest else Wave.Status.CLOSED)
            for row in opens.itertuples(index=False)
        )  # fmt: skip
        people = len(contacts)
        ids = contacts["contact_id"].to_numpy()
        _copy(
            Contact,
            {
                "id": ids,
                "account_id": contacts["account_id"].to_numpy(),
                "name": [f"Person {i:05d}" for i in ids],
                "email": [f"person{i:05d}@client.example.com" for i in ids],
                "department": contacts["department"].tolist(),
                "status": contacts["status"].tolist(),
                "left_on": [None if v != v else v.date() for v in contacts["left_on"]],  # NaT
                "influence": [None if v != v else int(v) for v in contacts["influence"]],
                "owner_id": [owners[int(a) % 120].pk for a in contacts["account_id"]],
            },
            people,
        )
        through = Contact.buying_roles.through
        pairs = [(cid, role) for cid, roles in zip(ids, contacts["roles"], strict=True)
                 for role in roles]  # fmt: skip
        _copy(
            through,
            {
                "id": list(range(1, len(pairs) + 1)),
                "contact_id": [int(c) for c, _ in pairs],
                "buyingrole_id": [r for _, r in pairs],
            },
            len(pairs),
        )
        count = len(invitations)
        invitation_ids = np.arange(1, count + 1)
        opened = invitations["wave_opens_on"].dt.tz_localize(UTC)
        _copy(
            Invitation,
            {
                "id": invitation_ids,
                "wave_id": invitations["wave_id"].to_numpy(),
                "contact_id": invitations["contact_id"].to_numpy(),
                "status": Invitation.Status.SENT,
                "sent_at": opened.dt.to_pydatetime().tolist(),
            },
            count,
        )
        answered = invitations[invitations["score"].notna()]
        answered_ids = invitation_ids[invitations["score"].notna().to_numpy()]
        _copy(
            Response,
            {
                "id": np.arange(1, len(answered) + 1),
                "wave_id": answered["wave_id"].to_numpy(),
                "contact_id": answered["contact_id"].to_numpy(),
                "invitation_id": answered_ids,
                "score": answered["score"].astype(int).to_numpy(),
                "submitted_at": (opened[answered.index] + timedelta(days=2))
                .dt.to_pydatetime()
                .tolist(),
            },
            len(answered),
        )
        _reset_sequences(Account, Contact, through, Wave, Invitation, Response)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE bench_dataset (version text NOT NULL)")
            cursor.execute("INSERT INTO bench_dataset VALUES (%s)", [VERSION])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # Every wave's snapshots, as `compute_changemaps --all-waves` leaves them: the dashboards
    # read only snapshots (and their trends need every wave).
    from changemaps.services import changemaps_compute

    changemaps_compute(waves="all")
    if verbose:
        print(
            f"  dataset loaded in {time.perf_counter() - started:.0f} s: {ACCOUNTS:,} accounts, "
            f"{people:,} contacts, {WAVES} waves, {count:,} invitations, "
            f"{len(answered):,} responses",
            flush=True,
        )
    return summary()


def summary() -> dict:
    from accounts.models import Account
    from contacts.models import Contact
    from pulses.models import Invitation, Response, Wave

    return {
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "waves": Wave.objects.count(),
        "invitations": Invitation.objects.count(),
        "responses": Response.objects.count(),
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["drop"]:
        drop_database()
    elif sys.argv[1:] == ["load"]:
        import django

        django.setup()
        print(load())
    else:
        raise SystemExit("usage: python -m bench.dataset load|drop")
