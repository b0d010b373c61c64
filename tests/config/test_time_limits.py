"""Nothing a worker runs can hang it: every task has a hard time limit, SMTP a socket timeout."""

from django.conf import settings

from config.celery import app


def _project_tasks():
    app.loader.import_default_modules()
    return [task for name, task in app.tasks.items() if not name.startswith("celery.")]


def test_every_task_has_a_hard_time_limit_above_its_soft_one():
    tasks = _project_tasks()
    assert any(task.name == "organizations.send_invitation_email" for task in tasks)
    for task in tasks:
        hard = task.time_limit or app.conf.task_time_limit
        soft = task.soft_time_limit or app.conf.task_soft_time_limit
        assert hard, task.name
        assert soft, task.name
        assert soft < hard, task.name


def test_a_mail_server_that_stops_answering_times_out_within_a_minute():
    # Without it, smtplib waits forever and only the task's time limit ends the send.
    assert settings.EMAIL_TIMEOUT is not None
    assert 0 < settings.EMAIL_TIMEOUT < 60
