"""Names for temporary files that two processes can never share."""

from __future__ import annotations

import os
import secrets


def unique_suffix() -> str:
    """pid + random: a pid alone repeats across machines sharing a folder and after pid reuse."""
    return f"{os.getpid()}.{secrets.token_hex(4)}"
