from pathlib import Path

from django.conf import settings

from aftersales.appointments.choices import transition_diagram


def test_the_booking_diagram_in_the_docs_is_the_transition_table():
    doc = Path(settings.BASE_DIR, "docs", "appointments.md").read_text()
    assert transition_diagram() in doc, "paste transition_diagram() into docs/appointments.md"
