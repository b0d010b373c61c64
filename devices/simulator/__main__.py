"""``python -m devices.simulator --count N ...``: run a simulated fleet without Django."""

import sys

from .cli import main

sys.exit(main())
