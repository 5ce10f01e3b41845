"""The audit trail: who changed what, through which channel; it can only grow."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction

from aftersales.core.audit import audit_channel, current_channel, history_for
from aftersales.core.models import AppendOnlyError, AuditAction, AuditChannel, AuditLog
from aftersales.org import services
from aftersales.org.models import Dealer, User

pytestmark = pytest.mark.django_db


def bj01():
    return Dealer.objects.get(code="BJ01")


def test_update_records_actor_channel_and_only_the_changed_fields(demo_org):
    # given the BJ01 admin and the dealer's current details
    admin = demo_org["bj01-admin"]
    dealer = bj01()
    old_name = dealer.name
    # when they change the name and the city (city to its current value)
    services.dealer_update(actor=admin, dealer=dealer, name="北京星驰望京旗舰店", city=dealer.city)
    # then one entry records who, the default channel, and the name change only
    entry = AuditLog.objects.get()
    assert entry.action == AuditAction.UPDATE
    assert entry.actor == admin
    assert entry.actor_name == str(admin)
    assert entry.channel == AuditChannel.SYSTEM
    assert entry.content_type == ContentType.objects.get_for_model(Dealer)
    assert entry.object_id == str(dealer.pk)
    assert entry.dealer_id == dealer.pk
    assert entry.changes == {"name": [old_name, "北京星驰望京旗舰店"]}


def test_create_records_every_field_but_never_the_password(demo_org):
    # when a staff member is created with a password
    user = services.staff_create(
        actor=demo_org["bj01-admin"],
        username="bj01-new",
        password="Str0ng-Passw0rd!",
        dealer=bj01(),
        mobile="13912345678",
        display_name="新同事",
    )
    # then the create entry lists the fields as [None, value] and no password or hash
    entry = AuditLog.objects.get()
    assert entry.action == AuditAction.CREATE
    assert entry.changes["username"] == [None, "bj01-new"]
    assert entry.changes["display_name"] == [None, "新同事"]
    assert entry.changes["dealer"] == [None, bj01().pk]
    assert "password" not in entry.changes
    assert user.password not in str(entry.changes)
    assert "argon2" not in str(entry.changes)
    assert entry.dealer_id == bj01().pk


def test_channel_comes_from_the_context(demo_org):
    # given the default channel outside any request
    assert current_channel() == AuditChannel.SYSTEM
    # when a change runs inside audit_channel("api")
    with audit_channel(AuditChannel.API):
        assert current_channel() == AuditChannel.API
        services.dealer_update(actor=demo_org["bj01-admin"], dealer=bj01(), phone="010-1")
    # then the entry says api, and the context is restored afterwards
    assert AuditLog.objects.get().channel == AuditChannel.API
    assert current_channel() == AuditChannel.SYSTEM


def test_channel_is_restored_after_an_error():
    with pytest.raises(RuntimeError), audit_channel(AuditChannel.JOB):
        raise RuntimeError("the job failed")
    assert current_channel() == AuditChannel.SYSTEM


def test_api_requests_are_audited_as_api(client, demo_org):
    # given the BJ01 admin signed in
    client.force_login(demo_org["bj01-admin"])
    # when they change the dealer through the API
    response = client.patch(
        f"/api/org/dealers/{bj01().pk}/", {"phone": "010-2"}, content_type="application/json"
    )
    # then the entry says api
    assert response.status_code == 200, response.content
    entry = AuditLog.objects.get()
    assert (entry.channel, entry.actor, entry.changes) == (
        AuditChannel.API,
        demo_org["bj01-admin"],
        {"phone": ["400-800-0000", "010-2"]},
    )


def test_page_requests_are_audited_as_web(client, demo_org):
    # given the BJ01 admin signed in
    client.force_login(demo_org["bj01-admin"])
    dealer = bj01()
    # when they submit the dealer form on the staff pages
    response = client.post(
        f"/org/dealers/{dealer.pk}/edit/",
        {
            "name": dealer.name,
            "city": dealer.city,
            "address": dealer.address,
            "phone": "010-3",
            "opens_at": "08:30",
            "closes_at": "18:00",
            "active": "on",
        },
    )
    # then the entry says web
    assert response.status_code == 302
    entry = AuditLog.objects.get()
    assert (entry.channel, entry.changes) == (
        AuditChannel.WEB,
        {"phone": ["400-800-0000", "010-3"]},
    )


def test_history_is_scoped_to_what_the_reader_may_see(demo_org):
    # given a change at BJ01
    services.dealer_update(actor=demo_org["bj01-admin"], dealer=bj01(), phone="010-4")
    # then the BJ01 service manager and the north region manager read it; SH01's manager not
    assert history_for(bj01(), demo_org["bj01-svcmgr"]).count() == 1
    assert history_for(bj01(), demo_org["north-rm"]).count() == 1
    assert history_for(bj01(), demo_org["sh01-svcmgr"]).count() == 0
    # and a technician (no audit permission) reads nothing of their own dealer
    assert history_for(bj01(), demo_org["bj01-tech"]).count() == 0


# append-only ---------------------------------------------------------------------------


@pytest.fixture
def entry(demo_org):
    services.dealer_update(actor=demo_org["bj01-admin"], dealer=bj01(), phone="010-5")
    return AuditLog.objects.get()


def _unchanged(entry):
    fresh = AuditLog.objects.get(pk=entry.pk)
    return (fresh.actor_name, fresh.changes, fresh.at) == (
        entry.actor_name,
        entry.changes,
        entry.at,
    )


def test_model_refuses_to_save_an_existing_entry(entry):
    entry.actor_name = "someone else"
    with pytest.raises(AppendOnlyError):
        entry.save()
    entry.refresh_from_db()
    assert entry.actor_name == str(User.objects.get(username="bj01-admin"))


def test_model_refuses_to_delete_an_entry(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditLog.objects.filter(pk=entry.pk).exists()


def test_database_refuses_a_raw_update(entry):
    # when the ORM bypasses the model with a queryset update
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(actor_name="someone else", changes={})
    # then the trigger refused it and the row is as it was
    assert _unchanged(entry)


def test_database_refuses_a_raw_delete(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
    assert _unchanged(entry)


def test_database_refuses_raw_sql(entry):
    table = AuditLog._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET actor_name = %s", ["x"])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
    assert _unchanged(entry)


def test_new_entries_can_still_be_added_in_bulk(entry):
    # the triggers refuse changes, not inserts
    AuditLog.objects.bulk_create(
        [
            AuditLog(
                channel=AuditChannel.IMPORT,
                action=AuditAction.CREATE,
                content_type=entry.content_type,
                object_id=entry.object_id,
                object_repr="bulk",
            )
            for _ in range(3)
        ]
    )
    assert AuditLog.objects.count() == 4
