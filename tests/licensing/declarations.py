"""What the licensing app adds to the role table (its routes take no new URL parameters yet)."""

from organizations.roles import Action
from tests.support.registry import ALL, NO, declare_role_rows

# PRODUCT.md §3, written out independently of roles.py: owner, admin, operator, viewer.
declare_role_rows({Action.LICENSE_MANAGE: (ALL, ALL, NO, NO)})
