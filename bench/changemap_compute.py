"""Change-map classification: 2,000 accounts, 50,000 people, 12 waves (600,000 invitations).

Times `changemaps.rules.classify` (pure pandas/NumPy, every person at once, category and
reason) on deterministic synthetic DataFrames held in memory, and the whole pure computation the
recompute task runs (`changemaps.rules.changemap`: the latest wave, the wave before for movement,
and the aggregates for accounts, territories, segments and owners).

The floor is DuckDB, on one thread, doing the same classification in SQL (window functions over
the same frames, categories *and* reasons); the benchmark checks that both give identical rows
before timing anything, then times them turn about. Peak memory is tracemalloc (Python's allocations, as every benchmark
here reports); DuckDB allocates outside Python, where tracemalloc cannot see, so both engines
are also measured as the growth of the process's peak resident memory, each in a fresh process
(`python -m bench.changemap_compute rss pandas|duckdb`), and that comparison is in the notes.
"""

import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench import Result, median_seconds, megabytes, peak_bytes, seconds

ACCOUNTS = 2_000
CONTACTS = 50_000
WAVES = 12
RUNS = 9
ROOT = Path(__file__).resolve().parent.parent
ROLE_CODES = np.array(
    ["decision_maker", "budget_holder", "champion", "influencer", "gatekeeper", "detractor",
     "user", "technical_evaluator"],
    dtype=object,
)  # fmt: skip
DEPARTMENTS = np.array(["Operations", "Finance", "IT", "Procurement", "Sales", "Executive"])


def _settings():
    """The CHANGE_MAP thresholds from config/settings.py; no database, no app registry."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("RAPPORT_DOTENV", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-key-not-used-for-anything-0123456789abcdef")
    from changemaps.rules import Thresholds

    return Thresholds.from_settings()


def synthetic(seed: int = 2026):
    """Deterministic inputs as `changemaps.selectors.changemap_inputs` returns them."""
    rng = np.random.default_rng(seed)
    opens = pd.date_range("2023-11-01", periods=WAVES, freq="3MS")
    names = [f"{day:%B %Y} pulse" for day in opens]
    contact_ids = np.arange(1, CONTACTS + 1)
    # Journeys: a level per person, drifting by small steps, a fifth of answers missing.
    level = rng.integers(3, 11, CONTACTS)
    drift = np.cumsum(rng.integers(-2, 3, (CONTACTS, WAVES)), axis=1) // 2
    scores = np.clip(level[:, None] + drift, 0, 10).astype("float64")
    scores[rng.random((CONTACTS, WAVES)) < 0.2] = np.nan
    invitations = pd.DataFrame(
        {
            "contact_id": np.repeat(contact_ids, WAVES),
            "wave_id": np.tile(np.arange(1, WAVES + 1), CONTACTS),
            "wave_opens_on": np.tile(opens.to_numpy(), CONTACTS),
            "wave_name": pd.Categorical(np.tile(names, CONTACTS), categories=names),
            "score": scores.ravel(),
        }
    )
    invitations["responded"] = invitations["score"].notna()
    # The latest wave is still open: its unanswered rows are pending, not silence.
    invitations["pending"] = (invitations["wave_id"] == WAVES) & ~invitations["responded"]
    role_count = rng.integers(0, 3, CONTACTS)
    picks = rng.integers(0, len(ROLE_CODES), (CONTACTS, 2))
    roles = [tuple(dict.fromkeys(ROLE_CODES[picks[i, :k]])) for i, k in enumerate(role_count)]
    influence = rng.integers(1, 6, CONTACTS).astype("float64")
    influence[rng.random(CONTACTS) < 0.2] = np.nan
    left = rng.random(CONTACTS) < 0.04
    left_on = pd.Series(pd.NaT, index=range(CONTACTS), dtype="datetime64[ns]")
    dated = left & (rng.random(CONTACTS) < 0.5)
    left_on[dated] = opens[rng.integers(0, WAVES, dated.sum())] + pd.Timedelta(days=20)
    contacts = pd.DataFrame(
        {
            "contact_id": contact_ids,
            "account_id": rng.integers(1, ACCOUNTS + 1, CONTACTS),
            "status": np.where(left, "left", "active"),
            "left_on": left_on.to_numpy(),
            "influence": influence,
            "department": DEPARTMENTS[rng.integers(0, len(DEPARTMENTS), CONTACTS)],
            "roles": roles,
        }
    )
    account_ids = np.arange(1, ACCOUNTS + 1)
    territory = rng.integers(1, 21, ACCOUNTS)
    segment = rng.integers(1, 7, ACCOUNTS)
    owner = rng.integers(1, 121, ACCOUNTS)
    accounts = pd.DataFrame(
        {
            "account_id": account_ids,
            "account_name": [f"Account {i:04d}" for i in account_ids],
            "territory_id": territory,
            "territory_name": [f"Territory {i}" for i in territory],
            "segment_id": segment,
            "segment_name": [f"Segment {i}" for i in segment],
            "owner_id": owner,
            "owner_name": [f"Owner {i}" for i in owner],
        }
    )
    return invitations, contacts, accounts


# --- The floor: the same classification in DuckDB ----------------------------------------------

DUCKDB_SQL = """
WITH waves AS (
    SELECT wave_id, any_value(wave_opens_on) AS opens_on, any_value(wave_name::VARCHAR) AS name
    FROM inv GROUP BY wave_id
), ordered AS (
    SELECT wave_id,
           row_number() OVER (ORDER BY opens_on, wave_id) - 1 AS position,
           lead(opens_on) OVER (ORDER BY opens_on, wave_id) AS until,
           CASE WHEN lower(name) LIKE 'the %' THEN name ELSE 'the ' || name END AS phrase
    FROM waves
), as_of AS (
    SELECT * FROM ordered WHERE position = (SELECT max(position) FROM ordered)
), rows_ AS (
    SELECT i.contact_id, o.position, o.phrase, i.score,
           (i.score IS NOT NULL OR NOT (i.responded OR i.pending)) AS in_history
    FROM inv i JOIN ordered o USING (wave_id)
    WHERE o.position <= (SELECT position FROM as_of)
), answered AS (
    SELECT contact_id, position, phrase, score,
           row_number() OVER (PARTITION BY contact_id ORDER BY position DESC) AS back
    FROM rows_ WHERE score IS NOT NULL
), scores AS (
    SELECT contact_id, count(*) AS n,
           max(CASE WHEN back = 1 THEN score END)::INTEGER AS last,
           max(CASE WHEN back = 2 THEN score END)::INTEGER AS prev,
           max(CASE WHEN back = 3 THEN score END)::INTEGER AS third,
           max(CASE WHEN back = 1 THEN position END) AS last_position,
           max(CASE WHEN back = 1 THEN phrase END) AS last_phrase,
           max(CASE WHEN back = 2 THEN phrase END) AS prev_phrase
    FROM answered GROUP BY contact_id
), history AS (
    SELECT r.contact_id,
           count(*) FILTER (WHERE r.in_history) AS invited,
           count(*) FILTER (WHERE r.in_history AND r.position > coalesce(s.last_position, -1))
               AS streak
    FROM rows_ r LEFT JOIN scores s USING (contact_id)
    GROUP BY r.contact_id
), key_roles AS (
    SELECT contact_id, arg_min(label, priority) AS role_label
    FROM con_roles JOIN key_role_order USING (role)
    GROUP BY contact_id
), people AS (
    SELECT h.contact_id, c.account_id, h.invited, h.streak,
           coalesce(s.n, 0) AS n, s.last, s.prev, s.third, s.last - s.prev AS delta,
           s.last_phrase, s.prev_phrase, c.influence,
           (k.role_label IS NOT NULL OR coalesce(c.influence >= $key_influence, false)) AS key,
           coalesce(k.role_label,
                    'Key person (influence ' || c.influence::INTEGER || '/5)') AS who,
           (c.status = 'left' AND ((SELECT until FROM as_of) IS NULL OR c.left_on IS NULL
                                   OR c.left_on < (SELECT until FROM as_of))) AS departed
    FROM history h
    JOIN con c USING (contact_id)
    LEFT JOIN scores s USING (contact_id)
    LEFT JOIN key_roles k USING (contact_id)
), ruled AS (
    SELECT *,
        CASE
            WHEN departed THEN 1
            WHEN key AND streak >= $silent THEN 2
            WHEN streak >= $silent OR n = 0 THEN 3
            WHEN n = 1 AND key AND last <= $low THEN 4
            WHEN n = 1 THEN 5
            WHEN delta <= $falling THEN 6
            WHEN delta >= $rising THEN 7
            WHEN key AND last <= $low THEN 8
            WHEN n >= 3 AND third > prev AND prev > last THEN 9
            WHEN n >= 3 AND least(third, prev, last) >= $angel THEN 10
            ELSE 11
        END AS rule
    FROM people
)
SELECT contact_id, account_id,
    CASE rule WHEN 1 THEN 'departed' WHEN 3 THEN 'silent' WHEN 5 THEN 'new'
              WHEN 6 THEN 'falling' WHEN 7 THEN 'rising' WHEN 10 THEN 'enduring_angel'
              WHEN 11 THEN 'steady' ELSE 'ticking_time_bomb' END AS category,
    CASE rule
        WHEN 1 THEN 'Left the company'
                    || CASE WHEN n >= 1 THEN '; last score ' || last || ' in ' || last_phrase
                            ELSE '' END
        WHEN 2 THEN who || ', silent for ' || streak
                    || CASE WHEN streak = 1 THEN ' pulse' ELSE ' pulses' END
        WHEN 3 THEN CASE
            WHEN n >= 1 THEN 'Silent for ' || streak
                 || CASE WHEN streak = 1 THEN ' pulse' ELSE ' pulses' END
                 || ' since scoring ' || last || ' in ' || last_phrase
            WHEN invited = 0 THEN 'Invited, no answer yet'
            WHEN invited = 1 THEN 'Has not answered their first pulse'
            ELSE 'Never answered: silent for all ' || invited || ' pulses' END
        WHEN 4 THEN who || ', first score ' || last || ' in ' || last_phrase
                    || ' (' || $low || ' or below)'
        WHEN 5 THEN 'First score ' || last || ' in ' || last_phrase
        WHEN 6 THEN 'Fell from ' || prev || ' to ' || last || ' since ' || prev_phrase
        WHEN 7 THEN 'Rose from ' || prev || ' to ' || last || ' since ' || prev_phrase
        WHEN 8 THEN who || ' at ' || last || ' in ' || last_phrase
                    || ' (' || $low || ' or below)'
        WHEN 9 THEN 'Slid ' || third || ' → ' || prev || ' → ' || last || ' over three pulses'
        WHEN 10 THEN $angel || ' or above three pulses running: '
                     || third || ' → ' || prev || ' → ' || last
        ELSE CASE WHEN last = prev THEN 'Steady at ' || last || ', as in ' || prev_phrase
                  ELSE 'Steady at ' || last || ' (was ' || prev || ' in ' || prev_phrase || ')'
             END
    END AS reason,
    rule, last, prev, delta, n, streak AS silent_streak, invited, key AS key_person
FROM ruled
ORDER BY contact_id
"""


def duckdb_classifier(invitations, contacts, thresholds):
    """A function running the classification in DuckDB on one thread, and its connection."""
    import duckdb

    connection = duckdb.connect(config={"threads": 1})
    roles = contacts[["contact_id", "roles"]].explode("roles").dropna()
    order = pd.DataFrame(
        {
            "role": list(thresholds.key_roles),
            "priority": range(len(thresholds.key_roles)),
            "label": [code.replace("_", " ").capitalize() for code in thresholds.key_roles],
        }
    )
    connection.register("inv", invitations)
    connection.register("con", contacts.drop(columns=["roles"]))
    connection.register("con_roles", roles.rename(columns={"roles": "role"}))
    connection.register("key_role_order", order)
    parameters = {
        "silent": thresholds.silent_streak,
        "falling": thresholds.falling_delta,
        "rising": thresholds.rising_delta,
        "low": thresholds.key_person_last_max,
        "angel": thresholds.angel_min,
        "key_influence": thresholds.key_influence_min,
    }

    def classify():
        return connection.execute(DUCKDB_SQL, parameters).df()

    return classify


COMPARED = ["contact_id", "category", "reason", "rule", "last", "prev", "delta", "n",
            "silent_streak", "invited", "key_person"]  # fmt: skip


def _check_same(ours: pd.DataFrame, floor: pd.DataFrame) -> None:
    """The floor must do the same work: identical rows, or the comparison means nothing."""
    left = ours[COMPARED].reset_index(drop=True)
    right = floor[COMPARED].reset_index(drop=True)
    for column in COMPARED:
        a = left[column].astype(object).where(left[column].notna(), None).tolist()
        b = right[column].astype(object).where(right[column].notna(), None).tolist()
        a = [int(v) if isinstance(v, (int, np.integer, float)) and not isinstance(v, bool) else v
             for v in a]  # fmt: skip
        b = [int(v) if isinstance(v, (int, np.integer, float)) and not isinstance(v, bool) else v
             for v in b]  # fmt: skip
        if a != b:
            first = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
            raise AssertionError(
                f"DuckDB and pandas disagree on {column} for contact "
                f"{left['contact_id'].iloc[first]}: {a[first]!r} vs {b[first]!r}"
            )


def interleaved_medians(ours, floor, *, runs: int) -> tuple[float, float]:
    """Median seconds of `ours` and `floor`, run turn about (after a warm-up of each), so that
    a neighbour loading the machine for a while slows both rather than one of them."""
    ours(), floor()
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for action, spent in ((ours, timings[0]), (floor, timings[1])):
            started = time.perf_counter()
            action()
            spent.append(time.perf_counter() - started)
    return statistics.median(timings[0]), statistics.median(timings[1])


# --- Resident memory, one engine per fresh process ----------------------------------------------


def _peak_resident_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status).group(1))


def _resident_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))


def measure_rss(engine: str) -> dict:
    """In this (fresh) process: build the inputs, then how far one run lifts peak RSS."""
    import gc

    from changemaps import rules

    thresholds = _settings()
    invitations, contacts, _ = synthetic()
    run = (
        duckdb_classifier(invitations, contacts, thresholds)
        if engine == "duckdb"
        else lambda: rules.classify(invitations, contacts, thresholds=thresholds)
    )
    gc.collect()
    before = _resident_kib()
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark to now
    result = run()
    return {"engine": engine, "growth_bytes": (_peak_resident_kib() - before) * 1024,
            "rows": len(result)}  # fmt: skip


def _rss_growth(engine: str) -> int | None:
    try:
        output = subprocess.run(
            [sys.executable, "-m", "bench.changemap_compute", "rss", engine],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
        return json.loads(output.strip().splitlines()[-1])["growth_bytes"]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError):
        return None  # no /proc (not Linux): the notes say so


# --- The benchmark ------------------------------------------------------------------------------


def run() -> list[Result]:
    from changemaps import rules

    thresholds = _settings()
    invitations, contacts, accounts = synthetic()
    inputs = rules.ChangeMapInputs(invitations, contacts, accounts)

    def classify():
        return rules.classify(invitations, contacts, thresholds=thresholds)

    def whole_map():
        return rules.changemap(inputs, thresholds=thresholds)

    try:
        floor = duckdb_classifier(invitations, contacts, thresholds)
    except ImportError:
        floor = None
    ours = classify()
    rows = f"{len(invitations):,} invitations, {len(ours):,} people"
    if floor is None:
        floor_name, notes = "pandas.DataFrame.sort_values (DuckDB missing)", []

        def floor():
            return invitations.sort_values(["contact_id", "wave_opens_on"])

        rss_note = "DuckDB not installed (pip install duckdb): floor is a sort of the inputs"
    else:
        _check_same(ours, floor())
        floor_name = "DuckDB 1 thread, same rules in SQL"
        ours_rss, floor_rss = _rss_growth("pandas"), _rss_growth("duckdb")
        if ours_rss and floor_rss:
            rss_note = (
                f"peak RSS growth {megabytes(ours_rss)} vs DuckDB {megabytes(floor_rss)} "
                f"({ours_rss / floor_rss:.2f}×)"
            )
        else:
            rss_note = "peak RSS not measurable here (needs Linux /proc)"
        notes = ["identical rows to DuckDB"]
        if ours_rss and floor_rss:
            holds = ours_rss <= 1.5 * floor_rss
            notes.append(f"memory target ≤ 1.5×: {'holds' if holds else 'not met'}")
    classify_seconds, floor_seconds = interleaved_medians(classify, floor, runs=RUNS)
    time_verdict = "holds" if classify_seconds <= 1.5 * floor_seconds else "not met"
    whole_seconds = median_seconds(whole_map, runs=max(3, RUNS // 2))
    print(
        f"  classify {seconds(classify_seconds)}, whole map {seconds(whole_seconds)}, "
        f"floor {seconds(floor_seconds)}; {rss_note}",
        flush=True,
    )
    return [
        Result(
            name=f"Change-map classification, {CONTACTS:,} people × {WAVES} waves",
            median_seconds=classify_seconds,
            floor_name=floor_name,
            floor_seconds=floor_seconds,
            peak_bytes=peak_bytes(classify),
            runs=RUNS,
            note="; ".join([f"time target ≤ 1.5×: {time_verdict}", rows, *notes, rss_note]),
        ),
        Result(
            name="Whole change map: latest + previous wave, aggregates for 4 dimensions",
            median_seconds=whole_seconds,
            floor_name=floor_name + " (classification only)",
            floor_seconds=floor_seconds,
            peak_bytes=peak_bytes(whole_map),
            runs=max(3, RUNS // 2),
            note=(
                f"{ACCOUNTS:,} accounts; what the recompute task computes before writing "
                "(no target of its own: the issue's end-to-end target is the PostgreSQL row)"
            ),
        ),
    ]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "rss":
        print(json.dumps(measure_rss(sys.argv[2])))
    else:
        for result in run():
            print(result)
