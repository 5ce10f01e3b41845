"""Short English words that mean different things on different screens carry a context, so
the Chinese fits each screen (one shared "Due" once read 待回访 on invoices and reminders
alike)."""

import pytest
from django.utils import translation
from django.utils.translation import gettext, pgettext


@pytest.mark.parametrize(
    "context, word, chinese",
    [
        (None, "Due", "到期"),  # a reminder's due date
        ("amount", "Due", "待收"),  # what an invoice still asks for
        ("follow-up", "Due", "待回访"),  # a follow-up call to make now
        ("deadline", "due", "截止"),  # a complaint step's deadline
        (None, "Assign", "分配"),  # reminders and complaints to an agent
        ("workshop", "Assign", "派工"),  # a job to a technician
        ("workshop", "Job", "作业"),  # not a background job (后台任务)
        (None, "Issued", "已出库"),  # parts out of stock
        ("invoice", "Issued", "已开具"),
        ("coupon", "Issued", "已发放"),
        ("quantity", "Open", "未到货"),  # a purchase order line not yet received
        ("status", "Open", "未结"),
        ("complaint", "Received", "已受理"),  # not goods received (已收货)
        ("complaint", "Assigned", "已分配"),  # not a workshop job (已派工)
        ("agent", "Not assigned", "未分配"),
    ],
)
def test_the_word_reads_right_in_its_context(context, word, chinese):
    with translation.override("zh-hans"):
        shown = pgettext(context, word) if context else gettext(word)
    assert shown == chinese
