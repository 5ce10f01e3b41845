from django.db import models
from django.utils.translation import gettext_lazy as _


class ContactChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone call")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("E-mail")


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")


class Segment(models.TextChoices):
    LOYAL = "loyal", _("Loyal")  # frequent, recent, spends well
    REGULAR = "regular", _("Regular")  # comes back regularly
    POTENTIAL = "potential", _("Potential")  # new or seldom, but recent
    AT_RISK = "at_risk", _("At risk")  # has not come for a while
    LOST = "lost", _("Lost")  # has not come for a long time


class CustomerSource(models.TextChoices):
    MANUAL = "manual", _("Entered by staff")
    SALE = "sale", _("Vehicle sale")
    IMPORT = "import", _("Import")
    REGISTRATION = "registration", _("Owner registration")


class OwnershipReason(models.TextChoices):
    NEW_SALE = "new_sale", _("New-car sale")
    TRANSFER = "transfer", _("Transfer of ownership (过户)")
    CORRECTION = "correction", _("Correction of the record")
    MERGE = "merge", _("Duplicate customers merged")
    IMPORT = "import", _("Import")


class OdometerSource(models.TextChoices):
    SALE = "sale", _("Sale / delivery")
    REPAIR_ORDER = "repair_order", _("Repair order")
    RECEPTION = "reception", _("Reception check")
    OWNER = "owner", _("Reported by the owner")
    INSPECTION = "inspection", _("Annual inspection")
    IMPORT = "import", _("Import")
    MANUAL = "manual", _("Entered by staff")


class RelationshipKind(models.TextChoices):
    SOLD = "sold", _("Sold the vehicle")
    SERVICED = "serviced", _("Serviced the vehicle")
    REGISTERED = "registered", _("Registered the customer")


class VisitKind(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    REPAIR = "repair", _("Repair")
    WARRANTY = "warranty", _("Warranty repair")
    ACCIDENT = "accident", _("Accident repair")
    OTHER = "other", _("Other")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("All or nothing: any error imports no row")
    VALID_ROWS = "valid_rows", _("Import the valid rows, report the others")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")  # uploaded, the job has not started
    RUNNING = "running", _("Running")  # validating and writing rows
    DONE = "done", _("Done")  # finished; error_rows may be > 0 in valid-rows mode
    REJECTED = "rejected", _("Rejected")  # all-or-nothing found errors: nothing written
    FAILED = "failed", _("Failed")  # the file could not be read or the job crashed
