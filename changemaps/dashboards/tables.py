"""What the templates render: cells, tables (every chart's text alternative), charts, KPIs."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from changemaps import charts
from changemaps.categories import CATEGORIES, LABELS, ORDER


@dataclass(frozen=True)
class Cell:
    text: str = ""
    url: str = ""
    links: Sequence[tuple[str, str]] = ()  # (text, url) pairs, shown comma-separated
    category: str = ""  # a category key: the cell shows its dot and label
    numeric: bool = False
    note: str = ""  # smaller text under the main text

    def as_td(self) -> SafeString:
        """The cell as `templates/changemaps/_table.html` shows it, every value escaped. Built
        here rather than in the template: its conditions cost ~40 µs a cell there, most of the
        time a page with a few large tables takes to render."""
        text = conditional_escape(self.text)
        if self.category:
            inner = f'<span class="rp-cat rp-cat-{conditional_escape(self.category)}">{text}</span>'
        elif self.url:
            inner = f'<a href="{conditional_escape(self.url)}">{text}</a>'
        elif self.links:
            inner = ", ".join(
                f'<a href="{conditional_escape(url)}">{conditional_escape(link)}</a>'
                for link, url in self.links
            )
        else:
            inner = text
        if self.note:
            inner += f'<div class="rp-cell-note">{conditional_escape(self.note)}</div>'
        opening = '<td class="text-end text-nowrap">' if self.numeric else "<td>"
        return mark_safe(f"{opening}{inner}</td>")  # noqa: S308 - every value escaped above # nosec B308, B703


@dataclass(frozen=True)
class Table:
    caption: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True)
class Chart:
    """One figure, its title and its table alternative. `key` names its DOM ids."""

    key: str
    title: str
    figure: dict
    table: Table
    clickable: bool = False

    @property
    def dom_id(self) -> str:
        return f"chart-{self.key}"

    @property
    def data_id(self) -> str:
        return f"chart-{self.key}-data"


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    note: str = ""
    tone: str = ""  # "good", "bad" or "": how the note's change reads
    direction: str = ""  # "up", "down" or "": which way the number went


@dataclass
class Dashboard:
    """The parts every change-map page shares; a page shows those it has."""

    has_data: bool = False
    wave: str = ""
    previous_wave: str = ""
    kpis: list[Kpi] = field(default_factory=list)
    charts: dict[str, Chart] = field(default_factory=dict)
    call_list: Table | None = None
    pockets: Table | None = None
    supports: Table | None = None
    not_plotted: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def as_context(self) -> dict:
        return {"dashboard": self, "categories": CATEGORIES}


def score_text(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.0f}"


def delta_text(value) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{int(value):+d}" if value else "0"


def person_cell(row: Mapping, *, note: str = "") -> Cell:
    return Cell(text=str(row["name"]), url=str(row["url"]), note=note)


def call_list_table(
    entries: Sequence[Mapping], people: pd.DataFrame, accounts: pd.DataFrame, *, show_account: bool
) -> Table:
    """The call list (as `combine_groups` orders it) with names, reasons and links."""
    # Dicts, not `.loc`: a pandas lookup costs ~100 µs, most of this table's time.
    who = {
        pk: (name, url)
        for pk, name, url in people[["contact_id", "name", "url"]].itertuples(index=False)
    }  # the last row of a person wins, as their latest
    listed = accounts[accounts["account_id"].isin([entry["account_id"] for entry in entries])]
    named = {
        pk: (name, url)
        for pk, name, url in listed[["account_id", "account", "url"]].itertuples(index=False)
    }
    columns = [
        "Person",
        *(["Account"] if show_account else []),
        "Category",
        "Why",
        "Latest",
        "Change",
        "Influence",
    ]
    rows = []
    for entry in entries:
        if entry["contact_id"] not in who:
            continue
        name, url = who[entry["contact_id"]]
        cells = [
            person_cell(
                {"name": name, "url": url}, note="Key person" if entry["key_person"] else ""
            )
        ]
        if show_account:
            account = named.get(entry["account_id"])
            cells.append(Cell(str(account[0]), url=str(account[1])) if account else Cell(""))
        cells += [
            Cell(LABELS.get(entry["category"], entry["category"]), category=entry["category"]),
            Cell(str(entry["reason"])),
            Cell(score_text(entry["last"]), numeric=True),
            Cell(delta_text(entry["delta"]), numeric=True),
            Cell("" if entry["influence"] is None else str(entry["influence"]), numeric=True),
        ]
        rows.append(cells)
    return Table("People to call first: falling and ticking time bombs", columns, rows)


def groups_table(
    groups: Sequence[Mapping], people: pd.DataFrame, *, caption: str, show_account: bool
) -> Table:
    """Negative pockets or zones of support: the department or role, its people, their mean."""
    who = people.drop_duplicates("contact_id", keep="last").set_index("contact_id")
    columns = ["Group", *(["Account"] if show_account else []), "People", "Mean latest score"]
    rows = []
    for group in groups:
        members = [who.loc[pk] for pk in group["contact_ids"] if pk in who.index]
        kind = "Department" if group["kind"] == "department" else "Buying role"
        cells = [Cell(str(group["label"]), note=kind)]
        if show_account:
            cells.append(Cell(str(group["account"])))
        cells += [
            Cell(
                links=[(str(m["name"]), str(m["url"])) for m in members],
                note=f"{group['people']} people",
            ),
            Cell(f"{group['mean']:.1f}", numeric=True),
        ]
        rows.append(cells)
    return Table(caption, columns, rows)


def counts_table(counts: Mapping, previous: Mapping, *, now: str, before: str) -> Table:
    rows = [
        [
            Cell(LABELS[key], category=key),
            Cell(str(previous.get(key, 0)), numeric=True),
            Cell(str(counts.get(key, 0)), numeric=True),
            Cell(delta_text(counts.get(key, 0) - previous.get(key, 0)) or "0", numeric=True),
        ]
        for key in ORDER
    ]
    return Table("People per category", ["Category", before, now, "Change"], rows)


def trend_table(trend: pd.DataFrame) -> Table:
    rows = [
        [
            Cell(str(name)),
            Cell(charts.fmt(score, 2), numeric=True),
            Cell("–" if pd.isna(share) else f"{share:.0%}", numeric=True),
            Cell(str(people), numeric=True),
        ]
        for name, score, share, people in trend[
            ["wave_name", "weighted_score", "participation", "people"]
        ].itertuples(index=False)
    ]
    return Table(
        "Weighted score per pulse", ["Pulse", "Weighted score", "Participation", "People"], rows
    )
