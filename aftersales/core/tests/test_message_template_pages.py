"""The OEM's message template pages (SPEC §12): the templates grouped by event with the
event's variables and default text, adding (once per form key), a template that does not
fit its event refused with the reason on the field, WeChat data fields as lines or JSON,
the preview, editing and deleting, and a dealer kept out."""

import pytest
from django.urls import reverse

from aftersales.core.contact import message_template_save
from aftersales.core.models import AuditLog, MessageTemplate
from aftersales.reminders.messages import SERVICE_EVENT

FULL = "{customer_name}，您的爱车{plate}该做{kind}了（{due_date}），{dealer_name}"


@pytest.fixture
def oem_admin(demo_org):
    return demo_org["oem-admin"]


@pytest.fixture
def admin_client(client, oem_admin):
    client.force_login(oem_admin)
    return client


def _form(**values):
    data = {
        "idempotency_key": "k-1",
        "event": SERVICE_EVENT,
        "channel": "sms",
        "language": "zh-hans",
        "text": FULL,
        "wechat_template_id": "",
        "wechat_fields": "",
        "sms_template_code": "SMS_1001",
        "active": "on",
    }
    data.update(values)
    return data


@pytest.mark.django_db
def test_the_list_shows_each_event_its_variables_and_templates(admin_client, oem_admin):
    # Given a WeChat template for the service reminder and none for the birthday greeting
    message_template_save(
        actor=oem_admin,
        event=SERVICE_EVENT,
        channel="wechat",
        language="zh-hans",
        text=FULL,
        wechat_template_id="TPL-SERVICE",
        wechat_fields={
            "thing1": "{customer_name}",
            "thing2": "{plate} {kind} {due_date}",
            "thing3": "{dealer_name}",
        },  # fmt: skip
    )

    # When the OEM opens the list
    response = admin_client.get(reverse("message-template-list"))

    # Then each event shows its variables and default text, the template its details
    assert response.status_code == 200
    page = response.content.decode()
    assert "{customer_name}" in page and "{due_date}" in page
    assert "TPL-SERVICE" in page and "thing2" in page
    assert "王芳" in page or "Wang Fang" in page  # the preview with sample values
    rows = {row["name"]: row for row in response.context["events"]}
    assert [t.channel for t in rows[SERVICE_EVENT]["templates"]] == ["wechat"]
    assert rows[SERVICE_EVENT]["variables"] == (
        "customer_name", "plate", "kind", "due_date", "dealer_name"
    )  # fmt: skip
    assert rows["care.greeting_birthday"]["templates"] == []
    assert 'data-event="care.greeting_birthday"' in page
    assert page.count("data-no-template") == len(rows) - 1


@pytest.mark.django_db
def test_a_new_template_is_saved_once_on_a_double_submit(admin_client):
    # Given the new-template form with its key
    form = admin_client.get(reverse("message-template-new"))
    assert form.context["form"]["idempotency_key"].value()

    # When the same form is sent twice
    first = admin_client.post(reverse("message-template-new"), _form())
    second = admin_client.post(reverse("message-template-new"), _form())

    # Then one template is saved, and both answers go back to the list
    assert first.status_code == second.status_code == 302
    assert first["Location"] == reverse("message-template-list")
    template = MessageTemplate.objects.get()
    assert (template.event, template.channel, template.text) == (SERVICE_EVENT, "sms", FULL)
    assert template.sms_template_code == "SMS_1001"
    assert AuditLog.objects.filter(object_id=str(template.pk)).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{customer_name}，您的爱车{plate}该保养了", "{due_date}"),  # a variable left out
        (FULL + "{mileage}", "{mileage}"),  # a variable the event does not have
    ],
)
def test_a_template_that_does_not_fit_its_event_is_refused_on_the_field(admin_client, text, words):
    # Given a text missing one of the event's variables, or using an unknown one
    # When the OEM saves it
    response = admin_client.post(reverse("message-template-new"), _form(text=text))

    # Then the form comes back with the reason on the text field, and nothing is saved
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert words in " ".join(errors["text"])
    assert words in response.content.decode()
    assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        "thing1={customer_name}\n\nthing2={plate} {kind} {due_date}\nthing3={dealer_name}\n",
        '{"thing1": "{customer_name}", "thing2": "{plate} {kind} {due_date}",'
        ' "thing3": "{dealer_name}"}',
    ],
    ids=["lines", "json"],
)
def test_wechat_data_fields_as_lines_or_json(admin_client, fields):
    # Given a WeChat template with its data fields typed as key=text lines or as JSON
    data = _form(channel="wechat", wechat_template_id="TPL-1", wechat_fields=fields)

    # When it is saved
    response = admin_client.post(reverse("message-template-new"), data)

    # Then the fields are stored as a mapping
    assert response.status_code == 302
    assert MessageTemplate.objects.get().wechat_fields == {
        "thing1": "{customer_name}",
        "thing2": "{plate} {kind} {due_date}",
        "thing3": "{dealer_name}",
    }


@pytest.mark.django_db
def test_wechat_fields_missing_a_variable_or_malformed_are_refused(admin_client):
    # Given WeChat fields that leave out {dealer_name}, and a line without "="
    missing = _form(channel="wechat", wechat_template_id="T", wechat_fields="thing1={plate}")
    malformed = _form(channel="wechat", wechat_template_id="T", wechat_fields="thing1")

    # When they are saved
    first = admin_client.post(reverse("message-template-new"), missing)
    second = admin_client.post(reverse("message-template-new"), malformed)

    # Then each is refused on the WeChat fields, nothing saved
    assert "{dealer_name}" in " ".join(first.context["form"].errors["wechat_fields"])
    assert second.context["form"].errors["wechat_fields"]
    assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
def test_the_preview_fills_sample_values_and_saves_nothing(admin_client):
    # When the OEM asks for a preview of the text
    response = admin_client.post(reverse("message-template-new"), _form(preview="1"))

    # Then the text is shown with sample values, and nothing is saved
    assert response.status_code == 200
    assert "京A·12345" in response.context["preview"]["text"]
    assert "{plate}" not in response.context["preview"]["text"]
    assert 'id="template-preview"' in response.content.decode()
    assert not MessageTemplate.objects.exists()


@pytest.mark.django_db
def test_editing_changes_the_text_but_not_what_names_the_template(admin_client, oem_admin):
    # Given an SMS template
    template = message_template_save(
        actor=oem_admin, event=SERVICE_EVENT, channel="sms", language="zh-hans", text=FULL
    )
    url = reverse("message-template-edit", args=[template.pk])
    assert admin_client.get(url).context["form"]["text"].value() == FULL

    # When the OEM changes its text (and tries to move it to another channel)
    response = admin_client.post(
        url, _form(idempotency_key="e-1", text=FULL + "！", channel="wechat")
    )

    # Then the text is changed, the channel kept
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.text, template.channel) == (FULL + "！", "sms")

    # And a text missing a variable is refused, the saved text kept
    refused = admin_client.post(url, _form(idempotency_key="e-2", text="{customer_name}"))
    assert refused.status_code == 200 and refused.context["form"].errors["text"]
    template.refresh_from_db()
    assert template.text == FULL + "！"


@pytest.mark.django_db
def test_deleting_asks_first_then_falls_back_to_the_default_text(admin_client, oem_admin):
    # Given an SMS template
    template = message_template_save(
        actor=oem_admin, event=SERVICE_EVENT, channel="sms", language="zh-hans", text=FULL
    )
    url = reverse("message-template-delete", args=[template.pk])

    # When the OEM opens the delete page, then confirms
    asked = admin_client.get(url)
    done = admin_client.post(url)

    # Then it asked (nothing deleted yet), and after confirming the template is gone
    assert asked.status_code == 200 and 'id="delete-template-form"' in asked.content.decode()
    assert done.status_code == 302
    assert not MessageTemplate.objects.exists()
    listing = admin_client.get(reverse("message-template-list"))
    rows = {row["name"]: row for row in listing.context["events"]}
    assert rows[SERVICE_EVENT]["templates"] == []


@pytest.mark.django_db
def test_a_dealer_reads_the_templates_but_may_not_change_them(client, demo_org, oem_admin):
    # Given an SMS template and a dealer's DCRC manager (who reads the templates)
    template = message_template_save(
        actor=oem_admin, event=SERVICE_EVENT, channel="sms", language="zh-hans", text=FULL
    )
    manager = demo_org["bj01-dcrcmgr"]
    client.force_login(manager)

    # When they open the list
    response = client.get(reverse("message-template-list"))

    # Then they see the templates without the buttons to change them
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-template="{template.pk}"' in page
    assert 'data-action="new-template"' not in page and 'data-action="edit-template"' not in page

    # And adding, changing or deleting is refused, nothing changed
    assert client.post(reverse("message-template-new"), _form()).status_code == 403
    edit = reverse("message-template-edit", args=[template.pk])
    assert client.post(edit, _form(text=FULL + "!")).status_code == 403
    delete = reverse("message-template-delete", args=[template.pk])
    assert client.post(delete).status_code == 403
    template.refresh_from_db()
    assert template.text == FULL


@pytest.mark.django_db
def test_the_menu_has_the_entry_for_the_oem(oem_admin):
    from aftersales.core.navigation import menu_for

    entries = {e["name"]: e for e in menu_for(oem_admin)}
    assert entries["message-template-list"]["more"] is True
