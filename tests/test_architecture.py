"""Structure rules that keep tenancy safe: views and API views never query models directly.

Every query that serves a request starts from a selector that takes the membership (DESIGN.md §2),
so `<Model>.objects` has no business in `*/views.py` or `*/api/*.py`.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRECTORIES = {".venv", "node_modules", "static", "staticfiles", "var", "tests", "bench"}


def _modules() -> list[Path]:
    found = set(ROOT.glob("*/views.py")) | set(ROOT.glob("*/api/*.py"))
    return sorted(path for path in found if path.parts[len(ROOT.parts)] not in SKIPPED_DIRECTORIES)


def _objects_accesses(source: str) -> list[str]:
    """Return `line: expression` for every model-manager access in the source."""
    return [
        f"{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in ("objects", "_default_manager")
    ]


def test_the_rule_covers_the_organization_views_and_api():
    names = {str(path.relative_to(ROOT)) for path in _modules()}
    assert {"organizations/views.py", "organizations/api/views.py", "config/views.py"} <= names


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_views_and_api_modules_never_touch_model_managers(path):
    assert _objects_accesses(path.read_text()) == []


def test_the_check_finds_a_manager_access():
    source = "def leak(request):\n    return Folder.objects.get(pk=1)\n"
    assert _objects_accesses(source) == ["2: Folder.objects"]


# Forms present what services decide, and views/API may be packages: the rule covers them all.
ENTRY_POINT_PATTERNS = (
    "*/views.py",
    "*/views/*.py",
    "*/api/*.py",
    "*/api/**/*.py",
    "*/forms.py",
    "*/forms/*.py",
)


def _entry_point_modules() -> list[Path]:
    found = {path for pattern in ENTRY_POINT_PATTERNS for path in ROOT.glob(pattern)}
    return sorted(path for path in found if path.parts[len(ROOT.parts)] not in SKIPPED_DIRECTORIES)


def test_the_rule_covers_forms_and_view_packages():
    names = {str(path.relative_to(ROOT)) for path in _entry_point_modules()}
    assert {
        "organizations/forms.py",
        "accounts/forms.py",
        "organizations/api/base.py",
        "organizations/api/views.py",
        "accounts/views.py",
    } <= names


def test_the_patterns_find_view_and_form_packages(tmp_path):
    for relative in ("shop/views/orders.py", "shop/forms/orders.py", "shop/api/v2/orders.py"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    found = {
        str(path.relative_to(tmp_path))
        for pattern in ENTRY_POINT_PATTERNS
        for path in tmp_path.glob(pattern)
    }
    assert found == {"shop/views/orders.py", "shop/forms/orders.py", "shop/api/v2/orders.py"}


@pytest.mark.parametrize(
    "path", _entry_point_modules(), ids=lambda path: str(path.relative_to(ROOT))
)
def test_forms_views_and_api_packages_never_touch_model_managers(path):
    assert _objects_accesses(path.read_text()) == []


# --- the blocking upgrade helper stays in tests and tools -----------------------------------------

BLOCKING_HELPER = "devices.vapix.testing"
APPS = ("accounts", "organizations", "devices", "upgrades", "licensing", "config", "common")


def _app_modules() -> list[Path]:
    """Return every module of the apps except the helper module itself."""
    found = {path for app in APPS if (ROOT / app).is_dir() for path in (ROOT / app).rglob("*.py")}
    helper = ROOT / (BLOCKING_HELPER.replace(".", "/") + ".py")
    return sorted(path for path in found if path != helper)


def _imported_names(source: str, package: str) -> list[tuple[int, str]]:
    """Return `(line, dotted name)` for everything a module of `package` imports.

    Relative imports are resolved; string constants count too (`importlib.import_module`).
    """
    packages = package.split(".")
    names: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = packages[: len(packages) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            names += [(node.lineno, origin)]
            names += [(node.lineno, f"{origin}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.append((node.lineno, node.value))
    return names


def _package(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parent.parts)


def _blocking_helper_imports(source: str, package: str) -> list[str]:
    return [
        f"{line}: {name}"
        for line, name in _imported_names(source, package)
        if name == BLOCKING_HELPER or name.startswith(BLOCKING_HELPER + ".")
    ]


def test_no_app_module_imports_the_blocking_upgrade_helper():
    modules = _app_modules()
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in modules
        if (found := _blocking_helper_imports(path.read_text(), _package(path)))
    }

    assert ROOT / "devices" / "vapix" / "upgrade.py" in modules
    assert offenders == {}


@pytest.mark.parametrize(
    ("source", "package"),
    [
        ("from devices.vapix.testing import upgrade\n", "upgrades"),
        ("import devices.vapix.testing\n", "upgrades"),
        ("from devices.vapix import testing\n", "devices"),
        ("from .testing import upgrade\n", "devices.vapix"),
        ("from ..vapix import testing\n", "devices.tasks"),
        ("importlib.import_module('devices.vapix.testing')\n", "devices"),
    ],
)
def test_the_check_finds_every_way_to_import_the_helper(source, package):
    assert _blocking_helper_imports(source, package) != []


def test_the_check_leaves_the_upgrade_steps_alone():
    source = "from devices.vapix.upgrade import start_upgrade\nfrom devices.vapix import testing2\n"
    assert _blocking_helper_imports(source, "upgrades") == []


def test_the_upgrade_steps_module_offers_no_blocking_helper():
    tree = ast.parse((ROOT / "devices" / "vapix" / "upgrade.py").read_text())
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"start_upgrade", "check_back_online", "verify_version", "commit"} <= functions
    assert functions.isdisjoint({"upgrade", "wait_for_restart"})
