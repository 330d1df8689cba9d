"""What the change-map dashboards show: pure shaping of the snapshots into KPIs, charts and tables.

Input is a `DashboardData` (see `changemaps.dashboard_selectors`, which does all the reading);
output is a `Dashboard` for the template. Nothing here touches the ORM. Every chart comes with a
table holding the same data (its text alternative), and every person or account in either links
to their page. `frames` holds the pandas, `tables` what templates render, `pages` which page
shows what.
"""

from changemaps.dashboards.pages import account_dashboard, group_dashboard, portfolio_dashboard

__all__ = ["account_dashboard", "group_dashboard", "portfolio_dashboard"]
