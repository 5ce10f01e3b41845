"""Staff pages of the org app and the shell around them: sign-in, home, navigation,
language switch, dealer pages and their audit history."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from aftersales.core.models import AuditAction, AuditChannel, AuditLog, OutboxMessage, OutboxStatus
from aftersales.org.demo import DEMO_PASSWORD
from aftersales.org.models import Dealer

pytestmark = pytest.mark.django_db

_NAV_LINK = re.compile(
    r'data-menu="(?P<name>[\w-]+)">\s*(?:<i [^>]*></i>)?(?P<label>[^<]+?)\s*</a>'
)


def nav(response) -> dict[str, str]:
    """The navigation entries of a page: url name → visible label."""
    return {m["name"]: m["label"].strip() for m in _NAV_LINK.finditer(response.content.decode())}


@pytest.fixture
def org(demo_org):
    """The demo organisation's users by username."""
    return demo_org


@pytest.fixture
def bj01():
    return Dealer.objects.get(code="BJ01")


@pytest.fixture
def sh01():
    return Dealer.objects.get(code="SH01")


# --- sign-in ---------------------------------------------------------------------------


def test_login_by_username_signs_in_and_lands_on_home(client, org):
    # given a dealer employee with a username and password
    # when they sign in with the username
    response = client.post(reverse("login"), {"username": "bj01-sa", "password": DEMO_PASSWORD})
    # then they are sent home, signed in as that person
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == org["bj01-sa"]


def test_login_by_mobile_number_signs_in(client, org):
    # given the same person's mobile number
    mobile = org["bj01-sa"].mobile
    assert mobile
    # when they sign in with the mobile number instead of the username
    response = client.post(reverse("login"), {"username": mobile, "password": DEMO_PASSWORD})
    # then they are signed in as that person
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == org["bj01-sa"]


def test_wrong_password_and_unknown_user_show_the_same_generic_message(client, org):
    # given an existing username with a wrong password, and a username nobody has
    # when both are tried (in English, to read the message)
    wrong_password = client.post(
        reverse("login"), {"username": "bj01-sa", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    unknown_user = client.post(
        reverse("login"), {"username": "nobody", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    # then the page stays on the form with one generic message, the same for both
    generic = "The username/mobile number or the password is wrong."
    for response in (wrong_password, unknown_user):
        assert response.status_code == 200
        assert generic in response.content.decode()
        assert not response.context["user"].is_authenticated


def test_login_page_labels_the_field_in_chinese_by_default(client):
    # given no language preference
    # when the sign-in page is opened
    response = client.get(reverse("login"))
    # then it is in Simplified Chinese, asking for the username or mobile number
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "用户名或手机号" in html


def test_too_many_failures_lock_sign_in_with_an_explanation(client, org, settings):
    # given the failure limit is reached for one username
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"), {"username": "bj01-sa", "password": "nope"}, HTTP_ACCEPT_LANGUAGE="en"
        )
    # when even the right password is tried
    response = client.post(
        reverse("login"),
        {"username": "bj01-sa", "password": DEMO_PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    # then sign-in is refused with the locked-out page that says why and for how long
    assert response.status_code == 429
    html = response.content.decode()
    assert "locked" in html
    assert "Please try again in 30 minutes." in html
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated


# --- home and navigation -----------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client):
    # when an anonymous visitor opens home
    response = client.get(reverse("home"))
    # then they are redirected to the sign-in page
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_lists_the_users_roles_and_units(client, org):
    # given a dealer administrator of BJ01 and the OEM administrator
    client.force_login(org["bj01-admin"])
    # when they open home
    html = client.get(reverse("home")).content.decode()
    # then the role and the dealer it is held at are listed (in Chinese by default)
    assert "经销商管理员" in html
    assert "北京星驰望京店" in html

    client.force_login(org["oem-admin"])
    html = client.get(reverse("home")).content.decode()
    # an OEM-level role shows the OEM as its unit
    assert "主机厂管理员" in html
    assert "星驰汽车" in html


def test_language_switch_to_english_changes_the_navigation(client, org):
    # given a signed-in dealer administrator, who sees the Chinese navigation
    client.force_login(org["bj01-admin"])
    assert nav(client.get(reverse("home")))["dealer-list"] == "经销商"
    # when they switch the language to English from the dealer list
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("dealer-list")}
    )
    # then they come back to the same page and the navigation is in English
    assert response.status_code == 302
    assert response["Location"] == reverse("dealer-list")
    page = client.get(reverse("dealer-list"))
    assert '<html lang="en">' in page.content.decode()
    assert nav(page) == {
        "repair-order-list": "Repair orders",
        "appointment-calendar": "Bookings",
        "day-plan": "Day plan",
        "appointment-stats": "Booking statistics",
        "schedule-setup": "Workshop capacity",
        "invoice-list": "Invoices",
        "billing-reports": "Settlement reports",
        "claim-list": "Warranty claims",
        "claim-reports": "Claim reports",
        "complaint-list": "Complaint list",
        "reminder-worklist": "Reminders",
        "reminder-campaign-list": "Service campaigns",
        "reminder-recall-list": "Recalls",
        "care-coupon-list": "Coupons",
        "care-holiday-list": "Holiday greetings",
        "reception": "Reception lookup",
        "customer-list": "Customers",
        "vehicle-list": "Vehicles",
        "duplicate-list": "Duplicates",
        "import-list": "Imports",
        "vehicle-model-list": "Vehicle catalogue",
        "segment-rule": "Segment rules",
        "part-lookup": "Parts",
        "stock-list": "Stock",
        "purchase-order-list": "Purchase orders",
        "stocktake-list": "Stocktakes",
        "transfer-list": "Transfers",
        "parts-reports": "Parts reports",
        "labour-operation-list": "Labour operations",
        "package-list": "Maintenance packages",
        "workshop-setup": "Workshop set-up",
        "billing-settings": "VAT and discount limits",
        "dealer-list": "Dealers",
        "staff-list": "Staff",
        "audit-list": "Audit trail",
        "outbox-list": "Outgoing messages",
        "message-template-list": "Message templates",
    }


def test_navigation_hides_entries_the_user_has_no_permission_for(client, org):
    # given a technician, who may see dealers, customers, vehicles, parts and stock but not
    # staff or the audit trail, nor merge, import, segmentation, purchasing or reports
    client.force_login(org["bj01-tech"])
    # when they open home
    entries = nav(client.get(reverse("home")))
    # then only what they may use is offered
    assert list(entries) == [
        "repair-order-list",
        "appointment-calendar",
        "day-plan",
        "my-jobs",
        "reception",
        "customer-list",
        "vehicle-list",
        "vehicle-model-list",
        "part-lookup",
        "stock-list",
        "dealer-list",
        "appointment-stats",
        "labour-operation-list",
        "package-list",
        "workshop-setup",
    ]
    # and opening a hidden page directly is refused
    assert client.get(reverse("staff-list")).status_code == 403
    assert client.get(reverse("audit-list")).status_code == 403


def test_active_menu_entry_is_marked(client, org, bj01):
    # given a signed-in dealer administrator on a dealer's page
    client.force_login(org["bj01-admin"])
    html = client.get(reverse("dealer-detail", args=[bj01.pk])).content.decode()
    # then the dealers entry is the current one
    assert re.search(
        r'class="nav-link active"[^>]*aria-current="page"[^>]*data-menu="dealer-list"', html
    )


def test_only_the_most_specific_menu_entry_is_marked(client, org):
    # given a service advisor on the day plan (under the bookings' /appointments/) and on
    # the new repair order page (under the repair orders' /repair-orders/)
    client.force_login(org["bj01-sa"])
    for url, current in (
        (reverse("day-plan"), "day-plan"),
        (reverse("repair-order-new"), "repair-order-new"),
        (reverse("appointment-calendar"), "appointment-calendar"),
    ):
        html = client.get(url).content.decode()
        # then that entry alone is the current one
        marked = re.findall(r'class="nav-link active"[^>]*data-menu="([\w-]+)"', html)
        assert marked == [current], url


# --- dealer pages ------------------------------------------------------------------------


def test_dealer_list_shows_only_the_users_dealer_and_searches(client, org):
    # given a BJ01 dealer administrator
    client.force_login(org["bj01-admin"])
    # when they open the dealer list
    codes = [d.code for d in client.get(reverse("dealer-list")).context["object_list"]]
    # then only their own dealer is listed
    assert codes == ["BJ01"]

    # given the OEM administrator who sees every dealer
    client.force_login(org["oem-admin"])
    # when they search for "上海"
    response = client.get(reverse("dealer-list"), {"q": "上海"})
    # then only the matching dealer is listed and the search stays in the box
    assert [d.code for d in response.context["object_list"]] == ["SH01"]
    assert 'value="上海"' in response.content.decode()


def test_dealer_admin_edits_dealer_and_the_change_shows_in_its_history(client, org, bj01):
    # given the BJ01 dealer administrator on the dealer page, which offers Edit and History
    admin = org["bj01-admin"]
    client.force_login(admin)
    detail = client.get(reverse("dealer-detail", args=[bj01.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = detail.content.decode()
    assert reverse("dealer-edit", args=[bj01.pk]) in html
    history_url = reverse("record-history", args=[detail.context["content_type_id"], bj01.pk])
    assert history_url in html
    old_phone = bj01.phone
    # when they change the service phone
    response = client.post(
        reverse("dealer-edit", args=[bj01.pk]),
        {
            "name": bj01.name,
            "city": bj01.city,
            "address": bj01.address,
            "phone": "010-12345678",
            "opens_at": "08:30",
            "closes_at": "18:00",
            "active": "on",
        },
    )
    # then the dealer is saved
    assert response.status_code == 302
    assert response["Location"] == reverse("dealer-detail", args=[bj01.pk])
    bj01.refresh_from_db()
    assert bj01.phone == "010-12345678"
    # and one audit entry records who changed what, through the web
    entry = AuditLog.objects.get(object_id=str(bj01.pk), action=AuditAction.UPDATE)
    assert entry.actor == admin
    assert entry.channel == AuditChannel.WEB
    assert entry.changes["phone"] == [old_phone, "010-12345678"]
    assert set(entry.changes) <= {"phone", "updated_at"}
    # and the history page shows it: who, channel, action, field, before → after
    history = client.get(history_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert str(admin) in history
    assert "Web" in history
    assert "Changed" in history
    assert "service phone" in history
    assert f'<del class="app-before">{old_phone}</del>' in history
    assert '<ins class="app-after">010-12345678</ins>' in history
    assert "updated_at" not in history
    # and so does the audit trail
    trail = client.get(reverse("audit-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "010-12345678" in trail


def test_saving_an_unchanged_dealer_writes_no_audit_entry(client, org, bj01):
    # given the BJ01 dealer administrator on the edit form
    client.force_login(org["bj01-admin"])
    unchanged = {
        "name": bj01.name,
        "city": bj01.city,
        "address": bj01.address,
        "phone": bj01.phone,
        "opens_at": "08:30",
        "closes_at": "18:00",
        "active": "on",
    }
    # when they save without changing anything
    response = client.post(
        reverse("dealer-edit", args=[bj01.pk]), unchanged, HTTP_ACCEPT_LANGUAGE="en"
    )
    # then they are told nothing changed, and the audit trail stays empty
    assert response.status_code == 302
    assert "Nothing was changed." in client.get(response["Location"]).content.decode()
    assert not AuditLog.objects.filter(object_id=str(bj01.pk)).exists()


def test_technician_sees_the_dealer_without_an_edit_button(client, org, bj01):
    # given a technician of BJ01
    client.force_login(org["bj01-tech"])
    # when they open their dealer
    response = client.get(reverse("dealer-detail", args=[bj01.pk]))
    # then there is no Edit button, and the edit page is refused
    assert response.status_code == 200
    assert reverse("dealer-edit", args=[bj01.pk]) not in response.content.decode()
    assert client.get(reverse("dealer-edit", args=[bj01.pk])).status_code == 403


def test_another_dealers_pages_answer_404(client, org, sh01):
    # given the BJ01 dealer administrator
    client.force_login(org["bj01-admin"])
    # when they open SH01's detail, edit and history pages
    detail = client.get(reverse("dealer-detail", args=[sh01.pk]))
    edit = client.get(reverse("dealer-edit", args=[sh01.pk]))
    dealer_type = ContentType.objects.get_for_model(Dealer)
    history = client.get(reverse("record-history", args=[dealer_type.id, sh01.pk]))
    # then each answers 404, with the friendly not-found page
    assert detail.status_code == 404
    assert edit.status_code == 404
    assert history.status_code == 404
    assert "找不到页面" in detail.content.decode()


# --- staff pages ---------------------------------------------------------------------------


def test_staff_list_shows_roles_and_only_the_own_dealers_people(client, org):
    # given the BJ01 dealer administrator
    client.force_login(org["bj01-admin"])
    # when they open the staff list
    response = client.get(reverse("staff-list"))
    # then every listed person works at BJ01, and their roles are shown
    people = list(response.context["object_list"])
    assert people and {p.dealer.code for p in people} == {"BJ01"}
    html = response.content.decode()
    assert "维修技师" in html
    assert "sh01-" not in html


def test_staff_detail_shows_the_persons_roles(client, org):
    # given the BJ01 dealer administrator
    client.force_login(org["bj01-admin"])
    # when they open the technician's page
    response = client.get(reverse("staff-detail", args=[org["bj01-tech"].pk]))
    # then the technician's role and dealer are shown
    html = response.content.decode()
    assert response.status_code == 200
    assert "维修技师" in html
    assert "北京星驰望京店" in html
    # and a person of another dealer answers 404
    assert client.get(reverse("staff-detail", args=[org["sh01-tech"].pk])).status_code == 404


def test_outbox_list_shows_status_attempts_and_last_error(client, org, bj01):
    # given a message for BJ01 that failed twice
    OutboxMessage.objects.create(
        channel="sms",
        recipient="13800001234",
        body="您的车辆已保养完毕",
        dealer=bj01,
        status=OutboxStatus.PENDING,
        attempts=2,
        next_attempt_at=timezone.now(),
        last_error="provider timeout",
    )
    client.force_login(org["bj01-admin"])
    # when the dealer administrator opens the outgoing messages
    html = client.get(reverse("outbox-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then the status, attempts and last error are shown
    assert "Waiting to send" in html
    assert "provider timeout" in html
    assert re.search(r'<td class="text-end">2</td>', html)


def test_password_change_page_renders(client, org):
    # given a signed-in user
    client.force_login(org["bj01-sa"])
    # when they open the password change page
    response = client.get(reverse("password_change"))
    # then the form with the three password fields is shown
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("old_password", "new_password1", "new_password2"):
        assert f'name="{name}"' in html


@pytest.mark.django_db
def test_django_admin_is_for_administrators_only(client, demo_org):
    # given the OEM administrator, a dealer administrator and a staff flag without the role
    sneaky = demo_org["bj01-sa"]
    sneaky.is_staff = True
    sneaky.save(update_fields=["is_staff"])
    # then only the OEM administrator (and the superuser) get into the Django admin
    client.force_login(demo_org["oem-admin"])
    assert client.get("/admin/org/dealer/").status_code == 200
    for username in ("bj01-admin", "bj01-sa"):
        client.force_login(demo_org[username])
        response = client.get("/admin/org/dealer/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_changes_in_the_django_admin_are_audited(client, demo_org):
    from aftersales.core.models import AuditChannel, AuditLog
    from aftersales.org.models import Dealer

    # given the OEM administrator in the Django admin
    client.force_login(demo_org["oem-admin"])
    dealer = Dealer.objects.get(code="TJ01")
    # when they change a dealer's city
    response = client.post(
        f"/admin/org/dealer/{dealer.pk}/change/",
        {
            "region": dealer.region_id,
            "code": dealer.code,
            "name": dealer.name,
            "city": "天津滨海新区",
            "address": "",
            "phone": dealer.phone,
            "opens_at": "08:30:00",
            "closes_at": "18:00:00",
            "active": "on",
        },
    )
    # then it is saved and the audit trail says who changed what, from the web
    assert response.status_code == 302, response.content[:2000]
    entry = AuditLog.objects.get(object_id=str(dealer.pk), action="update")
    assert entry.actor == demo_org["oem-admin"]
    assert entry.channel == AuditChannel.WEB
    assert entry.changes == {"city": ["天津", "天津滨海新区"]}
