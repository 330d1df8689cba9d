from django.urls import path

from actions import exports
from actions.views import actions, candidates, inbox, plans, sla

app_name = "actions"
urlpatterns = [
    # The owner's inbox and acknowledging a response (actions/views/inbox.py).
    path("inbox/", inbox.inbox, name="inbox"),
    path("acknowledgements/<int:pk>/", inbox.acknowledgement_page, name="acknowledgement"),
    path("acknowledgements/<int:pk>/reply/", inbox.reply, name="reply"),
    path("acknowledgements/<int:pk>/in-person/", inbox.in_person, name="in_person"),
    path("acknowledgements/<int:pk>/review/", inbox.review, name="review"),
    # The acknowledgement SLA (actions/views/sla.py).
    path("acknowledgements/sla/", sla.sla, name="sla"),
    # Actions: an account's tab and one action with its log (actions/views/actions.py).
    path("accounts/<int:account_pk>/actions/", actions.account_actions, name="account"),
    path("actions/<int:pk>/", actions.action_page, name="action"),
    path("accounts/<int:account_pk>/actions/summary/", actions.send_summary, name="send_summary"),
    # Feedback reviews of a wave as a whole (of one response: inbox.review above).
    path("accounts/<int:account_pk>/reviews/", actions.review_wave, name="review_wave"),
    # Referral and case-study candidates (actions/views/candidates.py).
    path("candidates/", candidates.candidates, name="candidates"),
    path("acknowledgements/<int:pk>/candidate/", candidates.mark, name="mark_candidate"),
    path("candidates/<int:pk>/consent/", candidates.consent, name="consent"),
    # Account plans (actions/views/plans.py).
    path("accounts/<int:account_pk>/plan/", plans.account_plan, name="plan"),
    path("plans/<int:pk>/objectives/", plans.add_objective, name="add_objective"),
    path("objectives/<int:pk>/progress/", plans.update_progress, name="objective_progress"),
    # Actions as CSV or XLSX (actions/exports.py): one account's, or all the user may see.
    path(
        "accounts/<int:account_pk>/actions/export/",
        exports.export_account_actions,
        name="export_account",
    ),
    path("actions/export/", exports.export_actions, name="export"),
]
