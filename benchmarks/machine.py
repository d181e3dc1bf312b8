"""What machine a benchmark or a calibration ran on, for the headers of their reports."""

from __future__ import annotations

import platform
import re
from pathlib import Path


def cpu_model() -> str:
    """The processor's model name, as Linux reports it (``platform.processor()`` elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    match = re.search(r"^model name\s*:\s*(.+)$", text, flags=re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown CPU"
