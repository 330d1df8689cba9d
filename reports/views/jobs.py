"""Report jobs. (Being written.)"""

from django.http import Http404


def report_list(request):
    raise Http404


def report_request(request):
    raise Http404


def report_job(request, pk):
    raise Http404


def report_progress(request, pk):
    raise Http404


def report_download(request, pk):
    raise Http404


def report_regenerate(request, pk):
    raise Http404
