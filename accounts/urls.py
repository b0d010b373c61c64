from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from accounts import views
from accounts.forms import PasswordResetForm

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-in/code/", views.sign_in_mfa, name="sign-in-mfa"),
    path("sign-in/code/email/", views.send_email_code, name="sign-in-email-code"),
    path("sign-out/", views.sign_out, name="logout"),
    path("sign-up/", views.sign_up, name="sign-up"),
    path("verify/", views.verify_pending, name="verify-pending"),
    path("verify/<str:token>/", views.verify_email, name="verify-email"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.set_language, name="set-language"),
    path("security/", views.security, name="security"),
    path("security/app/", views.enrol_totp, name="enrol-totp"),
    path("security/email/", views.enrol_email, name="enrol-email"),
    path("security/backup-codes/", views.backup_codes, name="backup-codes"),
    path("security/<str:kind>/<int:device_id>/remove/", views.remove_device, name="remove-device"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            form_class=PasswordResetForm,
            email_template_name="accounts/emails/password_reset.txt",
            subject_template_name="accounts/emails/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password-reset-done"),
        ),
        name="password-reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password-reset-done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
]
