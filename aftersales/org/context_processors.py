from aftersales.core.navigation import menu_for


def navigation(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {
        "menu": menu_for(user, request.path),
        "show_admin": user.is_authenticated and user.is_staff,
    }
