from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from aftersales.org.models import Dealer


class LoginForm(AuthenticationForm):
    """Username or mobile number, and the password. One generic message for any failure."""

    username = forms.CharField(label=_("Username or mobile number"), max_length=150)
    error_messages = {
        "invalid_login": _("The username/mobile number or the password is wrong."),
        "inactive": _("The username/mobile number or the password is wrong."),
    }


class DealerForm(forms.ModelForm):
    class Meta:
        model = Dealer
        fields = ["name", "city", "address", "phone", "opens_at", "closes_at", "active"]
