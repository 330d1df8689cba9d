from django.urls import path

from reports.views import jobs, quotes

app_name = "reports"
urlpatterns = [
    # Report jobs: request, watch, download (audited), regenerate.
    path("reports/", jobs.report_list, name="list"),
    path("reports/new/", jobs.report_request, name="request"),
    path("reports/<int:pk>/", jobs.report_job, name="job"),
    path("reports/<int:pk>/progress/", jobs.report_progress, name="progress"),
    path("reports/<int:pk>/download/", jobs.report_download, name="download"),
    path("reports/<int:pk>/regenerate/", jobs.report_regenerate, name="regenerate"),
    # Quotes: the account team proposes, the person approves through a personal link.
    path("accounts/<int:pk>/quotes/", quotes.account_quotes, name="account_quotes"),
    path("quotes/<int:pk>/request/", quotes.quote_request, name="quote_request"),
    path("answers/<int:pk>/quote/", quotes.quote_propose, name="quote_propose"),
    path("q/<str:token>/", quotes.quote_approval, name="quote_approval"),
]
