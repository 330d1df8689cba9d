"""DataFrames from queries and rows into tables: the same frame on PostgreSQL (COPY) and SQLite."""

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from changemaps.models import GroupSnapshot
from contacts.models import Contact
from core.frames import copy_rows_into, frame_from_query, frame_from_queryset, frame_kinds
from pulses.models import Wave
from tests.changemaps.conftest import make_wave
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CONTACT_KINDS = {"id": "int", "account_id": "int", "status": "text", "left_on": "date",
                 "influence": "float", "department": "text"}  # fmt: skip
ODD_TEXT = 'R&D, "Ops"\nsecond line\t\\N'  # CSV's separators, quotes and NULL marker as data


@pytest.fixture
def people(account):
    return [
        ContactFactory(account=account, influence=4, department=ODD_TEXT),
        ContactFactory(
            account=account, influence=None, department="", status="left", left_on=date(2026, 3, 1)
        ),
    ]


def test_a_queryset_comes_back_with_the_kinds_dtypes(people, account):
    frame = frame_from_queryset(Contact.objects.order_by(), CONTACT_KINDS)
    frame = frame.sort_values("id", ignore_index=True)
    assert frame.dtypes.astype(str).to_dict() == {
        "id": "int64", "account_id": "int64", "status": "str", "left_on": "datetime64[ns]",
        "influence": "float64", "department": "str",
    }  # fmt: skip
    assert frame["id"].tolist() == [person.pk for person in people]
    assert frame["account_id"].tolist() == [account.pk, account.pk]
    assert frame["status"].tolist() == ["active", "left"]
    assert frame["left_on"].isna().tolist() == [True, False]
    assert frame["left_on"].iloc[1] == pd.Timestamp(2026, 3, 1)
    assert frame["influence"].iloc[0] == 4.0
    assert pd.isna(frame["influence"].iloc[1])
    assert frame["department"].tolist() == [ODD_TEXT, ""]


def test_sql_gives_the_same_frame_as_its_queryset(people):
    queryset = Contact.objects.order_by("pk")
    sql, params = queryset.values_list(*CONTACT_KINDS).query.sql_with_params()
    pd.testing.assert_frame_equal(
        frame_from_query(sql, params, CONTACT_KINDS).sort_values("id", ignore_index=True),
        frame_from_queryset(queryset, CONTACT_KINDS).sort_values("id", ignore_index=True),
    )


def test_values_are_bound_not_formatted(people):
    sql, params = (
        Contact.objects.filter(department=ODD_TEXT).values_list("id").query.sql_with_params()
    )
    assert frame_from_query(sql, params, {"id": "int"})["id"].tolist() == [people[0].pk]


@pytest.mark.parametrize(
    "queryset", [Contact.objects.all, lambda: Contact.objects.filter(pk__in=[])]
)
def test_an_empty_result_keeps_its_dtypes(db, queryset):
    frame = frame_from_queryset(queryset(), CONTACT_KINDS)
    assert frame.empty
    assert frame.dtypes.astype(str).to_dict() == {
        "id": "int64", "account_id": "int64", "status": "str", "left_on": "datetime64[ns]",
        "influence": "float64", "department": "str",
    }  # fmt: skip


def test_dates_and_times(db):
    wave = make_wave("March 2026 pulse", 10)
    frame = frame_from_queryset(
        Wave.objects.filter(pk=wave.pk),
        {"id": "int", "opens_on": "date", "closes_at": "datetime", "closed_at": "datetime"},
    )
    assert str(frame["closes_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["opens_on"].iloc[0] == pd.Timestamp(wave.opens_on)
    assert frame["closes_at"].iloc[0] == pd.Timestamp(wave.closes_at)
    assert pd.isna(frame["closed_at"].iloc[0])


def test_rows_copied_into_a_table_read_back_the_same(db):
    wave = make_wave("March 2026 pulse", 10)
    fields = ["wave_id", "dimension", "key", "label", "people", "counts", "previous_counts",
              "weighted_score", "weight", "participation", "answered", "invited", "pockets",
              "supports", "call_list"]  # fmt: skip
    rows = [
        (wave.pk, "account", 7, ODD_TEXT, 3, {"steady": 2, "new": 1}, {}, 7.25, 8.0, None, 1, 3,
         [{"mean": 2.5, "label": "IT", "contact_ids": [1, 2]}], [], [{"delta": None}]),
        (wave.pk, "segment", 0, "No segment", 0, {}, {}, None, 0.0, 0.5, 0, 0, [], [], []),
    ]  # fmt: skip
    assert copy_rows_into(GroupSnapshot, fields, iter(rows)) == 2
    back = frame_from_queryset(
        GroupSnapshot.objects.order_by(), frame_kinds(GroupSnapshot, fields)
    ).sort_values("dimension", ignore_index=True)
    as_tuples = [
        tuple(None if (isinstance(v, float) and pd.isna(v)) else v for v in row)
        for row in back.itertuples(index=False)
    ]
    assert as_tuples == rows
    orm = list(GroupSnapshot.objects.order_by("pk").values_list(*fields))
    assert orm == rows


def test_kinds_come_from_the_model(db):
    assert frame_kinds(GroupSnapshot, ["wave_id", "label", "people", "weighted_score", "counts"]) == {
        "wave_id": "int", "label": "text", "people": "int", "weighted_score": "float",
        "counts": "json",
    }  # fmt: skip
    assert frame_kinds(Wave, ["opens_on", "closes_at", "closed_at"]) == {
        "opens_on": "date", "closes_at": "datetime", "closed_at": "datetime",
    }  # fmt: skip


def test_copies_are_counted_as_queries(people, django_assert_num_queries):
    wave = make_wave("March 2026 pulse", 10)
    fields = ["wave_id", "dimension", "key", "label", "people", "counts", "previous_counts",
              "weight", "answered", "invited", "pockets", "supports", "call_list"]  # fmt: skip
    with django_assert_num_queries(1):
        frame_from_queryset(Contact.objects.order_by("pk"), CONTACT_KINDS)
    with django_assert_num_queries(1):
        row = (wave.pk, "account", 1, "A", 0, {}, {}, 0.0, 0, 0, [], [], [])
        copy_rows_into(GroupSnapshot, fields, [row])


def test_an_unknown_kind_is_refused(db):
    with pytest.raises(ValueError, match="not decimal"):
        frame_from_queryset(Contact.objects.all(), {"id": "decimal"})


def test_timestamps_are_utc(db):
    wave = make_wave("March 2026 pulse", 10)
    Wave.objects.filter(pk=wave.pk).update(
        closes_at=datetime(2026, 3, 1, 12, 30, 5, 123, tzinfo=UTC)
    )
    frame = frame_from_queryset(Wave.objects.filter(pk=wave.pk), {"closes_at": "datetime"})
    assert frame["closes_at"].iloc[0] == pd.Timestamp("2026-03-01 12:30:05.000123", tz="UTC")
