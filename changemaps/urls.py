from django.urls import path

from changemaps import views

app_name = "changemaps"
urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    path("accounts/<int:pk>/changemap/", views.account_changemap, name="account"),
    path("territories/<int:pk>/changemap/", views.territory_changemap, name="territory"),
    path("segments/<int:pk>/changemap/", views.segment_changemap, name="segment"),
]
