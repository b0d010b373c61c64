"""Test helpers every app uses: the tenant cast, API clients, races, and the probe registry."""
