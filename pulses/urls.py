from django.urls import path

from pulses import exports
from pulses.views import recording, status, survey

app_name = "pulses"
urlpatterns = [
    # The contact's survey and unsubscribe pages (pulses/views/survey.py): no login, by token.
    path("p/<str:token>/", survey.survey, name="survey"),
    path("p/<str:token>/unsubscribe/", survey.unsubscribe, name="unsubscribe"),
    # Staff-recorded responses (pulses/views/recording.py).
    path("contacts/<int:pk>/responses/new/", recording.record_response, name="record"),
    # Account pulse status and responses (pulses/views/status.py).
    path("accounts/<int:account_pk>/pulses/", status.account_pulses, name="account"),
    # Responses as CSV or XLSX (pulses/exports.py): one account's, or all the user may see.
    path(
        "accounts/<int:account_pk>/pulses/export/",
        exports.export_account_responses,
        name="export_account",
    ),
    path("responses/export/", exports.export_responses, name="export"),
]
