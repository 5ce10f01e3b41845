"""Access-matrix declarations of the warranty-claim pages and API (see
aftersales/testing/matrix.py).

Review and settle are held by OEM roles only, so their endpoints see every dealer's claims
and are declared ``scoped=False`` (the dealer-side scoping of the same rows is tested with
the dealer endpoints). The reports list one row per dealer whose ``id`` is the dealer's:
``make`` returns the dealer (with a submitted claim) so the matrix checks that a dealer's
row shows to its own users and not to another dealer's. Page forms are sent as JSON, so
they see no fields: the steps answer with a message and a redirect."""

import io

from aftersales.testing.matrix import Endpoint, declare

VIEW = "claims.view_warrantyclaim"
_NO_KWARGS = lambda record: {}  # noqa: E731 - a list URL reversed without arguments


def _claim(status):
    def make(dealer):
        from aftersales.claims.testing import make_claim

        return make_claim(dealer=dealer, status=status)

    return make


def _order(dealer):
    from aftersales.claims.testing import make_claimable_order

    return make_claimable_order(dealer=dealer)


def _dealer_with_open_claim(dealer):
    _claim("submitted")(dealer)
    return dealer


def _dealer_with_decided_claim(dealer):
    _claim("approved")(dealer)
    return dealer


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 10, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _with_photo(dealer):
    from django.core.files.base import ContentFile

    from aftersales.claims import services
    from aftersales.claims.testing import claim_author

    claim = _claim("draft")(dealer)
    claim.photo = services.claim_photo_add(
        actor=claim_author(dealer), claim=claim, upload=ContentFile(_png(), name="p.png")
    )[0]
    return claim


def _with_ro_photo(dealer):
    from django.core.files.base import ContentFile

    from aftersales.claims.testing import claim_author
    from aftersales.workorders import reception

    claim = _claim("draft")(dealer)
    claim.ro_photo = reception.photo_add(
        actor=claim_author(dealer),
        repair_order=claim.repair_order,
        upload=ContentFile(_png(), name="p.png"),
        kind="old_part",
    )
    return claim


def _part_line(claim):
    return claim.lines.get(kind="part")


declare(
    # ---------------------------------------------------------------- pages
    Endpoint("claim-list", "page", VIEW, make=_claim("draft")),
    Endpoint("claim-detail", "page", VIEW, make=_claim("draft"), detail=True),
    Endpoint(
        "claim-edit",
        "page",
        "claims.change_warrantyclaim",
        make=_claim("draft"),
        detail=True,
        method="post",
        data=lambda claim: {},
        ok_status=200,  # the page again with the form's errors
    ),
    Endpoint(
        "claim-transition",
        "page",
        VIEW,
        make=_claim("draft"),
        detail=True,
        method="post",
        data=lambda claim: {},
        ok_status=302,
    ),
    Endpoint(
        "claim-photo-add",
        "page",
        VIEW,
        make=_claim("draft"),
        detail=True,
        method="post",
        data=lambda claim: {},
        ok_status=302,
    ),
    Endpoint(
        "claim-photo",
        "page",
        VIEW,
        make=_with_photo,
        detail=True,
        url_kwargs=lambda claim: {"pk": claim.pk, "photo_id": claim.photo.pk},
    ),
    Endpoint(
        "claim-line-return",
        "page",
        VIEW,
        make=_claim("submitted"),
        detail=True,
        url_kwargs=lambda claim: {"pk": claim.pk, "line_id": _part_line(claim).pk},
        method="post",
        data=lambda claim: {},
        ok_status=302,
    ),
    Endpoint(
        "claim-create",
        "page",
        "claims.add_warrantyclaim",
        make=_order,
        detail=True,
        url_kwargs=lambda order: {"ro_pk": order.pk},
        method="post",
        data=lambda order: {},
        ok_status=302,
    ),
    Endpoint(
        "claim-review-queue",
        "page",
        "claims.review_warrantyclaim",
        make=_claim("submitted"),
        scoped=False,
    ),
    Endpoint("claim-reports", "page", VIEW, make=_dealer_with_open_claim),
    Endpoint(
        "claim-reports-export",
        "page",
        VIEW,
        make=_dealer_with_open_claim,
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,  # the workbook's rows are scoped like the page's (tests/test_reports.py)
    ),
    # ---------------------------------------------------------------- API
    Endpoint("api:claim-list", "api", VIEW, make=_claim("draft")),
    Endpoint("api:claim-detail", "api", VIEW, make=_claim("draft"), detail=True),
    Endpoint(
        "api:claim-list",
        "api",
        "claims.add_warrantyclaim",
        make=_order,
        detail=True,
        url_kwargs=_NO_KWARGS,
        method="post",
        data=lambda order: {"repair_order": order.pk},
        ok_status=201,
    ),
    Endpoint(
        "api:claim-detail",
        "api",
        "claims.change_warrantyclaim",
        make=_claim("draft"),
        detail=True,
        method="patch",
        data=lambda claim: {"version": claim.version, "description": "水泵渗漏"},
    ),
    Endpoint(
        "api:claim-transition",
        "api",
        "claims.submit_warrantyclaim",
        make=_claim("draft"),
        detail=True,
        method="post",
        data=lambda claim: {"to": "submitted", "version": claim.version},
    ),
    Endpoint(
        "api:claim-photos",
        "api",
        "claims.change_warrantyclaim",
        make=_with_ro_photo,
        detail=True,
        method="post",
        data=lambda claim: {"repair_order_photos": [claim.ro_photo.pk]},
        ok_status=201,
    ),
    Endpoint(
        "api:claim-line-return",
        "api",
        "claims.change_warrantyclaim",
        make=_claim("submitted"),
        detail=True,
        method="post",
        data=lambda claim: {"line": _part_line(claim).pk, "to": "shipped"},
    ),
    Endpoint("api:claim-report-ageing", "api", VIEW, make=_dealer_with_open_claim),
    Endpoint("api:claim-report-rates", "api", VIEW, make=_dealer_with_decided_claim),
    Endpoint(
        "api:claim-report-codes",
        "api",
        VIEW,
        make=_claim("draft"),
        detail=True,
        url_kwargs=_NO_KWARGS,
        scoped=False,  # the OEM's code tables: the same for everyone who sees claims
    ),
)
