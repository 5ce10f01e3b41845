from pathlib import Path

from django.apps import apps
from django.conf import settings

from aftersales.org.roles import ALL_PERMISSIONS, PERMISSION_LABELS, PERMISSIONS, ROLE_LEVEL, Role
from aftersales.org.rolesdoc import render_roles_doc

SPEC_ROLES = {
    # dealer
    "service_advisor", "technician", "foreman", "qc_inspector", "parts_clerk", "cashier",
    "dcrc_agent", "dcrc_manager", "service_manager", "dealer_admin",
    # region
    "region_manager",
    # OEM
    "cs_agent", "complaint_specialist", "tech_support", "legal", "marketing_pr", "analyst",
    "oem_admin",
}  # fmt: skip


def test_every_role_of_the_spec_exists_with_a_level_and_permissions():
    assert set(Role.values) == SPEC_ROLES
    assert set(ROLE_LEVEL) == set(Role) == set(PERMISSIONS)


def test_every_permission_names_a_real_model_and_has_a_label():
    for perm in ALL_PERMISSIONS:
        app_label, codename = perm.split(".")
        action, model_name = codename.split("_", 1)
        model = apps.get_model(app_label, model_name)
        custom = {name for name, _label in model._meta.permissions}
        assert action in {"view", "change", "add", "delete"} or codename in custom, perm
        assert perm in PERMISSION_LABELS, perm


def test_analyst_is_read_only():
    # seeing and exporting (reports) are reads
    assert all(p.split(".")[1].startswith(("view_", "export_")) for p in PERMISSIONS[Role.ANALYST])


def test_docs_roles_md_is_generated_from_the_table():
    doc = Path(settings.BASE_DIR, "docs", "roles.md").read_text()
    assert doc == render_roles_doc(), "run: aftersales roles_doc > docs/roles.md"
