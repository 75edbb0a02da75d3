"""Baseline: the UN Convention on the small world (one 365-day window) gives the recorded
summary, to the digit.

A change that moves any metric fails here until the baseline is updated on purpose:
``COOPSIM_UPDATE_BASELINE=1 python -m pytest tests/test_baseline.py``, and the diff of
``tests/baseline.json`` goes into the commit that explains it.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from sim.experiments.runner import run_one

BASELINE = Path(__file__).with_name("baseline.json")


def rounded(summary: dict[str, float]) -> dict[str, float | None]:
    return {k: None if math.isnan(v) else float(f"{v:.9g}") for k, v in sorted(summary.items())}


def test_summary_matches_the_baseline(un, small_world) -> None:
    summary = rounded(run_one(un, small_world, seed=1, window=365).summary)
    if os.environ.get("COOPSIM_UPDATE_BASELINE") == "1":
        BASELINE.write_text(json.dumps(summary, indent=1) + "\n")
    expected = json.loads(BASELINE.read_text())
    changed = {k: (expected.get(k), v) for k, v in summary.items() if expected.get(k) != v}
    assert not changed, f"metrics moved (baseline, now): {changed}"
