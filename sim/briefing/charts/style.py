"""House style for every chart: a title that states the finding, labelled axes with units,
colours fixed by each variant's name (the same on every chart of every run), and a source
footnote."""

from __future__ import annotations

import hashlib
import math
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.metrics.registry import Kind, metric

if TYPE_CHECKING:
    from sim.inputs.provisions import Variant

# Paul Tol's colour-blind-safe 'muted' scheme (https://personal.sron.nl/~pault/), in order.
MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677",
         "#882255", "#AA4499")
GREYS = ("#222222", "#5F5F5F", "#8C8C8C", "#B4B4B4")  # reference texts
SHIPPED_COLOURS = {  # every shipped text's colour: drafts muted, references grey
    "russia_2017": MUTED[0], "schjolberg_2023": MUTED[1], "us_2022": MUTED[2],
    "caricom_2022": MUTED[3], "colombia_2022": MUTED[4], "new_zealand_2022": MUTED[5],
    "viet_nam_2022": MUTED[6], "un_convention_2024": MUTED[7],
    "composite_schjolberg_us": MUTED[8],
    "budapest_2ap_2022": GREYS[0], "budapest_2001": GREYS[1], "eu_eevidence_2023": GREYS[2],
    "no_treaty": GREYS[3],
}
# Any other text's: at least 25 CIELAB units from every shipped colour and from each other.
EXTRA = ("#FF7F00", "#CC3311", "#0077BB", "#E6AB02", "#E7298A", "#66A61E", "#EE8866",
         "#BBCC33", "#A6761D")
INK, MUTED_INK, GRID = "#222222", "#5A5A5A", "#E4E4E4"
SUBTITLE, SOURCE, EMPTY = "subtitle", "source", "empty"
NOTHING_DECIDED = "No requests decided in the measured windows"
SIZE = (11.0, 6.2)  # inches: 16:9-ish, readable on a slide
RC = {
    "font.size": 12.5, "axes.titlesize": 13, "axes.labelsize": 12.5, "xtick.labelsize": 11.5,
    "ytick.labelsize": 11.5, "legend.fontsize": 11, "legend.frameon": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": MUTED_INK,
    "axes.labelcolor": INK, "xtick.color": MUTED_INK, "ytick.color": MUTED_INK,
    "axes.grid": False, "grid.color": GRID, "grid.linewidth": 0.8, "svg.fonttype": "none",
    "figure.dpi": 100, "savefig.dpi": 200,
}


@dataclass(frozen=True)
class Style:
    """What every chart needs besides its data: variant names, colours and the footnote."""

    labels: dict[str, str]  # variant name -> short label
    colours: dict[str, str]  # variant name -> colour, the same on every chart
    kinds: dict[str, str] = field(default_factory=dict)  # variant name -> draft/reference/...
    reference: str = ""
    source: str = "Source: coopsim simulation."

    @classmethod
    def of(cls, variants: Sequence[Variant], reference: str = "", source: str = "") -> Style:
        """The style of charts of ``variants``, each in its colour (:func:`variant_colours`)."""
        named = [v.name for v in variants]
        return cls({v.name: v.label for v in variants}, variant_colours(named),
                   {v.name: v.variant.kind for v in variants}, reference, source or cls.source)

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def colour(self, name: str) -> str:
        return self.colours.get(name, MUTED_INK)

    def is_reference_text(self, name: str) -> bool:
        return self.kinds.get(name) == "reference"


def variant_colours(names: Sequence[str]) -> dict[str, str]:
    """Each variant's colour, by its name alone, whatever the order of ``names``: a shipped
    text's is fixed (:data:`SHIPPED_COLOURS`); any other name's is the :data:`EXTRA` colour its
    SHA-256 points at, or, when another such name among ``names`` took it first (in sorted
    order), the next one free."""
    picked = {n: SHIPPED_COLOURS[n] for n in names if n in SHIPPED_COLOURS}
    taken: set[str] = set()
    for name in sorted(set(names) - set(picked)):
        slot = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
        ring = [EXTRA[(slot + step) % len(EXTRA)] for step in range(len(EXTRA))]
        picked[name] = next((c for c in ring if c not in taken), ring[0])
        taken.add(picked[name])
    return {n: picked[n] for n in names}


@contextmanager
def house() -> Iterator[None]:
    """Matplotlib settings of the house style, for the charts drawn inside the block."""
    with mpl.rc_context(RC):
        yield


def figure(size: tuple[float, float] = SIZE) -> Figure:
    """A figure detached from pyplot (no global state; safe in worker processes)."""
    return Figure(figsize=size, layout=None)


def finish(fig: Figure, title: str, subtitle: str, style: Style, note: str = "") -> Figure:
    """Title stating the finding, a subtitle saying what is measured, and the source line."""
    height = fig.get_figheight()
    head = textwrap.fill(title, 70)
    sub = textwrap.fill(subtitle, 118)
    head_in = 0.31 * (head.count("\n") + 1)  # 17 pt bold lines, in inches
    sub_in = 0.23 * (sub.count("\n") + 1)
    fig.suptitle(head, x=0.012, y=1 - 0.12 / height, ha="left", va="top", fontsize=17,
                 weight="bold", color=INK)
    fig.text(0.012, 1 - (0.2 + head_in) / height, sub, ha="left", va="top", fontsize=12,
             color=MUTED_INK, gid=SUBTITLE)
    foot = style.source + (f" {note}" if note else "")
    fig.text(0.012, 0.1 / height, textwrap.fill(foot, 165), ha="left", va="bottom",
             fontsize=9, color=MUTED_INK, gid=SOURCE)
    fig.subplots_adjust(top=1 - (0.45 + head_in + sub_in) / height)
    return fig


def subtitle(fig: Figure) -> str:
    """The chart's subtitle (what it measures), unwrapped."""
    return " ".join(t.get_text().replace("\n", " ") for t in fig.texts if t.get_gid() == SUBTITLE)


def title(fig: Figure) -> str:
    """The chart's title (its finding), unwrapped."""
    return fig.get_suptitle().replace("\n", " ")


def blank(ax: Axes, message: str = NOTHING_DECIDED) -> None:
    """Say in the middle of an empty chart why it is empty (say, a window so short that no
    request is decided or obtained)."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=15,
            color=MUTED_INK, style="italic", gid=EMPTY)


def empty_chart(style: Style, axes: tuple[str, str], title: str, subtitle: str,
                note: str = "") -> Figure:
    """A chart with nothing to draw (no request decided in the measured windows): its axes'
    labels, the reason in the middle, and ``title`` (the finding that says so)."""
    with house():
        fig = figure()
        ax = fig.add_subplot()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(axes[0])
        ax.set_ylabel(axes[1])
        blank(ax)
        return finish(fig, title, subtitle, style, note)


def percent(x: float, digits: int = 0) -> str:
    """``0.123`` -> '12%'; 'n/a' for a share that could not be measured (NaN)."""
    return f"{100 * x:.{digits}f}%" if math.isfinite(x) else "n/a"


def days(x: float) -> str:
    """A number of days, rounded; 'n/a' when it could not be measured (NaN)."""
    return f"{x:.0f}" if math.isfinite(x) else "n/a"


def value(name: str, x: float, digits: int = 1) -> str:
    """A metric's value as the charts and the brief print it, by its kind in
    :mod:`sim.metrics.registry`: a share as a percentage, days whole, months and ratios to two
    decimals, counts and files whole with separators; 'n/a' when NaN."""
    kind = metric(name).kind
    if not math.isfinite(x):
        return "n/a"
    if kind is Kind.SHARE:
        return percent(x, digits)
    if kind is Kind.DAYS:
        return days(x)
    if kind in (Kind.MONTHS, Kind.RATIO):
        return f"{x:.2f}"
    return f"{x:,.0f}"


def points(x: float) -> str:
    """A difference of shares in percentage points, signed; 'n/a' when NaN."""
    return f"{100 * x:+.1f}" if math.isfinite(x) else "n/a"


def names(items: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
