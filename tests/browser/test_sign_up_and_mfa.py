"""The first thing a person does: sign up, verify, enrol an authenticator app, sign in with it."""

import base64
import re
import time

import pytest
from django.core import mail
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

TEXT = {
    "en": {
        "name": "Name",
        "email": "E-mail address",
        "password": "Password",
        "create": "Create account",
        "create_heading": "Create an account",
        "verify_heading": "Verify your e-mail address",
        "code": "Code",
        "confirm": "Confirm",
        "backup_heading": "Backup codes",
        "sign_out": "Sign out",
        "sign_in": "Sign in",
        "verify": "Verify",
        "dashboard": "Dashboard",
        "enter_code": "Enter your code",
        "add_app": "Add authenticator app",
    },
    "ja": {
        "name": "名前",
        "email": "メールアドレス",
        "password": "パスワード",
        "create": "アカウントを作成",
        "create_heading": "アカウントを作成",
        "verify_heading": "メールアドレスを確認してください",
        "code": "コード",
        "confirm": "確認",
        "backup_heading": "バックアップコード",
        "sign_out": "サインアウト",
        "sign_in": "サインイン",
        "verify": "検証",
        "dashboard": "ダッシュボード",
        "enter_code": "コードを入力してください",
        "add_app": "認証アプリを追加",
    },
}


def _code(secret: str, steps_ahead: int = 0) -> str:
    """Return the app's code; one step ahead is still accepted (tolerance 1) and is unused.

    Near the end of a 30 s step, wait for the next one first: a code typed in one step and
    checked in the next makes django-otp record a drift, and the next code may then fall
    outside the window on a slow machine.
    """
    seconds_into_step = time.time() % 30
    if seconds_into_step > 25:
        time.sleep(30 - seconds_into_step + 0.1)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key, drift=steps_ahead).token():06d}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "ja"])
def test_sign_up_verify_enrol_totp_and_sign_in_with_it(page: Page, live_server, language):
    text = TEXT[language]
    email = f"new-{language}@example.com"
    page.goto(f"{live_server.url}/accounts/sign-up/")
    if language == "ja":
        page.get_by_role("button", name="Language: English").click()
        with page.expect_navigation():
            page.get_by_role("button", name="日本語").click()
    expect(page.get_by_role("heading", name=text["create_heading"])).to_be_visible()

    page.get_by_label(text["name"]).fill("Pat Person")
    page.get_by_label(text["email"]).fill(email)
    page.get_by_label(text["password"]).fill("a-long-password-2026")
    page.get_by_role("button", name=text["create"]).click()
    expect(page.get_by_role("heading", name=text["verify_heading"])).to_be_visible()

    link = re.search(r"https?://\S+/accounts/verify/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("link", name=text["add_app"]).click()

    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label(text["code"]).fill(_code(secret))
    page.get_by_role("button", name=text["confirm"]).click()
    expect(page.get_by_role("heading", name=text["backup_heading"])).to_be_visible()
    assert page.locator("#backup-codes li").count() == 10

    page.get_by_role("button", name="Pat Person").click()
    page.get_by_role("button", name=text["sign_out"]).click()
    expect(page.get_by_role("heading", name=text["sign_in"])).to_be_visible()

    page.get_by_label(text["email"]).fill(email)
    page.get_by_label(text["password"]).fill("a-long-password-2026")
    page.get_by_role("button", name=text["sign_in"]).click()
    expect(page.get_by_role("heading", name=text["enter_code"])).to_be_visible()
    page.get_by_label(text["code"]).fill(_code(secret, steps_ahead=1))
    page.get_by_role("button", name=text["verify"]).click()
    expect(page.get_by_role("heading", name=text["dashboard"])).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == language

    # The Security page lists what happened: signed up, verified, signed in, added the app,
    # created backup codes, signed out, signed in with the code — each with its address.
    page.goto(f"{live_server.url}/accounts/security/")
    rows = page.locator("#security-events tbody tr")
    expect(rows).to_have_count(7)
    expect(rows.first).to_contain_text("127.0.0.1")
