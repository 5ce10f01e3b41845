"""Platform records shared by every app: the audit trail, document numbering, the
outbox of side effects, in-app notifications and the job runner's heartbeat."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.core.access import RestrictedQuerySet


class AuditChannel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    JOB = "job", _("Job")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Changed")
    DELETE = "delete", _("Deleted")
    REVEAL = "reveal", _("Personal data revealed")
    MERGE = "merge", _("Merged")
    TRANSFER = "transfer", _("Ownership transferred")
    EXPORT = "export", _("Personal data exported")


class AppendOnlyError(Exception):
    pass


class AuditLog(models.Model):
    """One change to a business record: who, when, through which channel, what changed.

    Append-only: the application never updates or deletes a row (the model refuses, and a
    database trigger refuses too, so even raw SQL from the application cannot rewrite
    history)."""

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=AuditChannel.choices)
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("record"), max_length=200)
    changes = models.JSONField(_("changes"), default=dict, help_text="{field: [before, after]}")
    dealer = models.ForeignKey(
        "org.Dealer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"]),
            # a dealer's trail, newest first: the list every dealer user pages through
            models.Index(fields=["dealer", "-at", "-id"]),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries are append-only")


class NumberSequence(models.Model):
    """The last number given for one document type at one dealer in one year.

    Incremented inside the transaction that creates the document, so a rolled-back
    document gives its number back: the series has no gaps."""

    dealer = models.ForeignKey("org.Dealer", on_delete=models.PROTECT, null=True, blank=True)
    doc_type = models.CharField(max_length=10)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "doc_type", "year"],
                condition=models.Q(dealer__isnull=False),
                name="core_numbering_unique_dealer",
            ),
            models.UniqueConstraint(
                fields=["doc_type", "year"],
                condition=models.Q(dealer__isnull=True),
                name="core_numbering_unique_oem",
            ),
        ]

    def __str__(self):
        return f"{self.doc_type} {self.year}: {self.last_value}"


class IdempotencyKey(models.Model):
    """A client's key for one write request (the API's ``Idempotency-Key`` header, a form's
    hidden key): the first request with it acts and records what it made; a retry, even a
    concurrent one, gets that record back instead of acting again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=60)  # the action, e.g. "parts.transfer_request"
    key = models.CharField(max_length=100)
    result_id = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="core_idempotency_key")
        ]

    def __str__(self):
        return f"{self.scope}:{self.key}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to send")  # not yet tried, or waiting for a retry
    SENDING = "sending", _("Sending")  # claimed by a runner
    SENT = "sent", _("Sent")  # the provider accepted it
    DEAD = "dead", _("Given up")  # failed OUTBOX_MAX_ATTEMPTS times; needs a person


class OutboxMessage(models.Model):
    """A side effect (a message to send) written in the same transaction as the business
    change that caused it, and delivered afterwards by a job with retries."""

    channel = models.CharField(_("channel"), max_length=20)
    recipient = models.CharField(_("recipient"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    payload = models.JSONField(default=dict, blank=True)
    dedup_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    dealer = models.ForeignKey(
        "org.Dealer", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), db_index=True)
    last_error = models.TextField(_("last error"), blank=True)
    # the provider's id of the message once accepted (WeChat's msgid, the SMS provider's
    # id): a delivery report names it
    # (a database default too: set-based writers insert rows without naming it)
    provider_id = models.CharField(
        _("provider's message id"), max_length=64, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access_dealer_field = "dealer_id"

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(
                fields=["channel", "provider_id"],
                condition=~models.Q(provider_id=""),
                name="core_outbox_provider_id",
            ),
        ]

    def __str__(self):
        return f"{self.channel} → {self.recipient}: {self.subject or self.body[:40]}"


class InAppNotification(models.Model):
    """A message shown to a staff member inside the application (the in-app channel)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.subject


class JobHeartbeat(models.Model):
    """Last sign of life of the job runner (Celery worker or the embedded runner)."""

    name = models.CharField(max_length=50, unique=True)
    beat_at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"


class MessageChannel(models.TextChoices):
    """The customer-facing channels ``aftersales.core.contact`` sends through."""

    WECHAT = "wechat", _("WeChat template message")
    SMS = "sms", _("Text message (SMS)")


class MessageTemplate(models.Model):
    """The wording of one customer message (an event such as a service reminder) on one
    channel in one language, set up by the OEM. ``text`` holds ``{variable}`` placeholders
    (the event's variables, see ``aftersales.core.contact.register_event``); a WeChat
    template also names the official account's template id and maps each of its data keys
    (``thing1``, ``time2`` …) to a text with placeholders. Without a row the event's default
    text is used."""

    event = models.CharField(_("event"), max_length=60)
    channel = models.CharField(_("channel"), max_length=10, choices=MessageChannel.choices)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    text = models.TextField(_("text"))
    wechat_template_id = models.CharField(_("WeChat template id"), max_length=64, blank=True)
    wechat_fields = models.JSONField(
        _("WeChat data fields"), default=dict, blank=True, help_text="{data key: text}"
    )
    sms_template_code = models.CharField(_("SMS template code"), max_length=40, blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["event", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "channel", "language"], name="core_message_template_unique"
            )
        ]

    def __str__(self):
        return f"{self.event} {self.channel} {self.language}"
