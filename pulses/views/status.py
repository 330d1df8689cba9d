from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.selectors import account_get_for_user
from pulses.selectors import account_pulse_status, account_recent_responses


@login_required
def account_pulses(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    context = {
        "account": account,
        "account_tab": "pulses",
        "status": account_pulse_status(account=account),
        "responses": account_recent_responses(account=account),
    }
    return render(request, "pulses/account_pulses.html", context)
