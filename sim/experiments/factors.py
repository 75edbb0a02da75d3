"""Study factors that set several figures at once, for sweeps and sensitivity studies: the
share of a text's refusal grounds in force, and multipliers of every central authority's
staff and of every retention time. Each has its own dotted path, beside the paths of single
provisions and world figures (:mod:`sim.experiments.designs`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.inputs.world import scale_staff

SECTIONS_WITH_GROUNDS = ("preservation", "traffic_disclosure", "mla")
LOCATION_KEYS = ("value", "mean", "median")  # a distribution's parameters in days


@dataclass(frozen=True)
class Factor:
    """A path that sets several figures from one number in ``[low, high]``."""

    low: float
    high: float
    meaning: str
    apply: Callable[[dict, dict, float], None]  # (variant data, world data, value), in place


def _grounds_in_force(variant: dict, world: dict, share: float) -> None:
    """Keep the first ``round(share x n)`` of the n grounds each section lists, in the text's
    order (0: no listed ground; 1: the text as written)."""
    for section in SECTIONS_WITH_GROUNDS:
        node = (variant.get(section) or {}).get("refusal_grounds")
        if isinstance(node, dict) and isinstance(node.get("value"), list):
            listed = node["value"]
            node["value"] = listed[:round(share * len(listed))]


def _staff(variant: dict, world: dict, factor: float) -> None:
    scale_staff(world, factor)


def _retention(variant: dict, world: dict, factor: float) -> None:
    """Multiply every retention time (its median, mean or fixed value) by ``factor``."""
    for profile in world["retention"].values():
        for dist in profile.values():
            for key in LOCATION_KEYS:
                if isinstance(dist.get(key), int | float):
                    dist[key] = dist[key] * factor


FACTORS: dict[str, Factor] = {
    "refusal_grounds.in_force": Factor(
        0.0, 1.0, "share of the text's listed refusal grounds in force (the first ones, in "
        "the text's order, in every section)", _grounds_in_force),
    "world.central_authorities.staff_scale": Factor(
        0.1, 10.0, "every central authority's staff, multiplied", _staff),
    "world.retention.scale": Factor(
        0.1, 10.0, "every retention time of every provider profile, multiplied", _retention),
}


def check(path: str, value: float) -> str:
    """'' if ``value`` is in the factor's range, else why not."""
    f = FACTORS[path]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"a number between {f.low:g} and {f.high:g}, got {value!r}"
    if not f.low <= value <= f.high:
        return f"between {f.low:g} and {f.high:g}, got {value:g}"
    return ""
