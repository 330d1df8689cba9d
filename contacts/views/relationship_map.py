"""The relationship map: the page (with its text alternative) and the JSON it draws from."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import account_get_for_user
from contacts.relationship_map import map_elements, map_outline, relationship_map_rows


@login_required
@require_GET
def map_page(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    people, _links = relationship_map_rows(account=account)
    context = {
        "account": account,
        "account_tab": "map",
        "outline": map_outline(people=people),
        "people_count": len(people),
        "left_count": sum(person.has_left for person in people),
        "can_contribute": account.can_contribute(request.user),
    }
    return render(request, "contacts/people_map.html", context)


@login_required
@require_GET
def map_data(request, account_pk):
    account = account_get_for_user(user=request.user, pk=account_pk)
    people, links = relationship_map_rows(account=account)
    return JsonResponse(map_elements(people=people, links=links))
