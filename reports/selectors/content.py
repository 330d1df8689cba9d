"""What a report says: read once, shaped into plain objects the PDF templates render.

An account report reads the account's change map (the dashboards' own `Dashboard`, so numbers,
colours and tables match the browser), its quotes (`quotes_for_report`, which decides what the
client version may show), its "you said, we did" statements, this cycle's focus and the next
pulse date. A portfolio report reads the portfolio dashboard for the accounts the requester may
see, narrowed to a segment or a territory. Internal reports add the call list and the team's
feedback reviews. Nothing here writes.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import zip_longest

from django.utils import timezone

from accounts.models import Account, User
from actions.models import Action, FeedbackReview
from actions.selectors import account_actions, summary_statements
from changemaps import dashboard_selectors, dashboards
from changemaps.dashboards.tables import Chart, Dashboard, Table
from changemaps.rules import Thresholds
from pulses.models import PulseProgramme
from pulses.services.waves import programme_accounts
from reports.models import Quote, ReportJob
from reports.rendering import chart_path, chart_url
from reports.selectors.quotes import ReportQuote, quotes_for_report, report_quote

# The charts each report prints, in order, with their size on the page (CSS pixels).
ACCOUNT_CHARTS = {
    "scatter": (900, 560),
    "counts": (900, 380),
    "trend": (900, 340),
}
PORTFOLIO_CHARTS = {
    "counts": (900, 380),
    "trend": (900, 340),
    "movers": (900, 520),
    "mix": (900, 640),
}
# How many quotes each side shows: the same for both sides, so neither outweighs the other.
QUOTES_PER_SIDE = 8


@dataclass
class PrintedChart:
    chart: Chart
    width: int
    height: int
    svg: str | None = None  # filled in by the renderer; None prints the table instead

    @property
    def key(self) -> str:
        return self.chart.key

    @property
    def title(self) -> str:
        return self.chart.title

    @property
    def table(self) -> Table:
        return self.chart.table

    @property
    def src(self) -> str:
        """Where the PDF's <img> finds the SVG (served from memory by the renderer)."""
        return chart_url(self.key)

    @property
    def resource(self) -> str:
        return chart_path(self.key)


@dataclass
class ReportContent:
    """Everything one PDF shows. `internal` decides the extra sections."""

    kind: str
    internal: bool
    title: str
    scope: str
    prepared_for: str
    prepared_by: str
    generated_at: datetime
    dashboard: Dashboard
    charts: list[PrintedChart] = field(default_factory=list)
    goes_well: list = field(default_factory=list)
    to_improve: list = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    focus: Action | None = None
    next_pulse: date | None = None
    reviews: list[FeedbackReview] = field(default_factory=list)
    accounts: list[dict] = field(default_factory=list)

    @property
    def period(self) -> str:
        board = self.dashboard
        if not board.has_data:
            return "No pulse yet"
        if board.previous_wave and board.previous_wave != "the pulse before":
            return f"{board.previous_wave} to {board.wave}"
        return board.wave

    @property
    def sides(self) -> list[tuple[str, str, list]]:
        """Both sides of the balanced view, goes well first: (key, heading, quotes)."""
        return [
            (Quote.Side.GOES_WELL.value, str(Quote.Side.GOES_WELL.label), self.goes_well),
            (Quote.Side.TO_IMPROVE.value, str(Quote.Side.TO_IMPROVE.label), self.to_improve),
        ]

    @property
    def quote_rows(self) -> list[tuple]:
        """The two sides side by side, one quote of each per row; at least one row, so an
        empty side still says so."""
        rows = list(zip_longest(self.goes_well, self.to_improve))
        return rows or [(None, None)]

    @property
    def quotes_shown(self) -> int:
        return len(self.goes_well) + len(self.to_improve)


def _charts(board: Dashboard, sizes: dict[str, tuple[int, int]]) -> list[PrintedChart]:
    return [
        PrintedChart(board.charts[key], width, height)
        for key, (width, height) in sizes.items()
        if key in board.charts
    ]


def _balanced(quotes: dict, *, internal: bool) -> tuple[list, list]:
    """What goes well and what to improve. Internal reports show every answer; client-facing ones
    show the same number on each side, so neither outweighs the other: the shorter side caps
    the longer one, but never below QUOTES_PER_SIDE // 2 (an empty side is said to be empty)."""
    well = quotes.get(Quote.Side.GOES_WELL, [])
    improve = quotes.get(Quote.Side.TO_IMPROVE, [])
    if internal:
        return well, improve
    shown = max(QUOTES_PER_SIDE // 2, min(len(well), len(improve), QUOTES_PER_SIDE))
    return well[:shown], improve[:shown]


def _portfolio_quotes(accounts, *, internal: bool) -> dict[str, list[ReportQuote]]:
    """Quotes across the accounts, newest first, at most two per account and side; only
    approved ones unless internal. One query, whatever the number of accounts."""
    quotes = Quote.objects.filter(contact__account__in=accounts).select_related(
        "contact__account", "answer__response__wave"
    )
    if not internal:
        quotes = quotes.approved()
    per_account: dict[tuple[int, str], int] = {}
    result: dict[str, list[ReportQuote]] = {side: [] for side in Quote.Side.values}
    for quote in quotes.order_by("-answer__response__submitted_at", "-pk")[:2000]:
        seen = per_account.get((quote.contact.account_id, quote.side), 0)
        if seen < 2:
            per_account[(quote.contact.account_id, quote.side)] = seen + 1
            row = report_quote(quote, internal=internal)
            # Across accounts, the credit says which account the person is at.
            credit = f"{row.credit_line} · {quote.contact.account.name}"
            result[quote.side].append(replace(row, credit_line=credit))
    return result


def next_pulse_on(*, account: Account) -> date | None:
    """The next day a pulse programme covering the account opens a wave."""
    dates = [
        programme.next_wave_on
        for programme in PulseProgramme.objects.filter(is_active=True).order_by("next_wave_on")
        if programme_accounts(programme).filter(pk=account.pk).exists()
    ]
    return min(dates) if dates else None


def account_report_content(
    *, account: Account, audience: str, prepared_for: str = "", prepared_by: User
) -> ReportContent:
    """One account's report; `account` must already have passed the visibility gate."""
    internal = audience == ReportJob.Audience.INTERNAL
    board = dashboards.account_dashboard(
        dashboard_selectors.account_dashboard_data(account=account),
        thresholds=Thresholds.from_settings(),
    )
    goes_well, to_improve = _balanced(
        quotes_for_report(account=account, audience=audience), internal=internal
    )
    actions = account_actions(account=account)
    content = ReportContent(
        kind=ReportJob.Kind.ACCOUNT,
        internal=internal,
        title=account.name,
        scope=account.name,
        prepared_for=prepared_for,
        prepared_by=str(prepared_by),
        generated_at=timezone.now(),
        dashboard=board,
        charts=_charts(board, ACCOUNT_CHARTS),
        goes_well=goes_well,
        to_improve=to_improve,
        statements=summary_statements(account=account),
        focus=actions["focus"],
        next_pulse=next_pulse_on(account=account),
    )
    if internal:
        content.reviews = list(
            account.reviews.select_related("wave", "author", "response__contact").order_by(
                "-wave__opens_on", "pk"
            )[:30]
        )
    return content


def portfolio_report_content(
    *,
    user: User,
    audience: str,
    segment_id: int | None = None,
    territory_id: int | None = None,
    prepared_for: str = "",
) -> ReportContent:
    """The accounts `user` may see, narrowed to a segment or a territory."""
    internal = audience == ReportJob.Audience.INTERNAL
    accounts = dashboard_selectors.portfolio_accounts(user=user)
    filters = {"segment_id": segment_id, "territory_id": territory_id}
    data = dashboard_selectors.portfolio_data(
        user=user, accounts=accounts, filters={k: v for k, v in filters.items() if v}
    )
    board = dashboards.portfolio_dashboard(data, thresholds=Thresholds.from_settings())
    scope = "All accounts"
    if segment_id and not data.accounts.empty:
        scope = f"Segment: {data.accounts['segment'].iloc[0]}"
    elif territory_id and not data.accounts.empty:
        scope = f"Territory: {data.accounts['territory'].iloc[0]}"
    shown = Account.objects.visible_to(user).filter(pk__in=data.accounts["account_id"].tolist())
    goes_well, to_improve = _balanced(_portfolio_quotes(shown, internal=internal), internal=False)
    return ReportContent(
        kind=ReportJob.Kind.PORTFOLIO,
        internal=internal,
        title="Portfolio",
        scope=scope,
        prepared_for=prepared_for,
        prepared_by=str(user),
        generated_at=timezone.now(),
        dashboard=board,
        charts=_charts(board, PORTFOLIO_CHARTS),
        goes_well=goes_well,
        to_improve=to_improve,
        accounts=data.accounts.sort_values("account").to_dict("records"),
    )
