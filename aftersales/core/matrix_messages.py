"""Access-matrix declarations of the OEM's message template pages (see
aftersales/testing/matrix.py). Templates are OEM-level records (``scoped=False``). The
matrix sends page forms as JSON, so they see no fields: the new and edit forms answer with
their errors (200); deleting needs no field and goes back to the list (302)."""

from aftersales.testing.matrix import Endpoint, declare

VIEW = "core.view_messagetemplate"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a URL reversed without arguments
_EMPTY = lambda record: {}  # noqa: E731 - an empty form


def _template(dealer):
    from aftersales.core.models import MessageTemplate
    from aftersales.reminders.messages import SERVICE_EVENT

    return MessageTemplate.objects.create(
        event=SERVICE_EVENT,
        channel="sms",
        language="zh-hans",
        text="{customer_name} {plate} {kind} {due_date} {dealer_name}",
    )


def _page(name, permission, *, method="get", ok=200, detail=True, **options):
    extra = {"data": _EMPTY} if method == "post" else {}
    return Endpoint(name, "page", permission, make=_template, method=method, ok_status=ok,
                    detail=detail, scoped=False, **{**extra, **options})  # fmt: skip


declare(
    _page("message-template-list", VIEW, detail=False),
    _page("message-template-new", "core.add_messagetemplate", url_kwargs=_NO_KWARGS),
    _page("message-template-new", "core.add_messagetemplate", method="post", url_kwargs=_NO_KWARGS),
    _page("message-template-edit", "core.change_messagetemplate"),
    _page("message-template-edit", "core.change_messagetemplate", method="post"),
    _page("message-template-delete", "core.delete_messagetemplate"),
    _page("message-template-delete", "core.delete_messagetemplate", method="post", ok=302),
)
