"""Pages of warranty claims: the dealer's list and claim page (edit the draft, submit,
answer the OEM, photos, old parts), the OEM's review queue (submitted and resubmitted
claims of every dealer, oldest first) and the reports with their Excel export.

Rows are scoped with ``restrict`` (another dealer's claim is a 404); each step goes through
a service, whose refusal is shown as a message.
"""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from aftersales.claims import selectors, services
from aftersales.claims.choices import (
    EDITABLE,
    IN_REVIEW,
    PHOTOS_OPEN,
    RETURN_PERMISSION,
    RETURN_STEPS,
    ClaimStatus,
    ReturnStatus,
)
from aftersales.claims.forms import ClaimEditForm
from aftersales.claims.models import ClaimPhoto, WarrantyClaim
from aftersales.claims.reports import bucket_labels, claims_workbook
from aftersales.core.access import user_has_perm
from aftersales.core.errors import ServiceError
from aftersales.core.idempotency import once, request_key
from aftersales.core.pages import PermissionPage, flash_error

S = ClaimStatus
VIEW = "claims.view_warrantyclaim"


def _claim(request, pk, action="view"):
    try:
        return (
            selectors.claim_detail(request.user, pk)
            if action == "view"
            else get_object_or_404(selectors.claims(request.user, action), pk=pk)
        )
    except WarrantyClaim.DoesNotExist:
        raise Http404 from None


def _date_param(request, name):
    raw = request.GET.get(name) or ""
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


# ---------------------------------------------------------------- lists


class ClaimListView(PermissionPage, ListView):
    """The claims the user may see, newest first, filtered by status or a search."""

    permission = VIEW
    template_name = "claims/claim_list.html"
    paginate_by = 50

    def get_queryset(self):
        return selectors.filtered(
            selectors.claims(self.request.user).order_by("-created_at", "-id"),
            status=self.request.GET.get("status")
            if self.request.GET.get("status") in S.values
            else None,
            q=self.request.GET.get("q"),
        )

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            **kwargs,
            statuses=S.choices,
            status=self.request.GET.get("status", ""),
            q=self.request.GET.get("q", ""),
            can_review=user_has_perm(user, "claims.review_warrantyclaim"),
        )


class ReviewQueueView(PermissionPage, ListView):
    """The OEM's queue: claims waiting for a decision, oldest submission first."""

    permission = "claims.review_warrantyclaim"
    template_name = "claims/review_queue.html"
    paginate_by = 50

    def get_queryset(self):
        queryset = selectors.review_queue(self.request.user)
        dealer = self.request.GET.get("dealer")
        return selectors.filtered(queryset, dealer=dealer) if dealer else queryset

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        context = super().get_context_data(**kwargs)
        for claim in context["object_list"]:
            claim.age_days = (today - timezone.localtime(claim.submitted_at).date()).days
        context["dealer"] = self.request.GET.get("dealer", "")
        return context


# ---------------------------------------------------------------- one claim


def _actions(user, claim):
    """Which forms the claim page shows to this user."""
    may = lambda perm: services.may(user, perm, claim)  # noqa: E731
    return {
        "can_edit": claim.status in EDITABLE and may("claims.change_warrantyclaim"),
        "can_submit": claim.status == S.DRAFT and may("claims.submit_warrantyclaim"),
        "can_answer": claim.status == S.INFO_REQUESTED and may("claims.submit_warrantyclaim"),
        "can_review": claim.status in IN_REVIEW and may("claims.review_warrantyclaim"),
        "can_settle": claim.status == S.APPROVED and may("claims.settle_warrantyclaim"),
        "can_add_photos": claim.status in PHOTOS_OPEN
        and (may("claims.change_warrantyclaim") or may("claims.submit_warrantyclaim")),
    }


def _return_steps(user, claim):
    """For each part line, the old-part steps this user may take now."""
    if claim.status == S.DRAFT:
        return {}
    steps = {}
    for line in claim.lines.all():
        if line.kind != "part":
            continue
        steps[line.pk] = [
            (to, ReturnStatus(to).label)
            for to in sorted(RETURN_STEPS.get(line.return_status, ()))
            if services.may(user, RETURN_PERMISSION[to], claim)
        ]
    return steps


def _detail(request, claim, *, form=None, status=200):
    actions = _actions(request.user, claim)
    ro_photos = []
    if actions["can_add_photos"]:
        from aftersales.workorders.models import RepairOrderPhoto

        taken = {p.ro_photo_id for p in claim.photos.all() if p.ro_photo_id}
        ro_photos = [
            p
            for p in RepairOrderPhoto.objects.filter(repair_order_id=claim.repair_order_id)
            if p.pk not in taken
        ]
    context = {
        "claim": claim,
        "form": form or (ClaimEditForm.for_claim(claim) if actions["can_edit"] else None),
        "missing": services.missing_fields(claim) if claim.status == S.DRAFT else {},
        "return_steps": _return_steps(request.user, claim),
        "ro_photos": ro_photos,
        **actions,
    }
    return render(request, "claims/claim_detail.html", context, status=status)


class ClaimDetailView(PermissionPage, View):
    permission = VIEW

    def get(self, request, pk):
        return _detail(request, _claim(request, pk))


class ClaimEditView(PermissionPage, View):
    permission = "claims.change_warrantyclaim"

    def post(self, request, pk):
        _claim(request, pk, "change")
        claim = _claim(request, pk)
        form = ClaimEditForm.for_claim(claim, request.POST)
        if form.is_valid():
            try:
                services.claim_update(
                    actor=request.user,
                    claim=claim,
                    version=form.cleaned_data["version"],
                    **form.changes(),
                )
            except ServiceError as exc:
                for name, errors in (exc.fields or {}).items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
                if not exc.fields:
                    form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Claim %(number)s saved.") % {"number": claim.number})
                return redirect("claim-detail", pk=claim.pk)
        return _detail(request, claim, form=form)


class ClaimTransitionView(PermissionPage, View):
    """One status step from a form on the claim page or the review queue."""

    permission = VIEW

    def post(self, request, pk):
        claim = _claim(request, pk)
        to = request.POST.get("to", "")
        try:
            services.claim_transition(
                actor=request.user,
                claim=claim,
                to=to,
                version=request.POST.get("version"),
                note=request.POST.get("note", ""),
                approved_amount=request.POST.get("approved_amount"),
                paid_amount=request.POST.get("paid_amount"),
                payment_reference=request.POST.get("payment_reference", ""),
            )
        except ServiceError as exc:
            flash_error(request, exc)
        except DjangoPermissionDenied:
            messages.error(request, _("You do not have permission to do this."))
        else:
            messages.success(
                request,
                _("Claim %(number)s: %(status)s.")
                % {"number": claim.number, "status": S(to).label},
            )
            if request.POST.get("next") == "queue":
                return redirect("claim-review-queue")
        return redirect("claim-detail", pk=claim.pk)


class ClaimPhotoAddView(PermissionPage, View):
    permission = VIEW

    def post(self, request, pk):
        claim = _claim(request, pk)
        ids = [int(v) for v in request.POST.getlist("repair_order_photos") if v.isdigit()]
        try:
            made = services.claim_photo_add(
                actor=request.user,
                claim=claim,
                upload=request.FILES.get("image"),
                ro_photos=ids,
                caption=request.POST.get("caption", ""),
            )
        except ServiceError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("%(n)d photo(s) added.") % {"n": len(made)})
        return redirect("claim-detail", pk=claim.pk)


class ClaimPhotoView(PermissionPage, View):
    """A claim's photo, only to those who may see the claim."""

    permission = VIEW

    def get(self, request, pk, photo_id):
        claim = get_object_or_404(selectors.claims(request.user), pk=pk)
        photo = get_object_or_404(
            ClaimPhoto.objects.select_related("ro_photo"), pk=photo_id, claim=claim
        )
        image = photo.ro_photo.image if photo.ro_photo_id else photo.image
        response = FileResponse(image.open("rb"), content_type=photo.content_type)
        response["Cache-Control"] = "private, max-age=3600"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ClaimLineReturnView(PermissionPage, View):
    permission = VIEW

    def post(self, request, pk, line_id):
        claim = _claim(request, pk)
        line = next((ln for ln in claim.lines.all() if ln.pk == line_id), None)
        if line is None:
            raise Http404
        try:
            services.claim_line_return(
                actor=request.user,
                line=line,
                to=request.POST.get("to", ""),
                note=request.POST.get("note", ""),
            )
        except ServiceError as exc:
            flash_error(request, exc)
        return redirect("claim-detail", pk=claim.pk)


class ClaimCreateView(PermissionPage, View):
    """Create (or open) the claim of a repair order: a button on the order's page."""

    permission = "claims.add_warrantyclaim"

    def post(self, request, ro_pk):
        from aftersales.workorders.models import RepairOrder

        order = get_object_or_404(RepairOrder.objects.restrict(request.user, "view"), pk=ro_pk)
        try:
            claim, _acted = once(
                user=request.user,
                scope="claims.create",
                key=request_key(request),
                action=lambda: services.claim_create(actor=request.user, repair_order=order),
                model=WarrantyClaim,
            )
        except ServiceError as exc:
            existing = services.open_claim_of(order)
            if existing is not None and exc.code == "claim_exists":
                messages.info(request, str(exc.message))
                return redirect("claim-detail", pk=existing.pk)
            flash_error(request, exc)
            return redirect("repair-order-detail", pk=order.pk)
        messages.success(request, _("Claim %(number)s created.") % {"number": claim.number})
        return redirect("claim-detail", pk=claim.pk)


# ---------------------------------------------------------------- reports


class ClaimReportsView(PermissionPage, View):
    permission = VIEW

    def get(self, request):
        date_from, date_to = _date_param(request, "date_from"), _date_param(request, "date_to")
        ageing = selectors.claim_ageing(request.user)
        rates = selectors.approval_rates(request.user, date_from=date_from, date_to=date_to)
        labels = bucket_labels()
        buckets = [(key, labels[key]) for key in labels]
        for row in ageing:
            row.cells = [(row.counts[k], row.amounts[k]) for k, _label in buckets]
        return render(
            request,
            "claims/reports.html",
            {
                "object_list": ageing,
                "ageing": ageing,
                "rates": rates,
                "buckets": buckets,
                "date_from": date_from,
                "date_to": date_to,
            },
        )


class ClaimReportsExportView(PermissionPage, View):
    permission = VIEW

    def get(self, request):
        data = claims_workbook(
            request.user,
            date_from=_date_param(request, "date_from"),
            date_to=_date_param(request, "date_to"),
        )
        response = HttpResponse(
            data,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="warranty-claims-{stamp}.xlsx"'
        return response
