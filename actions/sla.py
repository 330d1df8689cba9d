"""The acknowledgement SLA, computed from plain rows (pure: no ORM, unit-tested on its own).

For each account manager and each account: how many responses arrived, the share acknowledged
within 48 hours, the median time to acknowledge, and what is overdue now. A response still
inside its 48 hours and not yet acknowledged counts nowhere in the share: it can still make it.
"""

from datetime import datetime

import pandas as pd

COLUMNS = [
    "pk",
    "owner_id",
    "owner__full_name",
    "account_id",
    "account__name",
    "contact__name",
    "received_at",
    "due_at",
    "acknowledged_at",
    "urgent",
]
NO_OWNER = "No owner"


def _frame(rows: list[dict], now: datetime) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for column in ("received_at", "due_at", "acknowledged_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    now = pd.Timestamp(now).tz_convert("UTC")
    acknowledged = frame["acknowledged_at"].notna()
    frame["owner"] = frame["owner__full_name"].fillna(NO_OWNER).replace("", NO_OWNER)
    frame["owner_key"] = frame["owner_id"].fillna(0).astype("int64")
    frame["hours"] = (frame["acknowledged_at"] - frame["received_at"]).dt.total_seconds() / 3600
    frame["on_time"] = acknowledged & (frame["acknowledged_at"] <= frame["due_at"])
    frame["decided"] = acknowledged | (frame["due_at"] <= now)
    frame["overdue"] = ~acknowledged & (frame["due_at"] <= now)
    frame["open"] = ~acknowledged
    frame["overdue_hours"] = ((now - frame["due_at"]).dt.total_seconds() / 3600).where(
        frame["overdue"]
    )
    return frame


def _summarise(frame: pd.DataFrame) -> dict:
    decided = int(frame["decided"].sum())
    on_time = int(frame["on_time"].sum())
    median = frame["hours"].median()
    return {
        "responses": len(frame),
        "decided": decided,
        "on_time": on_time,
        "share_on_time": round(100 * on_time / decided) if decided else None,
        "median_hours": None if pd.isna(median) else round(float(median), 1),
        "open": int(frame["open"].sum()),
        "overdue": int(frame["overdue"].sum()),
        "urgent_overdue": int((frame["overdue"] & frame["urgent"].astype(bool)).sum()),
    }


def _grouped(frame: pd.DataFrame, key: str, label: str) -> list[dict]:
    groups = []
    for (group_key, name), part in frame.groupby([key, label], sort=False):
        groups.append({"key": int(group_key), "name": name, **_summarise(part)})
    # Worst first: most overdue, then the lowest share on time.
    return sorted(
        groups,
        key=lambda g: (
            -g["overdue"],
            g["share_on_time"] if g["share_on_time"] is not None else 101,
            g["name"],
        ),
    )


def sla_summary(rows: list[dict], *, now: datetime) -> dict:
    """Overall, per account manager and per account; plus the overdue list, longest first."""
    frame = _frame(rows, now)
    overdue = frame[frame["overdue"]].sort_values("due_at")
    return {
        "overall": _summarise(frame),
        "by_manager": _grouped(frame, "owner_key", "owner"),
        "by_account": _grouped(frame, "account_id", "account__name"),
        "overdue": [
            {
                "pk": int(row.pk),
                "contact": row.contact__name,
                "account": row.account__name,
                "owner": row.owner,
                "due_at": row.due_at.to_pydatetime(),
                "overdue_hours": round(float(row.overdue_hours), 1),
                "urgent": bool(row.urgent),
            }
            for row in overdue.itertuples()
        ],
    }
