"""The shared cast of every test: people, and (with organizations) a second tenant."""

import pytest

from config.celery import app as celery_app
from tests.accounts.factories import PASSWORD, UserFactory

# The tenant cast and API clients every app's tests use (tests/support).
pytest_plugins = ["tests.support.fixtures", "tests.support.fleet"]


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_eagerly():
    # override_settings does not reach Celery's configuration: set it on the app itself.
    celery_app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield
    celery_app.conf.update(task_always_eager=False, task_eager_propagates=False)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def password() -> str:
    return PASSWORD
