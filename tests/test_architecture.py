"""Structure rules that keep tenancy safe: views and API views never query models directly.

Every query that serves a request starts from a selector that takes the membership (DESIGN.md §2),
so `<Model>.objects` has no business in `*/views.py` or `*/api/*.py`.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRECTORIES = {".venv", "node_modules", "static", "staticfiles", "var", "tests", "bench"}

# Accesses that predate this rule, each with its reason; anything new fails. They hold no tenant
# data (the person in the middle of signing in, by the id in their own session) and should move
# into accounts selectors/services (asked for in var/ORG_UI_NEEDS.md).
KNOWN = {
    "accounts/views.py": {
        "User.objects": "sign-in, e-mail code and verify-pending steps load the session's own user",
        "EmailDevice.objects": "the signing-in person's own e-mail second factor",
    },
}


def _modules() -> list[Path]:
    found = set(ROOT.glob("*/views.py")) | set(ROOT.glob("*/api/*.py"))
    return sorted(path for path in found if path.parts[len(ROOT.parts)] not in SKIPPED_DIRECTORIES)


def _objects_accesses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    known = KNOWN.get(str(path.relative_to(ROOT)), {})
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in ("objects", "_default_manager")
        and ast.unparse(node) not in known
    ]


def test_the_rule_covers_the_organization_views_and_api():
    names = {str(path.relative_to(ROOT)) for path in _modules()}
    assert {"organizations/views.py", "organizations/api/views.py", "config/views.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_views_and_api_modules_never_touch_model_managers(path):
    assert _objects_accesses(path) == []


def test_the_check_finds_a_manager_access(tmp_path):
    module = tmp_path / "views.py"
    module.write_text("def leak(request):\n    return Folder.objects.get(pk=1)\n")
    tree_hits = [
        node
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "objects"
    ]
    assert len(tree_hits) == 1
