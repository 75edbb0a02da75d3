"""Every quote in a variant file stands verbatim in the document it cites.

Whitespace and Markdown emphasis are normalised. Numeric values must appear among the numbers
of their quote. Skips, with the reason, where ``../shared/seeds/`` is not beside the project.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.inputs import read_toml

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
VARIANTS = sorted((ROOT / "scenarios").glob("*.toml"))


def normalise(text: str) -> str:
    text = text.replace("*", "").replace("’", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip()


def cited(node: dict, path: str = ""):
    """(dotted key, provision table) for every provision that carries a quote."""
    for key, value in node.items():
        if isinstance(value, dict):
            if "quote" in value:
                yield f"{path}{key}", value
            else:
                yield from cited(value, f"{path}{key}.")


def quotes() -> list:
    return [pytest.param(path, key, table, id=f"{path.stem}:{key}")
            for path in VARIANTS for key, table in cited(read_toml(path))]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds/ is not beside the project")
@pytest.mark.parametrize(("path", "key", "table"), quotes())
def test_quote_is_verbatim_in_the_cited_document(path: Path, key: str, table: dict) -> None:
    documents = re.findall(r"\d{3}_[0-9a-f]{16}\.txt", table.get("source", ""))
    assert documents, f"{path.name}: {key}: the source names no seed file"
    text = normalise((SEEDS / documents[0]).read_text(encoding="utf-8"))
    assert normalise(table["quote"]) in text, f"{path.name}: {key}: quote not in {documents[0]}"


@pytest.mark.parametrize(("path", "key", "table"), quotes())
def test_numbers_agree_with_their_quote(path: Path, key: str, table: dict) -> None:
    value = table["value"]
    numbers = re.findall(r"\d+", table["quote"])
    if isinstance(value, int | float) and not isinstance(value, bool) and numbers:
        assert str(int(value)) in numbers, f"{path.name}: {key}: {value} not in its quote"
