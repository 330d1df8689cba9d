from rest_framework.permissions import SAFE_METHODS, BasePermission


class CanContribute(BasePermission):
    """Reading needs only visibility (the view's queryset); writing needs to work on the
    object's account (`Account.can_contribute`): its owner, its team or an administrator.

    The view names the account of an object with `account_of(obj)`; views that create check
    the account from the request body with `check_object_permissions(request, account)`.
    """

    message = "You may see this, but only the account's owner, its team or an administrator may change it."

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return view.account_of(obj).can_contribute(request.user)
