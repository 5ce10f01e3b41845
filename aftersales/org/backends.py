from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from aftersales.core.access import user_has_perm, user_scope
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

    def has_perm(self, user_obj, perm, obj=None):
        """Django's permission check (used by the Django admin) answers from the role table;
        the OEM administrator administers the organisation and platform records."""
        if not user_obj.is_active:
            return False
        if user_has_perm(user_obj, perm):
            return True
        if perm.split(".", 1)[0] in ADMIN_APPS and is_oem_admin(user_obj):
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        if user_obj.is_active and app_label in ADMIN_APPS and is_oem_admin(user_obj):
            return True
        return super().has_module_perms(user_obj, app_label)


# Apps whose records the OEM administrator manages in the Django admin.
ADMIN_APPS = {"org", "core", "authtoken", "axes"}


def is_oem_admin(user) -> bool:
    return user.is_superuser or user_scope(user, "org.change_region").everything


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
