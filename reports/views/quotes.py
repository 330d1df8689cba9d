"""Quote approval pages. (Being written; see reports/models.py Quote.)"""

from django.http import Http404


def account_quotes(request, pk):
    raise Http404


def quote_request(request, pk):
    raise Http404


def quote_propose(request, pk):
    raise Http404


def quote_approval(request, token):
    raise Http404
