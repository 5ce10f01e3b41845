"""The CRM services: customers, vehicles, odometer, ownership, relationships, visibility and
merge. Every refusal names what is wrong and changes nothing."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction
from django.utils import timezone, translation

from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.core.models import AuditAction, AuditLog
from aftersales.crm import selectors
from aftersales.crm.choices import OwnershipReason, RelationshipKind, VisitKind
from aftersales.crm.models import (
    Customer,
    CustomerTag,
    DealerCustomer,
    DealerVehicle,
    OdometerReading,
    Ownership,
    ServiceVisit,
    Vehicle,
)
from aftersales.crm.services import (
    customer_create,
    customer_merge,
    customer_update,
    odometer_record,
    ownership_transfer,
    relationship_ensure,
    vehicle_update,
)
from aftersales.crm.testing import (
    make_customer,
    make_vehicle,
    unique_mobile,
    valid_id_number,
    valid_vin,
)
from aftersales.org.models import Dealer, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def dealer(code) -> Dealer:
    return Dealer.objects.get(code=code)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def audit_rows(obj, action=None):
    rows = AuditLog.objects.filter(object_id=str(obj.pk), content_type__model=obj._meta.model_name)
    return rows.filter(action=action) if action else rows


def visible(user, obj) -> bool:
    rows = selectors.customers(user) if isinstance(obj, Customer) else selectors.vehicles(user)
    return rows.filter(pk=obj.pk).exists()


@pytest.fixture
def bj(demo_org):
    """BJ01's service advisor and a customer of BJ01 owning one vehicle."""
    sa = demo_org["bj01-sa"]
    owner = make_customer(dealer=sa.dealer, actor=sa, name="张伟")
    vehicle = make_vehicle(owner=owner, dealer=sa.dealer, actor=sa)
    return sa, owner, vehicle


# ================================================================ customers


def test_create_normalises_links_to_the_dealer_and_audits(demo_org):
    # given BJ01's service advisor
    sa = demo_org["bj01-sa"]
    # when they register a customer with spaced name and a +86 mobile
    customer = customer_create(
        actor=sa,
        name="  王   芳 ",
        mobile="+86 139 0000 1234",
        id_number=valid_id_number(datetime.date(1990, 2, 3), seq=222),
        email="wang@example.com",
    )
    # then the values are canonical, birthday and gender come from the ID number
    customer = fresh(customer)
    assert (customer.name, customer.mobile) == ("王 芳", "13900001234")
    assert (customer.birthday, customer.gender) == (datetime.date(1990, 2, 3), "f")
    assert customer.origin_dealer == sa.dealer and customer.version == 1
    # and BJ01 has a "registered" relationship, and the creation is audited
    link = DealerCustomer.objects.get(customer=customer)
    assert (link.dealer, link.kind) == (sa.dealer, RelationshipKind.REGISTERED)
    assert audit_rows(customer, AuditAction.CREATE).count() == 1


def test_create_names_every_bad_field_at_once_and_writes_nothing(demo_org):
    # given BJ01's service advisor
    sa = demo_org["bj01-sa"]
    bad_id = valid_id_number()[:17] + "0"
    # when the form has a blank name, a 12-digit mobile, a bad ID and a bad e-mail
    with pytest.raises(ValidationFailed) as caught:
        customer_create(
            actor=sa, name="  ", mobile="139123456789", id_number=bad_id, email="not-mail"
        )
    # then every bad field is named with its reason
    fields = caught.value.fields
    assert set(fields) == {"name", "mobile", "id_number", "email"}
    assert fields["name"] == ["Enter the customer's name."]
    assert fields["mobile"] == ["A mobile number has 11 digits, not 12."]
    assert "should be" in fields["id_number"][0]
    # and nothing was written
    assert not Customer.objects.exists() and not AuditLog.objects.exists()
    assert not DealerCustomer.objects.exists()


def test_create_requires_name_and_mobile(demo_org):
    with pytest.raises(ValidationFailed) as caught:
        customer_create(actor=demo_org["bj01-sa"], city="北京")
    assert caught.value.fields == {
        "name": ["This field is required."],
        "mobile": ["This field is required."],
    }


def test_create_refuses_fields_that_cannot_be_set(demo_org):
    with pytest.raises(ValidationFailed) as caught:
        customer_create(
            actor=demo_org["bj01-sa"], name="张伟", mobile=unique_mobile(), segment="loyal"
        )
    assert caught.value.fields == {"segment": ["This field cannot be changed."]}
    assert not Customer.objects.exists()


def test_create_needs_the_permission(demo_org):
    # a technician sees customers but does not register them
    with pytest.raises(PermissionDenied):
        customer_create(actor=demo_org["bj01-tech"], name="张伟", mobile=unique_mobile())
    assert not Customer.objects.exists()


def test_a_mobile_belongs_to_one_live_customer(bj, demo_org):
    # given a customer of BJ01
    sa, owner, _vehicle = bj
    sh_sa = demo_org["sh01-sa"]
    # when SH01 (who cannot see them) registers someone with the same mobile
    with pytest.raises(ValidationFailed) as caught:
        customer_create(actor=sh_sa, name="李四", mobile=owner.mobile)
    # then it is refused on the mobile field, advising to look the vehicle up
    assert list(caught.value.fields) == ["mobile"]
    assert "already belongs to another customer" in caught.value.fields["mobile"][0]
    # and changing another customer to that mobile is refused too
    other = make_customer(dealer=sa.dealer, actor=sa, name="李四")
    with pytest.raises(ValidationFailed) as caught:
        customer_update(actor=sa, customer=other, version=1, mobile=owner.mobile)
    assert list(caught.value.fields) == ["mobile"]
    assert fresh(other).mobile != owner.mobile


def test_a_merged_customers_mobile_may_be_used_again(bj, demo_org):
    # given a duplicate merged into a survivor
    sa, owner, _vehicle = bj
    manager = demo_org["bj01-svcmgr"]
    duplicate = make_customer(dealer=sa.dealer, actor=sa, name="张伟")
    customer_merge(actor=manager, survivor=owner, duplicate=duplicate)
    # when a new customer is registered with the duplicate's old mobile
    again = customer_create(actor=sa, name="赵六", mobile=duplicate.mobile)
    # then it is accepted: uniqueness holds among live customers only
    assert again.mobile == duplicate.mobile


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creates_with_one_mobile_one_wins_the_other_gets_a_field_error(
    demo_org,
):
    # given two service advisors registering the same new mobile at the same moment
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    mobile = unique_mobile()
    first_inserted, first_may_commit = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                outcome["first"] = customer_create(
                    actor=demo_org["bj01-sa"], name="张伟", mobile=mobile
                )
                first_inserted.set()
                first_may_commit.wait(10)
        finally:
            close_old_connections()
            connection.close()

    def second():
        try:
            first_inserted.wait(10)
            # the first insert is not committed yet: the look-up passes, the insert waits
            outcome["second"] = customer_create(
                actor=demo_org["sh01-sa"], name="张伟", mobile=mobile
            )
        except ValidationFailed as exc:
            outcome["second"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    # when the second is blocked on the unique index, the first commits
    assert first_inserted.wait(10)
    deadline = timezone.now() + datetime.timedelta(seconds=10)
    waiting = 0
    while not waiting and timezone.now() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
            waiting = cursor.fetchone()[0]
        threading.Event().wait(0.02)
    assert waiting, "the second insert never waited on the first"
    first_may_commit.set()
    for thread in threads:
        thread.join(10)
    # then one customer exists and the loser got a clean error on the mobile field
    assert isinstance(outcome["first"], Customer)
    assert isinstance(outcome["second"], ValidationFailed)
    assert list(outcome["second"].fields) == ["mobile"]
    assert list(Customer.objects.filter(mobile=mobile).values_list("pk", flat=True)) == [
        outcome["first"].pk
    ]


def test_update_bumps_the_version_and_audits_the_change(bj):
    # given a customer at version 1
    sa, owner, _vehicle = bj
    # when the city is changed with the version read
    updated = customer_update(actor=sa, customer=owner, version=1, city="北京", address="望京")
    # then it is saved at version 2 and the audit row holds before and after
    assert (fresh(owner).city, fresh(owner).version, updated.version) == ("北京", 2, 2)
    entry = audit_rows(owner, AuditAction.UPDATE).get()
    assert entry.changes == {"city": ["", "北京"], "address": ["", "望京"]}


def test_a_stale_version_is_refused_with_409_and_changes_nothing(bj, demo_org):
    # given two people who opened the customer at version 1; the first saved already
    sa, owner, _vehicle = bj
    customer_update(actor=sa, customer=owner, version=1, city="北京", notes="first")
    before = fresh(owner)
    audits = AuditLog.objects.count()
    # when the second saves with version 1
    with pytest.raises(Conflict) as caught:
        customer_update(
            actor=demo_org["bj01-svcmgr"], customer=owner, version=1, city="天津", name="改名"
        )
    # then 409 stale_version, and the record and the trail are as the first left them
    assert (caught.value.status, caught.value.code) == (409, "stale_version")
    after = fresh(owner)
    assert (after.city, after.name, after.notes, after.version) == (
        before.city,
        before.name,
        "first",
        2,
    )
    assert AuditLog.objects.count() == audits


@pytest.mark.parametrize("version", [None, "", "v2"])
def test_a_missing_or_garbled_version_is_a_clear_error(bj, version):
    # given a customer and its vehicle
    sa, owner, vehicle = bj
    # when a client sends no usable version, then each write says so on the version field
    for call in (
        lambda: customer_update(actor=sa, customer=owner, version=version, city="北京"),
        lambda: vehicle_update(actor=sa, vehicle=vehicle, version=version, colour="白"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            call()
        assert list(caught.value.fields) == ["version"]
    # and nothing changed
    assert (fresh(owner).city, fresh(owner).version) == ("", 1)
    assert (fresh(vehicle).colour, fresh(vehicle).version) == ("", 1)


def test_a_merged_customer_cannot_be_edited(bj, demo_org):
    sa, owner, _vehicle = bj
    duplicate = make_customer(dealer=sa.dealer, actor=sa)
    customer_merge(actor=demo_org["bj01-svcmgr"], survivor=owner, duplicate=duplicate)
    with pytest.raises(Conflict) as caught:
        customer_update(actor=sa, customer=duplicate, version=2, city="北京")
    assert caught.value.code == "merged"


def test_another_dealer_cannot_edit_the_customer(bj, demo_org):
    _sa, owner, _vehicle = bj
    with pytest.raises(PermissionDenied):
        customer_update(actor=demo_org["sh01-sa"], customer=owner, version=1, city="上海")
    assert fresh(owner).city == ""


def test_tags_are_created_set_replaced_and_audited(bj):
    # given a customer with no tags and a service advisor allowed to add tags
    sa, owner, _vehicle = bj
    # when two tags (one repeated, one with odd spaces) are set
    customer_update(actor=sa, customer=owner, version=1, tags=["VIP", " 车队  客户 ", "VIP"])
    # then both exist once and are on the customer
    assert sorted(fresh(owner).tags.values_list("name", flat=True)) == ["VIP", "车队 客户"]
    assert CustomerTag.objects.count() == 2
    # when the tags are replaced
    customer_update(actor=sa, customer=owner, version=2, tags=["VIP"])
    # then only VIP is left, and each change has an audit row with old and new lists
    assert list(fresh(owner).tags.values_list("name", flat=True)) == ["VIP"]
    changes = [
        e.changes["tags"]
        for e in audit_rows(owner, AuditAction.UPDATE).order_by("id")
        if "tags" in e.changes
    ]
    assert changes == [[[], ["VIP", "车队 客户"]], [["VIP", "车队 客户"], ["VIP"]]]


def test_a_user_who_may_not_add_tags_can_only_use_existing_ones(bj, demo_org):
    # given the tag VIP exists, and a DCRC agent who may edit customers but not add tags
    _sa, owner, _vehicle = bj
    CustomerTag.objects.create(name="VIP")
    agent = demo_org["bj01-dcrc"]
    # when they use an unknown tag, then it is refused by name and nothing changes
    with pytest.raises(ValidationFailed) as caught:
        customer_update(actor=agent, customer=owner, version=1, tags=["VIP", "黑名单"])
    assert caught.value.fields == {"tags": ["Unknown tag: 黑名单"]}
    assert not fresh(owner).tags.exists() and fresh(owner).version == 1
    # while an existing tag is fine
    customer_update(actor=agent, customer=owner, version=1, tags=["VIP"])
    assert list(fresh(owner).tags.values_list("name", flat=True)) == ["VIP"]


def test_a_tag_longer_than_30_characters_is_refused(bj):
    sa, owner, _vehicle = bj
    with pytest.raises(ValidationFailed) as caught:
        customer_update(actor=sa, customer=owner, version=1, tags=["长" * 31])
    assert list(caught.value.fields) == ["tags"]


@pytest.mark.parametrize(
    "data",
    [{"quiet_from": "21:00"}, {"quiet_until": datetime.time(8, 0)}],
)
def test_quiet_hours_need_both_ends(bj, data):
    sa, owner, _vehicle = bj
    with pytest.raises(ValidationFailed) as caught:
        customer_update(actor=sa, customer=owner, version=1, **data)
    assert caught.value.fields == {
        "quiet_until": ["Give both ends of the quiet hours, or neither."]
    }
    assert fresh(owner).quiet_from is None


def test_quiet_hours_are_set_and_cleared_together(bj):
    sa, owner, _vehicle = bj
    customer_update(actor=sa, customer=owner, version=1, quiet_from="21:00", quiet_until="08:30")
    assert (fresh(owner).quiet_from, fresh(owner).quiet_until) == (
        datetime.time(21, 0),
        datetime.time(8, 30),
    )
    customer_update(actor=sa, customer=owner, version=2, quiet_from=None, quiet_until="")
    assert (fresh(owner).quiet_from, fresh(owner).quiet_until) == (None, None)


def test_a_quiet_hour_that_is_not_a_time_is_refused(bj):
    sa, owner, _vehicle = bj
    with pytest.raises(ValidationFailed) as caught:
        customer_update(actor=sa, customer=owner, version=1, quiet_from="9pm", quiet_until="8")
    assert caught.value.fields["quiet_from"] == ["Enter a time such as 21:00."]


def test_email_as_the_channel_needs_an_email_address(bj):
    # given a customer without an e-mail
    sa, owner, _vehicle = bj
    # when e-mail is chosen as the channel, then the e-mail field is asked for
    with pytest.raises(ValidationFailed) as caught:
        customer_update(actor=sa, customer=owner, version=1, contact_channel="email")
    assert caught.value.fields == {
        "email": ["Give an e-mail address when e-mail is the preferred channel."]
    }
    # with an address it is accepted; removing the address later is refused
    customer_update(
        actor=sa, customer=owner, version=1, contact_channel="email", email="zw@example.com"
    )
    with pytest.raises(ValidationFailed):
        customer_update(actor=sa, customer=owner, version=2, email="")
    assert fresh(owner).email == "zw@example.com"


def test_an_unknown_channel_is_refused(bj):
    sa, owner, _vehicle = bj
    with pytest.raises(ValidationFailed) as caught:
        customer_update(actor=sa, customer=owner, version=1, contact_channel="fax")
    assert list(caught.value.fields) == ["contact_channel"]


def test_marketing_consent_records_when_it_was_given_or_withdrawn(bj):
    sa, owner, _vehicle = bj
    customer_update(actor=sa, customer=owner, version=1, marketing_consent=True)
    given = fresh(owner)
    assert given.marketing_consent and given.marketing_consent_at is not None
    customer_update(actor=sa, customer=given, version=2, marketing_consent=False)
    withdrawn = fresh(owner)
    assert not withdrawn.marketing_consent
    assert withdrawn.marketing_consent_at >= given.marketing_consent_at


def test_an_other_phone_that_is_a_mobile_is_stored_in_its_canonical_form(bj):
    # given a customer, and a second number typed as +86 with spaces
    sa, owner, _vehicle = bj
    customer_update(actor=sa, customer=owner, version=1, phone2="+86 138 1111 2222")
    # then it is stored as the 11 digits (so duplicate checks compare like with like)
    assert fresh(owner).phone2 == "13811112222"
    # while a landline stays as typed, without spaces
    customer_update(actor=sa, customer=owner, version=2, phone2="010-6543 2100")
    assert fresh(owner).phone2 == "010-65432100"


# ================================================================ vehicles


def test_vehicle_warranty_comes_from_the_catalogue(bj):
    # given an X3 (vehicle 3 years/100,000 km, powertrain 5 years/150,000 km) invoiced
    # on 2024-03-01
    _sa, _owner, vehicle = bj
    vehicle = fresh(vehicle)
    # then the warranty runs from the invoice date to the day before the anniversary
    assert vehicle.warranty_start == datetime.date(2024, 3, 1)
    assert (vehicle.warranty_end, vehicle.warranty_km) == (datetime.date(2027, 2, 28), 100_000)
    assert (vehicle.powertrain_warranty_end, vehicle.powertrain_warranty_km) == (
        datetime.date(2029, 2, 28),
        150_000,
    )


def test_warranty_starts_at_the_sale_date_without_an_invoice_date(bj):
    sa, owner, _vehicle = bj
    vehicle = make_vehicle(
        owner=owner,
        dealer=sa.dealer,
        actor=sa,
        sale_date=datetime.date(2023, 7, 10),
        invoice_date=None,
    )
    assert vehicle.warranty_start == datetime.date(2023, 7, 10)
    assert vehicle.warranty_end == datetime.date(2026, 7, 9)


def test_a_warranty_starting_on_29_february_lasts_the_full_years(bj):
    # given a car invoiced on 29 February 2024
    sa, owner, _vehicle = bj
    vehicle = make_vehicle(
        owner=owner,
        dealer=sa.dealer,
        actor=sa,
        sale_date=datetime.date(2024, 2, 29),
        invoice_date=datetime.date(2024, 2, 29),
    )
    # then 3 and 5 years end on 28 February (there is no 29th): not a day is lost
    assert vehicle.warranty_end == datetime.date(2027, 2, 28)
    assert vehicle.powertrain_warranty_end == datetime.date(2029, 2, 28)
    # while a car invoiced the day before loses nothing either: its 3 years end on the 27th
    earlier = make_vehicle(
        owner=owner,
        dealer=sa.dealer,
        actor=sa,
        sale_date=datetime.date(2024, 2, 28),
        invoice_date=datetime.date(2024, 2, 28),
    )
    assert earlier.warranty_end == datetime.date(2027, 2, 27)


def test_changing_the_invoice_date_recomputes_the_warranty(bj):
    sa, _owner, vehicle = bj
    vehicle_update(actor=sa, vehicle=vehicle, version=1, invoice_date="2024-05-20")
    vehicle = fresh(vehicle)
    assert (vehicle.warranty_start, vehicle.warranty_end) == (
        datetime.date(2024, 5, 20),
        datetime.date(2027, 5, 19),
    )
    with pytest.raises(Conflict):
        vehicle_update(actor=sa, vehicle=vehicle, version=1, colour="白")


def test_vehicle_create_refuses_bad_and_duplicate_values_and_writes_nothing(bj):
    sa, owner, vehicle = bj
    count = Vehicle.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        make_vehicle(
            owner=owner,
            dealer=sa.dealer,
            actor=sa,
            vin=vehicle.vin,
            plate="京AI2345",
            sale_date=timezone.localdate() + datetime.timedelta(days=1),
            invoice_date=None,
        )
    fields = caught.value.fields
    assert set(fields) == {"vin", "plate", "sale_date"}
    assert "already registered" in fields["vin"][0]
    assert fields["sale_date"] == ["This date is in the future."]
    assert Vehicle.objects.count() == count


def test_an_invoice_long_before_the_sale_is_refused(bj):
    sa, owner, _vehicle = bj
    with pytest.raises(ValidationFailed) as caught:
        make_vehicle(
            owner=owner,
            dealer=sa.dealer,
            actor=sa,
            sale_date=datetime.date(2024, 6, 1),
            invoice_date=datetime.date(2024, 1, 1),
        )
    assert list(caught.value.fields) == ["invoice_date"]


def test_a_vehicle_sold_by_another_dealer_is_visible_to_both(demo_org):
    # given BJ01 registering a car that TJ01 sold
    sa = demo_org["bj01-sa"]
    owner = make_customer(dealer=sa.dealer, actor=sa)
    vehicle = make_vehicle(owner=owner, dealer=sa.dealer, actor=sa, selling_dealer=dealer("TJ01"))
    # then both dealers have the vehicle and its owner, TJ01 as seller
    kinds = dict(DealerVehicle.objects.filter(vehicle=vehicle).values_list("dealer__code", "kind"))
    assert kinds == {"BJ01": RelationshipKind.REGISTERED, "TJ01": RelationshipKind.SOLD}
    assert visible(demo_org["tj01-sa"], owner) and visible(demo_org["tj01-sa"], vehicle)
    assert not visible(demo_org["sh01-sa"], vehicle)


# ---------------------------------------------------------------- odometer


def test_odometer_readings_never_go_back_in_either_direction(bj):
    # given readings of 5,000 km on 1 Sep and 9,000 km on 1 Dec 2024
    sa, _owner, vehicle = bj
    odometer_record(actor=sa, vehicle=vehicle, km=5000, read_on=datetime.date(2024, 9, 1))
    odometer_record(actor=sa, vehicle=vehicle, km=9000, read_on=datetime.date(2024, 12, 1))
    # when a later reading is lower than the earlier one
    with pytest.raises(ValidationFailed) as caught:
        odometer_record(actor=sa, vehicle=vehicle, km=4999, read_on=datetime.date(2024, 10, 1))
    assert caught.value.code == "odometer_rollback"
    assert caught.value.fields == {"km": ["Lower than an earlier reading (5000 km)."]}
    # when a back-dated reading is higher than a later one
    with pytest.raises(ValidationFailed) as caught:
        odometer_record(actor=sa, vehicle=vehicle, km=9001, read_on=datetime.date(2024, 11, 1))
    assert caught.value.fields == {"km": ["Higher than a later reading (9000 km)."]}
    # then neither was stored; a back-dated reading in between is fine and does not
    # replace the vehicle's latest odometer
    assert OdometerReading.objects.filter(vehicle=vehicle).count() == 2
    odometer_record(actor=sa, vehicle=vehicle, km=7000, read_on=datetime.date(2024, 11, 1))
    vehicle = fresh(vehicle)
    assert (vehicle.odometer_km, vehicle.odometer_on) == (9000, datetime.date(2024, 12, 1))
    # and an equal reading on a later day is accepted (the car stood still)
    odometer_record(actor=sa, vehicle=vehicle, km=9000, read_on=datetime.date(2024, 12, 20))
    assert fresh(vehicle).odometer_on == datetime.date(2024, 12, 20)


def test_odometer_refuses_future_dates_dates_before_the_sale_and_silly_values(bj):
    sa, _owner, vehicle = bj
    with pytest.raises(ValidationFailed) as caught:
        odometer_record(
            actor=sa, vehicle=vehicle, km=10, read_on=timezone.localdate() + datetime.timedelta(1)
        )
    assert caught.value.fields == {"read_on": ["This date is in the future."]}
    with pytest.raises(ValidationFailed) as caught:
        odometer_record(actor=sa, vehicle=vehicle, km=10, read_on=datetime.date(2024, 2, 1))
    assert list(caught.value.fields) == ["read_on"]
    for km in (-1, 2_000_001, "lots"):
        with pytest.raises(ValidationFailed) as caught:
            odometer_record(actor=sa, vehicle=vehicle, km=km, read_on=datetime.date(2024, 5, 1))
        assert list(caught.value.fields) == ["km"]
    assert not OdometerReading.objects.filter(vehicle=vehicle).exists()


def test_odometer_reading_records_who_where_and_is_audited(bj):
    sa, _owner, vehicle = bj
    reading = odometer_record(
        actor=sa, vehicle=vehicle, km="12345", read_on="2024-08-08", source="reception"
    )
    assert (reading.km, reading.dealer, reading.recorded_by) == (12345, sa.dealer, sa)
    assert audit_rows(reading, AuditAction.CREATE).count() == 1


def test_another_dealer_cannot_record_a_reading(bj, demo_org):
    _sa, _owner, vehicle = bj
    with pytest.raises(PermissionDenied):
        odometer_record(actor=demo_org["sh01-sa"], vehicle=vehicle, km=100)


# ---------------------------------------------------------------- ownership


def test_transfer_ends_the_old_ownership_starts_a_new_one_and_is_audited(bj):
    # given BJ01's car owned by 张伟 since 2024-03-01, and a buyer
    sa, owner, vehicle = bj
    buyer = make_customer(dealer=sa.dealer, actor=sa, name="李娜")
    # when it is transferred on 2025-01-10
    ownership = ownership_transfer(
        actor=sa, vehicle=vehicle, new_owner=buyer, on_date="2025-01-10", version=1
    )
    # then the history has both owners with the right dates and reasons
    rows = list(
        Ownership.objects.filter(vehicle=vehicle)
        .order_by("started_on")
        .values_list("customer", "started_on", "ended_on", "reason")
    )
    assert rows == [
        (owner.pk, datetime.date(2024, 3, 1), datetime.date(2025, 1, 10), "new_sale"),
        (buyer.pk, datetime.date(2025, 1, 10), None, OwnershipReason.TRANSFER),
    ]
    assert ownership.recorded_by == sa
    assert fresh(vehicle).owner == buyer and fresh(vehicle).version == 2
    # and one audit row with the transfer action names both owners
    entry = audit_rows(vehicle, AuditAction.TRANSFER).get()
    assert entry.changes["owner"] == [owner.pk, buyer.pk]
    assert entry.changes["on_date"] == [None, "2025-01-10"]


@pytest.mark.parametrize(
    "on_date, message",
    [
        ("2024-02-29", "The current owner has owned it since 2024-03-01; pick a later date."),
        ("2999-01-01", "This date is in the future."),
        ("10/01/2025", "Enter a date such as 2026-03-15."),
    ],
)
def test_transfer_dates_are_checked_and_nothing_changes(bj, on_date, message):
    sa, owner, vehicle = bj
    buyer = make_customer(dealer=sa.dealer, actor=sa, name="李娜")
    with pytest.raises(ValidationFailed) as caught:
        ownership_transfer(actor=sa, vehicle=vehicle, new_owner=buyer, on_date=on_date)
    assert caught.value.fields == {"on_date": [message]}
    assert fresh(vehicle).owner == owner
    assert Ownership.objects.filter(vehicle=vehicle).count() == 1
    assert not audit_rows(vehicle, AuditAction.TRANSFER).exists()


def test_transfer_to_the_current_owner_or_a_merged_customer_is_refused(bj, demo_org):
    sa, owner, vehicle = bj
    with pytest.raises(ValidationFailed) as caught:
        ownership_transfer(actor=sa, vehicle=vehicle, new_owner=owner)
    assert list(caught.value.fields) == ["new_owner"]
    survivor = make_customer(dealer=sa.dealer, actor=sa)
    merged = make_customer(dealer=sa.dealer, actor=sa)
    customer_merge(actor=demo_org["bj01-svcmgr"], survivor=survivor, duplicate=merged)
    with pytest.raises(ValidationFailed):
        ownership_transfer(actor=sa, vehicle=vehicle, new_owner=fresh(merged))
    with pytest.raises(Conflict):
        ownership_transfer(actor=sa, vehicle=vehicle, new_owner=survivor, version=7)


def test_after_a_transfer_every_dealer_that_knows_the_car_knows_the_new_owner(bj, demo_org):
    # given BJ01's car, also serviced at SH01, and a buyer registered at BJ01
    sa, _owner, vehicle = bj
    relationship_ensure(dealer=dealer("SH01"), vehicle=vehicle)
    buyer = make_customer(dealer=sa.dealer, actor=sa, name="李娜")
    assert not visible(demo_org["sh01-sa"], buyer)
    # when the car is transferred to the buyer
    ownership_transfer(actor=sa, vehicle=vehicle, new_owner=buyer, on_date="2025-01-10")
    # then SH01 sees the buyer; a dealer with no tie to the car does not
    assert visible(demo_org["sh01-sa"], buyer)
    assert not visible(demo_org["gz01-sa"], buyer)


def test_a_transfer_to_a_customer_the_actor_cannot_see_is_refused(bj, demo_org):
    sa, owner, vehicle = bj
    sh_sa = demo_org["sh01-sa"]
    stranger = make_customer(dealer=sh_sa.dealer, actor=sh_sa)
    with pytest.raises(PermissionDenied):
        ownership_transfer(actor=sa, vehicle=vehicle, new_owner=stranger)
    assert fresh(vehicle).owner == owner


# ---------------------------------------------------------------- relationships


def test_relationship_ensure_is_idempotent_and_makes_the_owner_visible(bj, demo_org):
    # given BJ01's car that SH01 has never seen
    _sa, owner, vehicle = bj
    sh_sa = demo_org["sh01-sa"]
    assert not visible(sh_sa, vehicle) and not visible(sh_sa, owner)
    # when SH01 opens a repair order for it, twice
    relationship_ensure(dealer=sh_sa.dealer, vehicle=vehicle)
    relationship_ensure(dealer=sh_sa.dealer, vehicle=vehicle, kind=RelationshipKind.SOLD)
    # then SH01 sees the car and its owner, with one "serviced" row each
    assert visible(sh_sa, vehicle) and visible(sh_sa, owner)
    assert list(
        DealerVehicle.objects.filter(vehicle=vehicle, dealer=sh_sa.dealer).values_list(
            "kind", flat=True
        )
    ) == [RelationshipKind.SERVICED]
    assert DealerCustomer.objects.filter(customer=owner, dealer=sh_sa.dealer).count() == 1


# ---------------------------------------------------------------- visibility


@pytest.mark.parametrize(
    "username, sees",
    [
        ("bj01-sa", True),  # the dealer that registered them
        ("bj01-tech", True),  # any staff of that dealer
        ("tj01-sa", False),  # another dealer of the same region
        ("sh01-sa", False),  # another region's dealer
        ("north-rm", True),  # the manager of BJ01's region
        ("east-rm", False),  # another region's manager
        ("oem-csagent", True),  # OEM staff see everything
        ("oem-analyst", True),
    ],
)
def test_who_sees_a_dealers_customer_and_vehicle(bj, demo_org, username, sees):
    _sa, owner, vehicle = bj
    user = demo_org[username]
    assert visible(user, owner) is sees
    assert visible(user, vehicle) is sees


def test_merged_customers_drop_out_of_every_list(bj, demo_org):
    sa, owner, _vehicle = bj
    duplicate = make_customer(dealer=sa.dealer, actor=sa)
    customer_merge(actor=demo_org["bj01-svcmgr"], survivor=owner, duplicate=duplicate)
    assert not visible(sa, duplicate)
    assert not visible(demo_org["oem-csagent"], duplicate)


def test_the_360_shows_only_the_vehicles_the_user_may_see(demo_org):
    # given a customer with a car at BJ01 and another car only SH01 knows
    bj_sa, sh_sa = demo_org["bj01-sa"], demo_org["sh01-sa"]
    owner = make_customer(dealer=bj_sa.dealer, actor=bj_sa)
    at_bj = make_vehicle(owner=owner, dealer=bj_sa.dealer, actor=bj_sa, odometer_km=100)
    at_sh = make_vehicle(owner=owner, actor=None, dealer=sh_sa.dealer, odometer_km=200)
    # when each opens the 360
    seen_by_bj = selectors.customer_360(bj_sa, owner)
    seen_by_oem = selectors.customer_360(demo_org["oem-csagent"], owner)
    # then BJ01 sees its car, its ownership and its readings only; the OEM sees both
    assert [v.pk for v in seen_by_bj["vehicles"]] == [at_bj.pk]
    assert {o.vehicle_id for o in seen_by_bj["ownerships"]} == {at_bj.pk}
    assert {r.km for r in seen_by_bj["odometer"]} == {100}
    assert {v.pk for v in seen_by_oem["vehicles"]} == {at_bj.pk, at_sh.pk}


# ================================================================ merge


@pytest.fixture
def pair(demo_org):
    """A survivor with a BJ01 car, and its duplicate with a car serviced at TJ01, a visit,
    a tag and details the survivor lacks."""
    sa, manager = demo_org["bj01-sa"], demo_org["bj01-svcmgr"]
    survivor = make_customer(dealer=sa.dealer, actor=sa, name="张伟", tags=["VIP"])
    duplicate = make_customer(
        dealer=sa.dealer,
        actor=sa,
        name="张伟",
        email="zw@example.com",
        city="北京",
        id_number=valid_id_number(),
        tags=["车队"],
    )
    survivor_car = make_vehicle(owner=survivor, dealer=sa.dealer, actor=sa)
    duplicate_car = make_vehicle(owner=duplicate, dealer=sa.dealer, actor=sa)
    relationship_ensure(dealer=dealer("TJ01"), vehicle=duplicate_car)
    visit = ServiceVisit.objects.create(
        customer=duplicate,
        vehicle=duplicate_car,
        dealer=sa.dealer,
        visited_on=datetime.date(2025, 1, 5),
        kind=VisitKind.MAINTENANCE,
        amount=Decimal("880.00"),
    )
    return manager, survivor, duplicate, survivor_car, duplicate_car, visit


def test_merge_moves_everything_to_the_survivor(pair, demo_org):
    manager, survivor, duplicate, survivor_car, duplicate_car, visit = pair
    # when the duplicate is merged into the survivor
    result = customer_merge(actor=manager, survivor=survivor, duplicate=duplicate)
    # then its vehicle, ownership history, visit and tags belong to the survivor
    assert result.pk == survivor.pk
    assert fresh(duplicate_car).owner_id == survivor.pk
    assert set(Ownership.objects.filter(customer=survivor).values_list("vehicle", flat=True)) == {
        survivor_car.pk,
        duplicate_car.pk,
    }
    assert not Ownership.objects.filter(customer=duplicate).exists()
    assert fresh(visit).customer_id == survivor.pk
    assert sorted(fresh(survivor).tags.values_list("name", flat=True)) == ["VIP", "车队"]
    # and its dealer relationships: TJ01 now sees the survivor, one row per dealer
    assert visible(demo_org["tj01-sa"], survivor)
    assert DealerCustomer.objects.filter(customer=survivor, dealer__code="BJ01").count() == 1
    assert not DealerCustomer.objects.filter(customer=duplicate).exists()


def test_merge_fills_blank_fields_and_keeps_the_survivors_own(pair):
    manager, survivor, duplicate, *_rest = pair
    customer_update(actor=manager, customer=survivor, version=1, city="天津")
    survivor = fresh(survivor)
    customer_merge(actor=manager, survivor=survivor, duplicate=duplicate)
    merged = fresh(survivor)
    # the survivor's city stays; its blank e-mail, ID number and birthday are filled;
    # the duplicate's mobile becomes its other phone
    assert merged.city == "天津"
    assert merged.email == "zw@example.com"
    assert merged.id_number_hash == duplicate.id_number_hash != ""
    assert merged.birthday == duplicate.birthday
    assert merged.phone2 == duplicate.mobile
    assert merged.mobile == survivor.mobile
    assert merged.version == survivor.version + 1


def test_the_duplicate_stays_as_a_pointer_to_the_survivor(pair):
    manager, survivor, duplicate, *_rest = pair
    customer_merge(actor=manager, survivor=survivor, duplicate=duplicate)
    gone = fresh(duplicate)
    assert gone.merged_into_id == survivor.pk
    assert list(fresh(survivor).merged_from.all()) == [gone]


def test_merge_is_audited_on_both_records(pair):
    manager, survivor, duplicate, _sc, duplicate_car, _visit = pair
    customer_merge(actor=manager, survivor=survivor, duplicate=duplicate)
    on_survivor = audit_rows(survivor, AuditAction.MERGE).get()
    assert on_survivor.changes["merged"] == [duplicate.pk, survivor.pk]
    moved = on_survivor.changes["moved"][1]
    assert moved["vehicles"] == 1 and moved["servicevisit"] == 1 and moved["ownership"] == 1
    on_duplicate = audit_rows(duplicate, AuditAction.MERGE).get()
    assert on_duplicate.changes == {"merged_into": [None, survivor.pk]}
    assert on_survivor.actor == on_duplicate.actor == manager
    assert audit_rows(survivor, AuditAction.UPDATE).filter(changes__has_key="email").exists()


def test_the_owner_login_follows_the_survivor_but_two_logins_are_refused(pair):
    manager, survivor, duplicate, *_rest = pair
    login = User.objects.create(username="owner-1")
    Customer.objects.filter(pk=duplicate.pk).update(user=login)
    customer_merge(actor=manager, survivor=survivor, duplicate=fresh(duplicate))
    assert fresh(survivor).user == login and fresh(duplicate).user is None

    other = make_customer(dealer=manager.dealer, actor=manager)
    Customer.objects.filter(pk=other.pk).update(user=User.objects.create(username="owner-2"))
    with pytest.raises(Conflict) as caught:
        customer_merge(actor=manager, survivor=fresh(survivor), duplicate=fresh(other))
    assert caught.value.code == "merge_two_logins"
    assert fresh(other).merged_into_id is None


def test_merge_refusals_change_nothing(pair, demo_org):
    manager, survivor, duplicate, *_rest = pair
    # a customer with itself
    with pytest.raises(ValidationFailed):
        customer_merge(actor=manager, survivor=survivor, duplicate=survivor)
    # a role without the merge permission
    with pytest.raises(PermissionDenied):
        customer_merge(actor=demo_org["bj01-sa"], survivor=survivor, duplicate=duplicate)
    # another dealer's customer
    sh_sa = demo_org["sh01-sa"]
    stranger = make_customer(dealer=sh_sa.dealer, actor=sh_sa)
    with pytest.raises(PermissionDenied):
        customer_merge(actor=manager, survivor=survivor, duplicate=stranger)
    with pytest.raises(PermissionDenied):
        customer_merge(actor=manager, survivor=stranger, duplicate=survivor)
    assert not Customer.objects.filter(merged_into__isnull=False).exists()
    assert not AuditLog.objects.filter(action=AuditAction.MERGE).exists()
    # and merging twice
    customer_merge(actor=manager, survivor=survivor, duplicate=duplicate)
    with pytest.raises(Conflict) as caught:
        customer_merge(actor=manager, survivor=survivor, duplicate=duplicate)
    assert caught.value.code == "merged"


def test_a_vin_stays_unique_across_vehicle_create(bj):
    sa, owner, vehicle = bj
    other = valid_vin()
    created = make_vehicle(owner=owner, dealer=sa.dealer, actor=sa, vin=other.lower())
    assert created.vin == other and created.vin_last8 == other[-8:]
    assert Vehicle.objects.filter(vin=vehicle.vin).count() == 1


def test_a_colour_longer_than_the_field_is_refused_not_cut(demo_org):
    # given a service advisor and a customer
    sa = demo_org["bj01-sa"]
    owner = make_customer(dealer=sa.dealer, actor=sa)
    # when a vehicle is registered with a 21-character colour
    with translation.override("en"), pytest.raises(ValidationFailed) as exc:
        make_vehicle(owner=owner, dealer=sa.dealer, actor=sa, colour="深" * 21)
    # then the field says why and nothing was written
    assert exc.value.fields["colour"] == ["At most 20 characters."]
    assert not Vehicle.objects.filter(owner=owner).exists()
