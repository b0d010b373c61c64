"""``manage.py simulate_cameras``: serve a fleet of simulated Axis cameras on loopback."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from devices.simulator.cli import add_arguments, serve, validate


class Command(BaseCommand):
    """Run N simulated cameras until Ctrl-C; see devices/simulator/__init__.py for behaviour."""

    help = (
        "Serve N simulated Axis cameras on loopback (one port each) with a JSON control API; "
        "prints a line once every camera listens and runs until Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Add --count, --first-port, --seed, --time-scale, --faults, --control-port, ..."""
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        """Validate the options, then serve the fleet until interrupted."""
        namespace = argparse.Namespace(**options)
        error = validate(namespace)
        if error:
            raise CommandError(error)

        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        try:
            asyncio.run(serve(namespace, say))
        except OSError as exc:
            raise CommandError(str(exc)) from exc
