"""The tenant cast (`tenant`, `owner`, `admin`, `operator`, `viewer`, `outsider`, `other_tenant`,
`race`, `api`) lives in tests/support and is shared by every app through tests/conftest.py."""
