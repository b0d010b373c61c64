"""What the upgrades app adds to the role table (its routes take folder_id and device_id,
declared by the organizations and devices tests)."""

from organizations.roles import Action
from tests.support.registry import ALL, NO, declare_role_rows

# PRODUCT.md §3 and §6: upgrades and schedules are admin+; everyone else only looks.
declare_role_rows({Action.UPGRADE_MANAGE: (ALL, ALL, NO, NO)})
