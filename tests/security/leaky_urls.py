"""The site's URLs plus one route that forgets the account gate, to show the sweep catches it."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path

from config.urls import urlpatterns as site
from contacts.models import Contact


@login_required
def leaky(request, pk):
    # The mistake the sweep exists for: an id looked up without `visible_to(user)`.
    return HttpResponse(get_object_or_404(Contact, pk=pk).name)


urlpatterns = [*site, path("leaky/<int:pk>/", leaky, name="leaky")]
