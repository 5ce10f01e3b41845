"""CRM endpoints for the access test matrix: each part declares its own."""

from aftersales.crm import matrix_api, matrix_imports, matrix_pages, matrix_registration  # noqa: F401
