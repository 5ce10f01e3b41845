from pathlib import Path

from django.conf import settings

from aftersales.complaints.choices import transition_diagram


def test_the_complaint_diagram_in_the_docs_is_the_transition_table():
    doc = Path(settings.BASE_DIR, "docs", "complaints.md").read_text()
    assert transition_diagram() in doc, "paste transition_diagram() into docs/complaints.md"
