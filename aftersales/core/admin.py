from django.contrib import admin

from aftersales.core.audit import audit_create, audit_delete, audit_update, snapshot
from aftersales.core.models import AuditLog, OutboxMessage


class AuditedAdminMixin:
    """Changes made in the Django admin are audited like those made through services."""

    def save_model(self, request, obj, form, change):
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        if change:
            audit_update(obj, actor=request.user, before=before)
        else:
            audit_create(obj, actor=request.user)

    def delete_model(self, request, obj):
        audit_delete(obj, actor=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_delete(obj, actor=request.user)
        super().delete_queryset(request, queryset)

    def save_formset(self, request, form, formset, change):
        befores = {
            f.instance.pk: snapshot(type(f.instance).objects.get(pk=f.instance.pk))
            for f in formset.forms
            if f.instance.pk and f.has_changed()
        }
        for deleted in formset.deleted_forms:
            if deleted.instance.pk:
                audit_delete(deleted.instance, actor=request.user)
        instances = formset.save()
        for obj in instances:
            if obj.pk in befores:
                audit_update(obj, actor=request.user, before=befores[obj.pk])
            else:
                audit_create(obj, actor=request.user)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["at", "actor_name", "channel", "action", "content_type", "object_repr"]
    list_filter = ["channel", "action", "content_type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "channel", "recipient", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "channel"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False
