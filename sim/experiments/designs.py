"""Changing a variant or a world by dotted path: sweeps and clause-group hybrids.

Paths name a provision (``preservation.min_days``), a world figure
(``world.central_authorities.staff``, ``world.cases.age_days.mean``), one refusal ground in a
list (``mla.refusal_grounds.political_offence``, values ``on``/``off``) or a factor that sets
several figures at once (:mod:`sim.experiments.factors`: ``refusal_grounds.in_force``,
``world.central_authorities.staff_scale``, ``world.retention.scale``). Values are a grid
``start:stop:step`` (stop included), a range ``low:high`` (for sampled designs) or a comma
list.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from typing import Any

import numpy as np

from sim.experiments.factors import FACTORS, check
from sim.inputs.schema import InputError
from sim.limits import MAX_POINTS
from sim.vocabulary import Ground

GROUND_NAMES = {g.value for g in Ground}


def parse_values(text: str) -> list[Any]:
    """``0:360:30`` -> 0, 30, ..., 360; ``a,b`` -> [a, b] (numbers, booleans, on/off, names).

    Numbers must be finite, and a grid or a list holds at most ``MAX_POINTS`` values (a
    grid's count is known before it is built).
    """
    if text.count(":") == 1:  # a range low:high, for sampled designs
        return [_finite(x) for x in text.split(":")]
    if text.count(":") == 2:
        start, stop, step = (_finite(x) for x in text.split(":"))
        if step <= 0 or stop < start:
            raise ValueError(f"bad range '{text}': needs start <= stop and step > 0")
        steps = (stop - start) / step  # may be inf: compared before it is rounded
        if not steps <= MAX_POINTS or math.ceil(steps + 0.5) > MAX_POINTS:  # np.arange's count
            raise ValueError(f"the grid '{text}' has {steps + 1:,.0f} values, at most "
                             f"{MAX_POINTS:,}")
        values = np.arange(start, stop + step / 2, step)
        return [int(v) if float(v).is_integer() else float(v) for v in values]
    values = [_scalar(v.strip()) for v in text.split(",") if v.strip()]
    if len(values) > MAX_POINTS:
        raise ValueError(f"{len(values):,} values, at most {MAX_POINTS:,}")
    return values


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"'{text.strip()}' is not a finite number")
    return value


def _scalar(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("on", "true", "yes"):
        return True
    if lowered in ("off", "false", "no"):
        return False
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return text
    if isinstance(value, float) and not math.isfinite(value):  # NaN, Infinity, 1e999
        raise ValueError(f"'{text}' is not a finite number")
    return value


def parse_set(option: str) -> tuple[str, list[Any]]:
    """``PATH=VALUES`` from the command line."""
    path, sep, values = option.partition("=")
    if not sep or not path or not values:
        raise InputError("--set", option, "expected PATH=VALUES")
    try:
        return path.strip(), parse_values(values)
    except ValueError as e:
        raise InputError("--set", path, str(e)) from None


def apply(variant: dict, world: dict, path: str, value: Any) -> None:
    """Set ``path`` to ``value`` in the variant's or the world's data, in place."""
    if path in FACTORS:
        if problem := check(path, value):
            raise InputError("--set", path, problem)
        FACTORS[path].apply(variant, world, float(value))
        return
    data, keys = (world, path.split(".")[1:]) if path.startswith("world.") \
        else (variant, path.split("."))
    node = data
    for i, key in enumerate(keys[:-1]):
        if not isinstance(node, dict) or key not in node:
            raise InputError("--set", path, f"no '{'.'.join(keys[:i + 1])}' to change")
        node = node[key]
    leaf = keys[-1]
    if leaf in GROUND_NAMES and "value" in node and isinstance(node["value"], list):
        if not isinstance(value, bool):
            raise InputError("--set", path, f"a listed ground is on or off, got {value!r}")
        grounds = [g for g in node["value"] if g != leaf]
        node["value"] = [*grounds, leaf] if value else grounds
    elif isinstance(node.get(leaf), dict) and "value" in node[leaf]:
        old = node[leaf]["value"]
        if isinstance(old, int) and not isinstance(old, bool) and isinstance(value, float):
            value = round(value)  # sampled designs give floats; counts stay whole
        node[leaf] = {**node[leaf], "value": value}
    elif isinstance(node.get(leaf), int | float) and not isinstance(node.get(leaf), bool):
        node[leaf] = value  # a distribution's parameter, e.g. cases.age_days.mean
    else:
        raise InputError("--set", path, "not a provision, a world figure or a listed ground")


def parse_design(text: str) -> tuple[str, int]:
    """``factorial``, ``lhs:N`` or ``sobol:N``."""
    kind, _, n = text.partition(":")
    if kind == "factorial" and not n:
        return kind, 0
    if kind not in ("lhs", "sobol") or not (n.isascii() and n.isdigit()):
        raise InputError("--design", text, "expected factorial, lhs:N or sobol:N")
    if not 1 <= int(n) <= MAX_POINTS:
        raise InputError("--design", text, f"N must be between 1 and {MAX_POINTS}, got {n}")
    return kind, int(n)


def bounds(path: str, values: list[Any]) -> tuple[float, float]:
    """The range ``low:high`` of a sampled parameter."""
    if len(values) == 2 and all(isinstance(v, int | float) for v in values) \
            and values[0] < values[1]:
        return float(values[0]), float(values[1])
    raise InputError("--set", path, "a sampled design needs a range low,high")


def sampled(variant: dict, world: dict, paths: list[str],
            rows: np.ndarray) -> list[tuple[dict, dict, dict]]:
    """One (parameters, variant data, world data) per row of a parameter sample."""
    return points(variant, world, paths, [tuple(float(x) for x in row) for row in rows])


def factorial(variant: dict, world: dict,
              settings: list[tuple[str, list[Any]]]) -> list[tuple[dict, dict, dict]]:
    """Every combination of the settings: (parameters, variant data, world data)."""
    combos = list(itertools.product(*(values for _, values in settings)))
    return points(variant, world, [path for path, _ in settings], combos)


def points(variant: dict, world: dict, paths: list[str],
           combos: list[tuple[Any, ...]]) -> list[tuple[dict, dict, dict]]:
    """Variant and world data with each combination of values set at ``paths``."""
    out = []
    for combo in combos:
        v, w = copy.deepcopy(variant), copy.deepcopy(world)
        params = {}
        for path, value in zip(paths, combo, strict=True):
            apply(v, w, path, value)
            params[path] = value
        out.append((params, v, w))
    return out


# Clause groups for attribution: which provisions move together.
GROUPS: dict[str, tuple[str, ...]] = {
    "preservation period": ("preservation.available", "preservation.min_days",
                            "preservation.continues_pending_mla", "preservation.extension",
                            "preservation.extension_days"),
    "refusal grounds": ("preservation.refusal_grounds", "traffic_disclosure.refusal_grounds",
                        "mla.refusal_grounds", "mla.consult_before_refusal"),
    "dual criminality": ("preservation.dual_criminality", "mla.dual_criminality"),
    "channels, 24/7 and emergency": (
        "mla.available", "mla.channel", "mla.urgent_channel", "traffic_disclosure.available",
        "traffic_disclosure.parties_only", "point_of_contact.available",
        "point_of_contact.functions", "emergency.route"),
    "scope": ("scope.offences",),
    "bilateral-treaty rule": ("mla.only_absent_bilateral",),
    "direct orders": ("direct_request.available", "direct_request.data_types",
                      "direct_request.deadline_days", "direct_request.emergency_days"),
}


def hybrid(a: dict, b: dict, groups: tuple[str, ...], name: str) -> dict:
    """Variant ``a`` with the provisions of ``groups`` taken from ``b``.

    A provision ``b`` leaves out (its section is not available) keeps ``a``'s value: it has
    no effect once the group holding the section's ``available`` comes from ``b``.
    """
    out = copy.deepcopy(a)
    out["variant"] = {**a["variant"], "name": name, "kind": "composite", "extends": None}
    for group in groups:
        for path in GROUPS[group]:
            section, key = path.split(".")
            if b.get(section, {}).get(key) is not None:
                out.setdefault(section, {})[key] = copy.deepcopy(b[section][key])
    return out


def differing_groups(a: dict, b: dict) -> list[str]:
    """Groups in which two variants' provision values differ."""
    def values(v: dict, group: str) -> list[Any]:
        return [(v.get(s, {}).get(k) or {}).get("value") for s, k in
                (p.split(".") for p in GROUPS[group])]
    return [g for g in GROUPS if values(a, g) != values(b, g)]
