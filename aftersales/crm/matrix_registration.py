"""Access-matrix declarations (see aftersales/testing/matrix.py) for owner registration.

Nothing is declared: the two endpoints (``api:owner-registration-start`` and
``api:owner-registration-confirm``) serve any signed-in login, because an owner holds no
staff role, and the matrix's cases are built on a permission some roles lack. They are
listed in ``PUBLIC`` instead, and aftersales/crm/tests/test_registration.py checks that an
anonymous caller gets 401 and a login without any role is served."""
