from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from aftersales.org.models import User


class UsernameOrMobileBackend(ModelBackend):
    """Sign in with the username or the mobile number, and the password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        login = username.strip()
        user = User.objects.filter(Q(username=login) | Q(mobile=login)).order_by("id").first()
        if user is None:
            User().set_password(password)  # same cost as a real check: no user enumeration
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
