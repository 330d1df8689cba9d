from django.urls import path

from pulses.views import status

app_name = "pulses"
urlpatterns = [
    # The contact's survey and unsubscribe pages (pulses/views/survey.py): no login, by token.
    # Staff-recorded responses (pulses/views/recording.py).
    # Account pulse status and responses (pulses/views/status.py).
    path("accounts/<int:account_pk>/pulses/", status.account_pulses, name="account"),
]
