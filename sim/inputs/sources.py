"""Every figure of a world with its source: what the briefing's assumptions section lists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from sim.inputs.world import World


def figures(world: World) -> Iterator[tuple[str, Any, str]]:
    """(dotted path, value, source) for every sourced figure and distribution of the world."""
    yield from _walk(world.model_dump(mode="json"), "")


def _walk(node: Any, path: str) -> Iterator[tuple[str, Any, str]]:
    if isinstance(node, dict):
        if {"status", "value"} <= set(node):  # a provision of a fallback regime
            yield path, node["value"], _provision_source(node)
            return
        if "source" in node and ("value" in node or "dist" in node):
            value = node["value"] if "value" in node else {
                k: v for k, v in node.items() if k != "source"}
            yield path, value, node["source"]
            return
        for key, child in node.items():
            yield from _walk(child, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            name = child.get("name", i) if isinstance(child, dict) else i
            yield from _walk(child, f"{path}[{name}]")


def _provision_source(node: dict[str, Any]) -> str:
    if node.get("source"):
        return node["source"]
    if node["status"] == "assumption":
        return f"assumption: {node['note']}"
    return f"silent: {node.get('fallback') or ''}"


def table(world: World) -> pd.DataFrame:
    rows = [{"figure": p, "value": _text(v), "source": s} for p, v, s in figures(world)]
    frame = pd.DataFrame(rows)
    frame["kind"] = frame["source"].map(
        lambda s: "assumption" if str(s).lower().startswith("assumption") else "sourced")
    return frame


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
