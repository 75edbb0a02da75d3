"""House style for every chart: a title that states the finding, labelled axes with units,
colour-blind-safe colours that stay with each variant, and a source footnote."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from ..provisions import Variant

# Paul Tol's colour-blind-safe 'muted' scheme (https://personal.sron.nl/~pault/), in order.
MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677",
         "#882255", "#AA4499")
GREYS = ("#222222", "#5F5F5F", "#8C8C8C", "#B4B4B4")  # reference texts
INK, MUTED_INK, GRID = "#222222", "#5A5A5A", "#E4E4E4"
SUBTITLE, SOURCE, EMPTY = "subtitle", "source", "empty"
NOTHING_DECIDED = "No requests decided within the horizon"
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
        """Colours by position among the shipped kinds: drafts get Tol's muted colours in
        document order, references greys, composites the last muted colour."""
        colours, drafts, refs = {}, iter(MUTED[:-1]), iter(GREYS)
        for v in variants:
            kind = v.variant.kind
            pick = next(refs, GREYS[-1]) if kind == "reference" else (
                MUTED[-1] if kind == "composite" else next(drafts, MUTED[-1]))
            colours[v.name] = pick
        return cls({v.name: v.label for v in variants}, colours,
                   {v.name: v.variant.kind for v in variants}, reference,
                   source or cls.source)

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def colour(self, name: str) -> str:
        return self.colours.get(name, MUTED_INK)

    def is_reference_text(self, name: str) -> bool:
        return self.kinds.get(name) == "reference"


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
    """Say in the middle of an empty chart why it is empty (say, a horizon so short that no
    request is decided or obtained)."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=15,
            color=MUTED_INK, style="italic", gid=EMPTY)


def empty_chart(style: Style, axes: tuple[str, str], title: str, subtitle: str,
                note: str = "") -> Figure:
    """A chart with nothing to draw (no request decided within the horizon): its axes'
    labels, the reason in the middle, and a title that says what cannot be measured yet."""
    with house():
        fig = figure()
        ax = fig.add_subplot()
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(axes[0])
        ax.set_ylabel(axes[1])
        blank(ax)
        return finish(fig, f"{NOTHING_DECIDED}: {title}", subtitle, style, note)


def percent(x: float, digits: int = 0) -> str:
    """``0.123`` -> '12%'; 'n/a' for a share that could not be measured (NaN)."""
    return f"{100 * x:.{digits}f}%" if math.isfinite(x) else "n/a"


def days(x: float) -> str:
    """A number of days, rounded; 'n/a' when it could not be measured (NaN)."""
    return f"{x:.0f}" if math.isfinite(x) else "n/a"


def points(x: float) -> str:
    """A difference of shares in percentage points, signed; 'n/a' when NaN."""
    return f"{100 * x:+.1f}" if math.isfinite(x) else "n/a"


def names(items: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
