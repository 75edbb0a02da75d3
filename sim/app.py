"""The interactive page: change a clause or an assumption, then watch evidence move day by day.

In Jupyter, ``from sim.app import page; page`` shows it inline; in a browser, ``coopsim app``
(or ``solara run sim/app.py``, which serves :func:`Page`). Importing the module builds no
model: ``page`` is built when first asked for. Set the controls, press *Reset* to rebuild the
model with them, then *Play* or *Step*. The views follow the model as it runs: open requests
per stage, data loss by cause so far, the latency of the evidence obtained so far, and the
backlog of the busiest central authorities, with the reference text overlaid (same seed, same
cases) when asked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz

from sim.briefing.charts.outcomes import CAUSES
from sim.briefing.charts.style import INK, MUTED, MUTED_INK, house, percent
from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.experiments import designs
from sim.inputs.catalogue import DEFAULT_VARIANT, SCENARIOS, names
from sim.inputs.provisions import Variant, load_variant
from sim.inputs.schema import validate
from sim.inputs.world import World, load_world, scale_staff, scaled
from sim.metrics.observe import Observation
from sim.vocabulary import GROUND_LABELS, STAGE_GROUPS, STAGE_NAMES, Ground, Outcome

REFERENCE = DEFAULT_VARIANT
SCALE = 0.1  # the page runs a tenth of the world's yearly cases, staff scaled alike
KEEP = "as the text says"
BASE = load_world()
VARIANTS = names()
_DECIDED = [o.name.lower() for o in Outcome if o is not Outcome.PENDING]


class Explorer(CooperationModel):
    """The cooperation model built from the page's controls (every default leaves the text and
    the world as they are), with the reference text run alongside on the same cases."""

    def __init__(self, variant: str = REFERENCE, set_preservation: bool = False,
                 preservation_days: int = 60, extension: str = KEEP,
                 dc_reservation_share: float = BASE.states.dc_reservation_share.value,
                 poc_always_on_share: float = BASE.states.poc_always_on_share.value,
                 staff_factor: float = 1.0,
                 party_share: float = BASE.states.party_share.value,
                 compare: bool = False, seed: int = 1, scale: float = SCALE,
                 scenario: object = None, window: Window | None = None,
                 **grounds: bool) -> None:
        """``scenario`` is what Mesa's page passes on Reset; randomness comes from ``seed``.
        ``window`` (none on the page: every case from day 0) measures cohorts, for
        ``measure()``."""
        unknown = set(grounds) - {f"allow_{g.value}" for g in Ground}
        if unknown:
            raise TypeError(f"unknown controls: {sorted(unknown)}")
        world = _world(scale, dc_reservation_share, poc_always_on_share, staff_factor,
                       party_share)
        text = load_variant(SCENARIOS / f"{variant}.toml")
        changed = _variant(text, set_preservation, preservation_days, extension, grounds)
        super().__init__(changed, world, seed, window)
        self.controls = {"variant": variant, "set_preservation": set_preservation,
                         "preservation_days": preservation_days, "extension": extension,
                         "staff_factor": staff_factor, **grounds}
        self.reference = CooperationModel(load_variant(SCENARIOS / f"{REFERENCE}.toml"), world,
                                          seed, window) if compare else None

    def step(self) -> None:
        super().step()
        if self.reference is not None:
            self.reference.step()


def _world(scale: float, dc: float, poc: float, staff: float, party: float) -> World:
    data = scaled(BASE, scale).model_dump(mode="json")
    for path, value in (("world.states.dc_reservation_share", dc),
                        ("world.states.poc_always_on_share", poc),
                        ("world.states.party_share", party)):
        designs.apply({}, data, path, value)
    scale_staff(data, staff)
    return validate(World, data, "<page controls>")


def _variant(text: Variant, set_preservation: bool, days: int, extension: str,
             grounds: dict[str, bool]) -> Variant:
    data = text.model_dump(mode="json")
    if set_preservation:
        designs.apply(data, {}, "preservation.available", days > 0)
        if days > 0:
            designs.apply(data, {}, "preservation.min_days", days)
    if extension != KEEP:
        designs.apply(data, {}, "preservation.extension", extension == "yes")
    for key, allowed in grounds.items():
        if not allowed:
            ground = key.removeprefix("allow_")
            for section in ("preservation", "traffic_disclosure", "mla"):
                designs.apply(data, {}, f"{section}.refusal_grounds.{ground}", False)
    return validate(Variant, data, "<page controls>")


# -- what the views show, as plain numbers (also used by the tests) -----------------------
def loss_so_far(m: CooperationModel) -> dict[str, np.ndarray]:
    """Per day: lost before preservation, lost after a lapse and obtained, as shares of the
    requests decided so far."""
    d = m.daily()
    decided = (d[[c for c in d if c in _DECIDED]].sum(axis=1)).to_numpy(dtype=float)
    safe = np.where(decided > 0, decided, np.nan)
    return {k: d[k].to_numpy(dtype=float) / safe for k in
            ("lost_before_preservation", "lost_after_lapse", "obtained")}


def latency_so_far(m: CooperationModel) -> np.ndarray:
    """Days to evidence of every request obtained so far (as the summary counts them)."""
    return Observation(m).latency


def busiest(m: CooperationModel, top: int = 5) -> dict[str, np.ndarray]:
    """Daily backlog of the central authorities with the largest peaks so far."""
    matrix = m.backlog_matrix()
    if not len(matrix):
        return {}
    order = np.argsort(-matrix.max(axis=0))[:top]
    return {m.states[i].name: matrix[:, i] for i in order if matrix[:, i].max() > 0}


# -- the views: figures of the model as it stands ----------------------------------------
def _drawn(draw: Any) -> Any:
    """A view's figure: ``draw(model, axes)`` in the house style, on a half-slide canvas."""
    def figure(m: Explorer) -> Figure:
        with house():
            fig = Figure(figsize=(6.4, 3.6), layout="constrained")
            draw(m, fig.add_subplot())
        return fig
    figure.__name__ = draw.__name__
    return figure


def _with_reference(m: Explorer, own: tuple, reference: tuple) -> list[tuple]:
    """(model, *style) for the model, and for the reference when it is overlaid."""
    return [(m, *own)] + ([(m.reference, *reference)] if m.reference is not None else [])


def _finish(ax: Any, legend: str, **labels: str) -> None:
    """Label the view; add its legend, or say what to do while it has nothing to show."""
    ax.set(**labels)
    if ax.has_data():
        ax.legend(loc=legend, fontsize=9)
    else:
        ax.text(0.5, 0.5, "press Step or Play", transform=ax.transAxes, ha="center",
                va="center", color=MUTED_INK)


@_drawn
def open_by_stage(m: Explorer, ax: Any) -> None:
    d = m.daily()
    if len(d):
        stacks = [sum(d[f"open_{STAGE_NAMES[s]}"] for s in stages)
                  for stages in STAGE_GROUPS.values()]
        ax.stackplot(d["day"], *stacks, labels=list(STAGE_GROUPS), colors=MUTED[:4], alpha=0.85)
    _finish(ax, "upper right", xlabel="day", ylabel="open requests", title="Where requests are")


@_drawn
def loss_by_cause(m: Explorer, ax: Any) -> None:
    for model, ls, suffix in _with_reference(m, ("-", ""), ("--", " (reference)")):
        d, shares = model.daily(), loss_so_far(model)
        for key, metric in (("lost_before_preservation", "loss_before_preservation"),
                            ("lost_after_lapse", "loss_after_lapse")):
            label, colour = CAUSES[metric]
            if len(d):
                ax.plot(d["day"], shares[key], ls=ls, color=colour, label=label + suffix)
    ax.yaxis.set_major_formatter(lambda y, _: percent(y))
    _finish(ax, "upper right", xlabel="day", ylabel="share of decided requests",
            title=f"Data loss so far: {_now(m)}")


def _now(m: CooperationModel) -> str:
    shares = loss_so_far(m)
    lost = shares["lost_before_preservation"] + shares["lost_after_lapse"]
    return percent(float(lost[-1]), 1) if lost.size and np.isfinite(lost[-1]) else "-"


@_drawn
def latency(m: Explorer, ax: Any) -> None:
    bins = np.logspace(-1, np.log10(2000), 40)
    for model, colour, label in _with_reference(m, (MUTED[0], "this text"),
                                                (MUTED_INK, "reference")):
        x = latency_so_far(model)
        if x.size:
            ax.hist(x, bins=bins, histtype="step", lw=2, color=colour,
                    label=f"{label}: median {np.median(x):.0f} d")
    ax.set_xscale("log")
    _finish(ax, "upper left", xlabel="days to evidence (log scale)", ylabel="requests",
            title="Time to evidence, requests obtained so far")


@_drawn
def backlog(m: Explorer, ax: Any) -> None:
    for (name, series), colour in zip(busiest(m).items(), MUTED, strict=False):
        ax.plot(np.arange(series.size), series, color=colour, label=name)
    if m.reference is not None:
        for name, series in busiest(m.reference, 1).items():
            ax.plot(np.arange(series.size), series, color=INK, ls="--",
                    label=f"{name} (reference)")
    _finish(ax, "upper right", xlabel="day", ylabel="files waiting or under review",
            title="Busiest central authorities")


def controls() -> dict[str, dict[str, Any]]:
    """The page's controls, in SolaraViz's format; every default leaves the text as it is."""
    grounds = {f"allow_{g.value}": {"type": "Checkbox", "value": True,
                                    "label": f"allow refusal: {GROUND_LABELS[g.value]}"}
               for g in Ground}
    st = BASE.states
    return {
        "variant": {"type": "Select", "value": REFERENCE, "values": VARIANTS,
                    "label": "treaty text"},
        "set_preservation": {"type": "Checkbox", "value": False,
                             "label": "override the preservation period"},
        "preservation_days": {"type": "SliderInt", "value": 60, "min": 0, "max": 360,
                              "step": 15, "label": "preservation period, days (0: none)"},
        "extension": {"type": "Select", "value": KEEP, "values": [KEEP, "yes", "no"],
                      "label": "preservation extension"},
        "dc_reservation_share": {"type": "SliderFloat", "value": st.dc_reservation_share.value,
                                 "min": 0.0, "max": 1.0, "step": 0.05,
                                 "label": "States reserving on dual criminality (share)"},
        "poc_always_on_share": {"type": "SliderFloat", "value": st.poc_always_on_share.value,
                                "min": 0.0, "max": 1.0, "step": 0.05,
                                "label": "24/7 points staffed round the clock (share)"},
        "staff_factor": {"type": "SliderFloat", "value": 1.0, "min": 0.25, "max": 4.0,
                         "step": 0.25, "label": "central-authority staff (x default)"},
        "party_share": {"type": "SliderFloat", "value": st.party_share.value, "min": 0.0,
                        "max": 1.0, "step": 0.05, "label": "States party (share)"},
        "compare": {"type": "Checkbox", "value": False,
                    "label": f"overlay the reference ({REFERENCE})"},
        **grounds,
        "seed": 1,
        "scale": SCALE,
    }


FIGURES = [open_by_stage, loss_by_cause, latency, backlog]


def _view(draw: Any) -> Any:
    """A page view: the figure ``draw`` makes of the model, redrawn as the model runs."""
    def view(m: Explorer) -> Any:
        return solara.FigureMatplotlib(draw(m), format="png")
    view.__name__ = draw.__name__
    return view


VIEWS = [_view(draw) for draw in FIGURES]


def make_page(model: Explorer | None = None) -> Any:
    """The SolaraViz page around a model (a default one if none is given)."""
    return SolaraViz(model or Explorer(), components=VIEWS, model_params=controls(),
                     name="coopsim: evidence across borders", play_interval=1,
                     render_interval=7)


@solara.component
def Page() -> Any:
    """The page ``solara run`` serves: each browser session builds its own model when it
    opens (importing this module builds none)."""
    model = solara.use_memo(Explorer, dependencies=[])
    return make_page(model)


def __getattr__(name: str) -> Any:
    """``page``, the page around a default model, built on first use and then kept (so
    ``from sim.app import page`` works in Jupyter, and importing the module stays cheap)."""
    if name != "page":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    built = globals()["page"] = make_page()
    return built
