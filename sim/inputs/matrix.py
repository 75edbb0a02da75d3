"""The provisions matrix: what each variant says, provision by provision, with its citation."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

from sim.inputs.provisions import Cited, Variant

SECTIONS = ("scope", "preservation", "traffic_disclosure", "mla", "point_of_contact",
            "emergency", "direct_request")
LABELS = {
    "scope.offences": "Scope: offences covered",
    "preservation.available": "Expedited preservation between States",
    "preservation.min_days": "Preservation: minimum period (days)",
    "preservation.continues_pending_mla": "Preservation: kept pending the MLA decision",
    "preservation.extension": "Preservation: extension may be asked",
    "preservation.extension_days": "Preservation: extension (days)",
    "preservation.dual_criminality": "Preservation: dual criminality",
    "preservation.refusal_grounds": "Preservation: refusal grounds",
    "traffic_disclosure.available": "Expedited disclosure of traffic data",
    "traffic_disclosure.parties_only": "Disclosure: next provider must be in a State Party",
    "traffic_disclosure.refusal_grounds": "Disclosure: refusal grounds",
    "mla.available": "Mutual legal assistance procedure",
    "mla.only_absent_bilateral": "MLA rules only where no bilateral treaty",
    "mla.channel": "MLA: channel",
    "mla.urgent_channel": "MLA: urgent channel",
    "mla.dual_criminality": "MLA: dual criminality",
    "mla.refusal_grounds": "MLA: refusal grounds",
    "mla.consult_before_refusal": "MLA: consultation before refusal",
    "point_of_contact.available": "24/7 point of contact",
    "point_of_contact.functions": "24/7 functions",
    "emergency.route": "Emergency route",
    "direct_request.available": "Orders straight to providers abroad",
    "direct_request.data_types": "Direct orders: data types",
    "direct_request.deadline_days": "Direct orders: answer within (days)",
    "direct_request.emergency_days": "Direct orders: emergency answer within (days)",
}
SEED_FILE = re.compile(r"\d{3}_[0-9a-f]{16}\.txt\s*")


def provisions(v: Variant) -> Iterator[tuple[str, Cited | None]]:
    """(dotted key, cited value or None where the section is not available), in file order."""
    for section in SECTIONS:
        part = getattr(v, section)
        for field in type(part).model_fields:
            yield f"{section}.{field}", getattr(part, field)


def value_text(c: Cited) -> str:
    v = c.value
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, list):
        return ", ".join(str(x).replace("_", " ") for x in v) or "none"
    return str(v).replace("_", " ")


def citation(c: Cited) -> str:
    """Short citation: the article (the Document row names the file), or the status.

    Fallbacks and notes are shown in full by :func:`detail`."""
    if c.status == "silent":
        return "silent: fallback applies"
    where = SEED_FILE.sub("", c.source or "").strip()
    if c.status == "by_reference":
        return f"by reference: {where}"
    if c.status == "assumption":
        return f"assumption: {c.note}"
    return where


def cell(c: Cited | None) -> str:
    if c is None:
        return "-"
    return f"{value_text(c)} ({citation(c)})"


def matrix(variants: list[Variant]) -> list[list[str]]:
    """Rows of [provision, cell per variant], with a header row."""
    rows = [["provision", *(v.name for v in variants)]]
    columns = [dict(provisions(v)) for v in variants]
    for key, label in LABELS.items():
        rows.append([label, *(cell(col[key]) for col in columns)])
    rows.append(["Title", *(v.variant.title for v in variants)])
    rows.append(["Document", *(v.variant.document for v in variants)])
    return rows


def markdown(rows: list[list[str]]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"

    return "\n".join([line(rows[0]), line(["---"] * len(rows[0])), *map(line, rows[1:])])


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def detail(v: Variant) -> str:
    """One variant in full: every provision with value, status, source, quote, fallback."""
    info = v.variant
    lines = [f"# {info.title}", "", f"- name: `{info.name}`", f"- kind: {info.kind}",
             f"- document: {info.document}"]
    if info.extends:
        lines.append(f"- extends: `{info.extends}`")
    for key, c in provisions(v):
        lines += ["", f"## {LABELS[key]} (`{key}`)"]
        if c is None:
            lines.append("- not applicable: the provision is not available")
            continue
        lines += [f"- value: {value_text(c)}", f"- status: {c.status.replace('_', ' ')}"]
        for name in ("source", "quote", "fallback", "note"):
            text = getattr(c, name)
            if text and name == "quote":
                lines.append(f"- paraphrase (not the source's words): {text}" if c.paraphrase
                             else f'- quote: "{text}"')
            elif text:
                lines.append(f"- {name}: {text}")
    return "\n".join(lines)
