"""Writes to the organisation. One function per business action, audited."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core.access import allowed_at, forget_scopes, user_has_perm
from aftersales.core.audit import audit_create, audit_update, snapshot
from aftersales.core.errors import Conflict, PermissionDenied, ValidationFailed
from aftersales.org.models import Dealer, Region, RoleAssignment, User
from aftersales.org.roles import ROLE_LEVEL, Level, Role


def _validated(instance, exclude=None):
    try:
        instance.full_clean(exclude=exclude)
    except DjangoValidationError as exc:
        raise ValidationFailed(fields=exc.message_dict) from exc
    return instance


def _require(actor, permission):
    if actor is not None and not user_has_perm(actor, permission):
        raise PermissionDenied()


@transaction.atomic
def region_create(*, actor, oem, code: str, name: str) -> Region:
    _require(actor, "org.change_region")
    region = _validated(Region(oem=oem, code=code.strip().upper(), name=name.strip()))
    region.save()
    audit_create(region, actor=actor)
    return region


@transaction.atomic
def dealer_create(*, actor, region: Region, code: str, name: str, **fields) -> Dealer:
    _require(actor, "org.change_region")
    dealer = _validated(
        Dealer(region=region, code=code.strip().upper(), name=name.strip(), **fields)
    )
    dealer.save()
    audit_create(dealer, actor=actor)
    return dealer


DEALER_EDITABLE = {"name", "city", "address", "phone", "opens_at", "closes_at", "active"}


@transaction.atomic
def dealer_update(*, actor, dealer: Dealer, **changes) -> Dealer:
    """Change a dealer's contact details. Another dealer than the actor may change raises
    ``Dealer.DoesNotExist`` (answered as 404); saving the same values changes nothing."""
    unknown = set(changes) - DEALER_EDITABLE
    if unknown:
        raise ValidationFailed(
            fields={f: [_("This field cannot be changed here.")] for f in sorted(unknown)}
        )
    dealers = Dealer.objects.all() if actor is None else Dealer.objects.restrict(actor, "change")
    dealer = dealers.select_for_update().get(pk=dealer.pk)
    changed = [f for f, value in changes.items() if getattr(dealer, f) != value]
    if not changed:
        return dealer
    before = snapshot(dealer)
    for field in changed:
        setattr(dealer, field, changes[field])
    _validated(dealer)
    dealer.save(update_fields=[*changed, "updated_at"])
    audit_update(dealer, actor=actor, before=before)
    return dealer


@transaction.atomic
def staff_create(
    *,
    actor,
    username: str,
    password: str | None,
    dealer=None,
    region=None,
    mobile: str | None = None,
    display_name: str = "",
    email: str = "",
    is_staff: bool = False,
) -> User:
    if not allowed_at(actor, "org.change_user", dealer=dealer):
        raise PermissionDenied()
    user = User(
        username=username.strip(),
        mobile=mobile or None,
        display_name=display_name,
        email=email,
        dealer=dealer,
        region=region,
        is_staff=is_staff,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _validated(user)
    user.save()
    audit_create(user, actor=actor)
    return user


def _unit_for(role, dealer, region):
    level = ROLE_LEVEL[role]
    if level == Level.DEALER and (dealer is None or region is not None):
        raise ValidationFailed(fields={"dealer": [_("A dealer role is held at a dealer.")]})
    if level == Level.REGION and (region is None or dealer is not None):
        raise ValidationFailed(fields={"region": [_("A region role is held at a region.")]})
    if level == Level.OEM and (region is not None or dealer is not None):
        raise ValidationFailed(fields={"role": [_("An OEM role is held at the OEM.")]})


@transaction.atomic
def role_assign(*, actor, user: User, role: str, dealer=None, region=None) -> RoleAssignment:
    """Grant a role at an org unit. Granting a role the person already holds there is a no-op."""
    if role not in Role.values:
        raise ValidationFailed(fields={"role": [_("Unknown role.")]})
    _unit_for(role, dealer, region)
    if not allowed_at(actor, "org.change_roleassignment", dealer=dealer):
        raise PermissionDenied()
    if actor is not None and not User.objects.restrict(actor, "change").filter(pk=user.pk).exists():
        raise PermissionDenied()  # a dealer admin grants roles to their own staff only
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, role=role, dealer=dealer, region=region, defaults={"active": True}
    )
    if created:
        audit_create(assignment, actor=actor)
    elif not assignment.active:
        before = snapshot(assignment)
        assignment.active = True
        assignment.save(update_fields=["active"])
        audit_update(assignment, actor=actor, before=before)
    forget_scopes(user)
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment: RoleAssignment) -> RoleAssignment:
    assignment = (
        RoleAssignment.objects.restrict(actor, "change").select_for_update().get(pk=assignment.pk)
        if actor is not None
        else RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
    )
    if not assignment.active:
        raise Conflict(_("This role has already been revoked."), code="already_revoked")
    before = snapshot(assignment)
    assignment.active = False
    assignment.save(update_fields=["active"])
    audit_update(assignment, actor=actor, before=before)
    forget_scopes(assignment.user)
    return assignment
