"""Where the repository and its example configuration are, for every test."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

