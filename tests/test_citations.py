"""Every quote in a variant file stands verbatim in the document it cites.

Whitespace and Markdown emphasis are normalised. Numeric values must appear among the numbers
of their quote. Skips, with the reason, where ``../shared/seeds/`` is not beside the project.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.inputs.schema import read_toml

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


SEED_NAME = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")


def quotes(seeded: bool = False) -> list:
    """Provisions with a quote; with ``seeded``, only those whose source is a seed file."""
    return [pytest.param(path, key, table, id=f"{path.stem}:{key}")
            for path in VARIANTS for key, table in cited(read_toml(path))
            if not seeded or SEED_NAME.search(table.get("source", ""))]


def test_every_quoted_value_names_its_source() -> None:
    for param in quotes():
        path, key, table = param.values
        assert table.get("source"), f"{path.name}: {key}: a quote needs its source"


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds/ is not beside the project")
@pytest.mark.parametrize(("path", "key", "table"), quotes(seeded=True))
def test_quote_is_verbatim_in_the_cited_document(path: Path, key: str, table: dict) -> None:
    documents = SEED_NAME.findall(table["source"])
    text = normalise((SEEDS / documents[0]).read_text(encoding="utf-8"))
    assert normalise(table["quote"]) in text, f"{path.name}: {key}: quote not in {documents[0]}"


RESEARCH = ROOT.parent / "shared" / "research"


@pytest.mark.skipif(not RESEARCH.is_dir(), reason="../shared/research/ is not beside the project")
@pytest.mark.parametrize(("path", "key", "table"),
                         [p for p in quotes() if not SEED_NAME.search(p.values[2]["source"])])
def test_a_quote_from_elsewhere_is_quoted_there_or_marked_a_paraphrase(
        path: Path, key: str, table: dict) -> None:
    """A quote whose source is not a seed file (a reference text) stands in quotation marks
    in the research notes it cites, or says it is a paraphrase."""
    if table.get("paraphrase"):
        return
    notes = " ".join(normalise(f.read_text(encoding="utf-8")) for f in RESEARCH.glob("*.md"))
    assert f'"{normalise(table["quote"])}"' in notes, (
        f"{path.name}: {key}: not quoted in ../shared/research/: mark it `paraphrase = true`")


NUMBER_WORDS = {"ten": "10", "thirty": "30", "sixty": "60", "ninety": "90",
                "one hundred and eighty": "180", "hundred and eighty": "180"}


def numbers_in(quote: str) -> list[str]:
    """Numbers a quote states, in digits or in words ("not less than ninety days")."""
    words = [n for w, n in NUMBER_WORDS.items() if re.search(rf"\b{w}\b", quote, re.I)]
    return re.findall(r"\d+", quote) + words


@pytest.mark.parametrize(("path", "key", "table"), quotes())
def test_numbers_agree_with_their_quote(path: Path, key: str, table: dict) -> None:
    """A stated number is in its quote (a value by reference comes from the cited article)."""
    if table.get("status") == "by_reference":
        return
    value = table["value"]
    numbers = numbers_in(table["quote"])
    if isinstance(value, int | float) and not isinstance(value, bool) and numbers:
        assert str(int(value)) in numbers, f"{path.name}: {key}: {value} not in its quote"
