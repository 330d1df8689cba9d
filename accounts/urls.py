from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/log/", views.account_log_add, name="log_add"),
    # Your profile: personal API tokens.
    path("profile/api-tokens/", views.api_tokens, name="api_tokens"),
    path("profile/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
