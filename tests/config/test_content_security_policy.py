"""The Content-Security-Policy: the same in tests as in production, on every answer, and templates
that need nothing it forbids. (tests/browser/test_content_security_policy.py runs the pages.)"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from csp.utils import build_policy
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path
    for pattern in ("templates/**/*.html", "*/templates/**/*.html")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)


def directives(policy: str) -> dict[str, str]:
    """Return the policy's directives by name (their order in the header is not fixed)."""
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_production_sends_the_policy_the_tests_run_under():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": "a-long-random-production-secret-for-the-test-0123456789abcdef",
        "ALLOWED_HOSTS": "camfleet.example",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/camfleet",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "DEVICE_CREDENTIAL_KEYS": "Y2hlY2stb25seS1ub3QtYS1yZWFsLWtleS0wMTIzNDU=",
        "LICENSE_SIGNING_KEY": "Y2hlY2stb25seS1saWNlbnNlLXNpZ25pbmcta2V5LTA=",
    }
    script = "from csp.utils import build_policy; print(build_policy())"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert directives(result.stdout.strip()) == directives(build_policy())


def test_the_policy_allows_no_inline_script_and_no_eval():
    policy = directives(build_policy())
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "script-src-attr" not in policy
    assert "script-src-elem" not in policy


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name", ["accounts:login", "accounts:sign-up", "dashboard", "api-docs", "health"]
)
def test_answers_carry_the_policy(client, user, url_name):
    client.force_login(user)
    response = client.get(reverse(url_name))
    assert directives(response["Content-Security-Policy"]) == directives(build_policy())


@pytest.mark.django_db
def test_api_docs_start_swagger_ui_from_a_script_file(client, user):
    client.force_login(user)
    page = client.get(reverse("api-docs")).content.decode()
    assert re.findall(r"<script>|<style", page) == []
    script = re.search(r'<script src="([^"]*script=[^"]*)"', page)
    assert script is not None
    answer = client.get(script.group(1).replace("&amp;", "&"))
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in answer.content.decode()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/favicon.ico", "image/x-icon"), ("/static/favicon.svg", "image/svg+xml")],
)
def test_the_icon_is_served(client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_templates_hold_no_inline_script_handler_or_eval(template):
    source = template.read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", source) == []
    assert re.findall(r"\son[a-z]+\s*=", source) == []
    assert re.findall(r"\bhx-on|\bhx-vals|javascript:|\bjs:", source) == []


def _is_page(path: Path) -> bool:
    """Tell a page template from a base (base.html, settings_base.html, …) or a partial."""
    if path.name.endswith("base.html"):
        return False
    source = path.read_text()
    return '{% extends "base.html" %}' in source or bool(
        re.search(r'{% extends "\w+/(_auth_base|organization_base|settings_base)', source)
    )


@pytest.mark.parametrize(
    "template",
    [path for path in TEMPLATES if _is_page(path)],
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_every_page_names_itself_in_its_title(template):
    # base.html writes "<name> · camfleet"; a page without a name would read " · camfleet".
    assert "{% block title %}" in template.read_text()
