"""Personal data protection (PIPL): resident ID numbers are stored encrypted, found by a
keyed hash, shown masked, and revealed only to roles allowed to, with an audit row."""

import pytest
from cryptography.fernet import InvalidToken
from django.db import connection
from django.utils import translation

from aftersales.core.errors import PermissionDenied
from aftersales.core.models import AuditAction, AuditLog
from aftersales.crm import pii, selectors
from aftersales.crm.models import Customer
from aftersales.crm.services import customer_reveal_id_number, customer_update
from aftersales.crm.testing import make_customer, valid_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def forget_pii_keys():
    """The derived keys are cached per secret; start and end each key change clean."""
    pii._fernet.cache_clear()
    pii._index_key.cache_clear()
    yield
    pii._fernet.cache_clear()
    pii._index_key.cache_clear()


def reveals_of(customer):
    return AuditLog.objects.filter(object_id=str(customer.pk), action=AuditAction.REVEAL)


def raw_row(customer) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Customer._meta.db_table} WHERE id = %s", [customer.pk])
        return [str(value) for value in cursor.fetchone()]


def test_the_plain_id_number_is_nowhere_in_the_stored_row_nor_the_audit_trail(demo_org):
    # given a customer registered with a resident ID number
    sa = demo_org["bj01-sa"]
    number = valid_id_number()
    customer = make_customer(dealer=sa.dealer, actor=sa, id_number=number)
    # when the row is read with raw SQL
    row = raw_row(customer)
    # then no column holds the number, nor its birth-date middle; the masked form is there
    assert not any(number in value or number[6:14] in value for value in row)
    assert "110105********" + number[-4:] in row
    # and the creation's audit row has the masked form only
    trail = [str(entry.changes) for entry in AuditLog.objects.filter(object_id=str(customer.pk))]
    assert trail and not any(number in text for text in trail)


def test_the_stored_ciphertext_decrypts_to_the_number_and_differs_each_time(demo_org):
    # given two customers with numbers, the same number encrypted twice
    number = valid_id_number()
    first, second = pii.encrypt(number), pii.encrypt(number)
    # then the ciphertexts differ (random IV) but both decrypt, and the index is stable
    assert first != second
    assert pii.decrypt(first) == pii.decrypt(second) == number
    assert pii.blind_index(number) == pii.blind_index(number) != pii.blind_index(number[:-1])


def test_search_by_the_exact_id_number_finds_the_customer_through_the_blind_index(demo_org):
    # given a customer with an ID number and another without
    sa = demo_org["bj01-sa"]
    number = valid_id_number(seq=321)
    customer = make_customer(dealer=sa.dealer, actor=sa, id_number=number)
    make_customer(dealer=sa.dealer, actor=sa)
    # when staff search for the number (typed with a lower-case x if any, spaced)
    hits = selectors.search(sa, f"{number[:6]} {number[6:]}".lower())
    # then exactly that customer is found, matched on the ID number
    assert [(h.id, h.match) for h in hits] == [(customer.pk, "id_number")]
    assert Customer.objects.get(id_number_hash=pii.blind_index(number)) == customer


def test_changing_the_id_number_replaces_ciphertext_hash_and_mask(demo_org):
    # given a customer with one number
    sa = demo_org["bj01-sa"]
    customer = make_customer(dealer=sa.dealer, actor=sa, id_number=valid_id_number(seq=100))
    new = valid_id_number(seq=202)
    # when staff correct it, then every stored form follows the new number
    customer = customer_update(actor=sa, customer=customer, version=1, id_number=new)
    fresh = Customer.objects.get(pk=customer.pk)
    assert pii.decrypt(fresh.id_number_encrypted) == new
    assert fresh.id_number_hash == pii.blind_index(new)
    assert fresh.id_number_masked.endswith(new[-4:])
    # and clearing it clears them all
    customer_update(actor=sa, customer=fresh, version=2, id_number="")
    fresh = Customer.objects.get(pk=customer.pk)
    assert (fresh.id_number_encrypted, fresh.id_number_hash, fresh.id_number_masked) == ("",) * 3


@pytest.mark.parametrize("username", ["bj01-svcmgr", "bj01-admin", "oem-legal"])
def test_a_role_allowed_to_reveal_gets_the_number_and_each_reveal_is_audited(demo_org, username):
    # given a customer of BJ01 with a number, and a user allowed to reveal it
    sa, user = demo_org["bj01-sa"], demo_org[username]
    number = valid_id_number()
    customer = make_customer(dealer=sa.dealer, actor=sa, id_number=number)
    # when they reveal it twice
    assert customer_reveal_id_number(actor=user, customer=customer) == number
    assert customer_reveal_id_number(actor=user, customer=customer) == number
    # then two reveal rows name them, and hold the masked form, never the number
    rows = list(reveals_of(customer))
    assert len(rows) == 2
    assert {row.actor_id for row in rows} == {user.pk}
    assert all(number not in str(row.changes) for row in rows)


@pytest.mark.parametrize(
    "username", ["bj01-sa", "bj01-tech", "north-rm", "oem-csagent", "sh01-svcmgr"]
)
def test_a_role_not_allowed_to_reveal_is_refused_and_nothing_is_audited(demo_org, username):
    # given a customer of BJ01 with a number (sh01-svcmgr may reveal, but not BJ01's)
    sa = demo_org["bj01-sa"]
    customer = make_customer(dealer=sa.dealer, actor=sa, id_number=valid_id_number())
    # when someone without the right tries to reveal it
    with pytest.raises(PermissionDenied):
        customer_reveal_id_number(actor=demo_org[username], customer=customer)
    # then no reveal is recorded
    assert not reveals_of(customer).exists()


def test_revealing_a_customer_without_a_number_gives_nothing_and_records_nothing(demo_org):
    sa, manager = demo_org["bj01-sa"], demo_org["bj01-svcmgr"]
    customer = make_customer(dealer=sa.dealer, actor=sa)
    assert customer_reveal_id_number(actor=manager, customer=customer) == ""
    assert not reveals_of(customer).exists()


def test_a_different_pii_key_cannot_decrypt_nor_find(demo_org, settings, forget_pii_keys):
    # given a number stored under the current key
    number = valid_id_number()
    token, index = pii.encrypt(number), pii.blind_index(number)
    # when the key is changed
    settings.PII_KEY = "another-secret-key-" + "x" * 32
    # then the stored ciphertext cannot be read (loudly, never as an empty string)
    with pytest.raises(RuntimeError, match="PII_KEY"):
        pii.decrypt(token)
    # and the same number no longer hashes to the stored index
    assert pii.blind_index(number) != index
    # while numbers stored under the new key work
    assert pii.decrypt(pii.encrypt(number)) == number


def test_the_derived_keys_belong_to_the_secret_they_are_cached_for(forget_pii_keys):
    # given two secrets, neither of them the configured one
    one, two = "secret-one-" + "a" * 32, "secret-two-" + "b" * 32
    # then each has its own keys, whatever PII_KEY says and whichever was asked first
    assert pii._index_key(one) != pii._index_key(two)
    token = pii._fernet(one).encrypt(b"110105")
    with pytest.raises(InvalidToken):
        pii._fernet(two).decrypt(token)
