"""AIBOS API."""

import time
from importlib.metadata import PackageNotFoundError, version

# This package is the first of ours a process imports (the command, or a worker loading the app).
STARTED_AT = time.monotonic()

try:
    __version__ = version("aibos")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
