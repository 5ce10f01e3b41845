from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from aftersales.org.models import User


def find_login(login: str):
    """The person who signs in as ``login``: their username or their mobile number."""
    login = login.strip()
    return User.objects.filter(Q(username=login) | Q(mobile=login)).order_by("id").first()


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with the username or the mobile number, and the password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        user = find_login(username)
        if user is None:
            User().set_password(password)  # same cost as a real check: no user enumeration
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def lockout_username(request, credentials=None):
    """The name django-axes counts failures under (``AXES_USERNAME_CALLABLE``).

    One person has two logins (username and mobile number); counting both under the
    username means failures with either lock the one account."""
    login = (credentials or {}).get("username")
    if login is None and request is not None:
        data = getattr(request, "data", None) or request.POST
        login = data.get("username")
    if not login:
        return login
    login = str(login).strip()
    user = find_login(login)
    return user.username if user is not None else login


def client_ip(request):
    """The client's address for lock-out counting (``AXES_CLIENT_IP_CALLABLE``).

    Directly exposed, that is REMOTE_ADDR. Behind our reverse proxy (``BEHIND_PROXY``) it
    is the last address in X-Forwarded-For: the one our proxy appended; earlier entries
    come from the client and can be forged."""
    from django.conf import settings

    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR")
