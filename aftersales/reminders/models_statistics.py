"""The reminder statistics table (提醒统计表, source document 001 step 2-16): the counts of
one dealer's reminders of one kind due in one month, written set-based by
``aftersales.reminders.reports.statistics_refresh`` from the reminders, their messages and
their returns, so that the statistics page for the whole nation over a year reads a few
thousand rows instead of millions of reminders. Imported by ``reminders.models``."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.access import RestrictedQuerySet


class ReminderStatistic(models.Model):
    """One line of the reminder statistics table: how many of one dealer's reminders of
    one kind due in one month were reminded (by channel), followed up and returned, as of
    ``refreshed_at``. Rebuilt from the reminders by the statistics job; never edited."""

    month = models.DateField(_("month"))
    dealer = models.ForeignKey(
        "org.Dealer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("dealer"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=15)
    due = models.PositiveIntegerField(_("reminders due"), default=0)
    registered = models.PositiveIntegerField(_("owners registered on WeChat"), default=0)
    wechat = models.PositiveIntegerField(_("WeChat message sent"), default=0)
    sms = models.PositiveIntegerField(_("SMS sent"), default=0)
    phone = models.PositiveIntegerField(_("reached by phone"), default=0)
    reminded = models.PositiveIntegerField(_("reminded"), default=0)
    called = models.PositiveIntegerField(_("call outcome recorded"), default=0)
    followed_up = models.PositiveIntegerField(_("followed up"), default=0)
    booked = models.PositiveIntegerField(_("booked"), default=0)
    returned = models.PositiveIntegerField(_("returned"), default=0)
    not_returned = models.PositiveIntegerField(_("not returned (window closed)"), default=0)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("reminder statistics line")
        verbose_name_plural = _("reminder statistics")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "dealer", "kind"], name="reminders_statistic_key"
            )
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.dealer_id} {self.kind}"
