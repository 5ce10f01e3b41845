"""Statuses, kinds and the allowed transitions of the parts documents."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    PIECE = "pc", _("piece")
    SET = "set", _("set")
    PAIR = "pair", _("pair")
    LITRE = "l", _("litre")
    KILOGRAM = "kg", _("kilogram")
    METRE = "m", _("metre")
    BOTTLE = "btl", _("bottle")


class MoveKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")  # goods received from the parts centre (a PO)
    ISSUE = "issue", _("Issue")  # issued to a repair order or over the counter
    RETURN = "return", _("Return")  # returned from a repair order to stock
    ADJUSTMENT = "adjustment", _("Adjustment")  # a manual correction, with a reason
    TRANSFER_OUT = "transfer_out", _("Transfer out")  # left this warehouse for another
    TRANSFER_IN = "transfer_in", _("Transfer in")  # arrived from another warehouse
    STOCKTAKE = "stocktake", _("Stocktake variance")  # posted when a count is approved
    RELOCATION = "relocation", _("Bin move")  # from one bin to another in a warehouse


class ReservationStatus(models.TextChoices):
    ACTIVE = "active", _("Reserved")  # holds quantity; the open part may still be issued
    CONSUMED = "consumed", _("Issued")  # the whole quantity was issued
    RELEASED = "released", _("Released")  # cancelled by its document or a person
    EXPIRED = "expired", _("Expired")  # released by the expiry job


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")  # being written; lines may change
    SUBMITTED = "submitted", _("Submitted")  # sent to the parts centre; waiting for goods
    PARTLY_RECEIVED = "partly_received", _("Partly received")  # some lines still open
    RECEIVED = "received", _("Received")  # every line received in full (or closed short)
    CANCELLED = "cancelled", _("Cancelled")  # withdrawn before anything was received


PURCHASE_ORDER_TRANSITIONS = {
    PurchaseOrderStatus.DRAFT: {PurchaseOrderStatus.SUBMITTED, PurchaseOrderStatus.CANCELLED},
    PurchaseOrderStatus.SUBMITTED: {
        PurchaseOrderStatus.PARTLY_RECEIVED,
        PurchaseOrderStatus.RECEIVED,
        PurchaseOrderStatus.CANCELLED,
    },
    PurchaseOrderStatus.PARTLY_RECEIVED: {
        PurchaseOrderStatus.PARTLY_RECEIVED,
        PurchaseOrderStatus.RECEIVED,
    },
    PurchaseOrderStatus.RECEIVED: set(),
    PurchaseOrderStatus.CANCELLED: set(),
}


class StocktakeStatus(models.TextChoices):
    COUNTING = "counting", _("Counting")  # sheet snapshotted; counts being entered
    REVIEW = "review", _("In review")  # counting finished; variances being checked
    APPROVED = "approved", _("Approved")  # variances posted to the ledger
    CANCELLED = "cancelled", _("Cancelled")  # abandoned; nothing posted


STOCKTAKE_TRANSITIONS = {
    StocktakeStatus.COUNTING: {StocktakeStatus.REVIEW, StocktakeStatus.CANCELLED},
    StocktakeStatus.REVIEW: {
        StocktakeStatus.COUNTING,
        StocktakeStatus.APPROVED,
        StocktakeStatus.CANCELLED,
    },
    StocktakeStatus.APPROVED: set(),
    StocktakeStatus.CANCELLED: set(),
}


class TransferStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")  # between dealers: the sender decides
    APPROVED = "approved", _("Approved")  # ready to ship
    IN_TRANSIT = "in_transit", _("In transit")  # shipped: left the source, not yet arrived
    RECEIVED = "received", _("Received")  # arrived and booked into the destination
    REJECTED = "rejected", _("Rejected")  # the sending dealer refused
    CANCELLED = "cancelled", _("Cancelled")  # withdrawn before shipping


TRANSFER_TRANSITIONS = {
    TransferStatus.REQUESTED: {
        TransferStatus.APPROVED,
        TransferStatus.REJECTED,
        TransferStatus.CANCELLED,
    },
    TransferStatus.APPROVED: {TransferStatus.IN_TRANSIT, TransferStatus.CANCELLED},
    TransferStatus.IN_TRANSIT: {TransferStatus.RECEIVED},
    TransferStatus.RECEIVED: set(),
    TransferStatus.REJECTED: set(),
    TransferStatus.CANCELLED: set(),
}
