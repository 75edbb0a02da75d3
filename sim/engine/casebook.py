"""The case book: cases and their evidence requests, drawn up front so that variants see the
same cases.

Every random quantity a request may need (its provider, the data's age and retention, each
stage's duration, each decision's uniform) is drawn when its case is created, from a named
stream of its own. Two variants run with the same seed therefore face identical cases, and
their difference is paired (common random numbers).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import MISSING, fields
from typing import TYPE_CHECKING

import numpy as np

from sim.engine.request import Request, Streams
from sim.inputs.world import World
from sim.vocabulary import DATA_TYPES, GROUNDS, OFFENCES, Channel

if TYPE_CHECKING:
    from sim.engine.actors import ServiceProvider, State

BATCH = 1024  # cases drawn at a time; fixed so that draws do not depend on run length
CHANNELS: tuple[Channel, ...] = tuple(Channel)


DRAWN = tuple(f.name for f in fields(Request) if f.default is MISSING)  # one column each


def _link(columns: dict[str, list]) -> list[Request]:
    """Build every hop row's request from its named columns and link each case's hops;
    return each case's first hop."""
    if columns.keys() != set(DRAWN):
        raise ValueError(f"drawn columns differ from the request's: {set(DRAWN) ^ columns.keys()}")
    firsts: list[Request] = []
    prev: Request | None = None
    for values in zip(*(columns[name] for name in DRAWN), strict=True):
        r = Request(*values)  # positional in DRAWN's order, which names every value
        if r.hop == 0:
            firsts.append(r)
        elif prev is not None:  # hop rows of a case are consecutive: link them
            prev.next = r
        prev = r
    return firsts


class CaseBook:
    """Draws cases in fixed-size batches and yields them in arrival order, without end (needs
    arise continuously: the model decides how long to run)."""

    def __init__(self, world: World, streams: Streams, states: Sequence[State],
                 providers: Sequence[ServiceProvider]) -> None:
        self.w = world
        self.streams = {name: streams(f"case.{name}") for name in _STREAM_NAMES}
        # the requested States' propensities, [state, ground] and [state]
        self.state_propensity = np.array([[s.propensity[g] for g in GROUNDS] for s in states])
        self.dc_propensity = np.array([s.dc_propensity for s in states])
        self.n_states = len(states)
        self.provider_home = np.array([p.home.index for p in providers])  # [provider] State
        self.provider_spec = np.array([p.spec for p in providers])  # [provider] world entry
        local = next(i for i, p in enumerate(world.providers) if p.home == "local")
        first = {}  # world.providers entry -> its first provider (a State's local one)
        for p in providers:
            first.setdefault(p.spec, p.index)
        self.local_provider = first[local]  # the first State's local provider
        # [world.providers entry] -> provider, -1 for 'local' (the requested State decides)
        self.pick_provider = np.array([-1 if i == local else first[i]
                                       for i in range(len(world.providers))])
        c = world.cases
        self.max_hops = c.max_hops.value
        self.rate = c.per_year.value / 365.0
        shares = np.array([p.share.value for p in world.providers])
        self.provider_cdf = np.cumsum(shares) / shares.sum()

    def u(self, name: str, *shape: int) -> np.ndarray:
        return self.streams[name].random(shape)

    def __iter__(self) -> Iterator[tuple[float, Request]]:
        case0, t = 0, 0.0
        while True:
            gaps = self.streams["arrival"].exponential(1 / self.rate, BATCH)
            times = t + np.cumsum(gaps)
            t = float(times[-1])
            requests = self._draw(case0, times)
            yield from zip(times.tolist(), requests, strict=True)
            case0 += BATCH

    def _draw(self, case0: int, times: np.ndarray) -> list[Request]:
        """Draw ``BATCH`` cases with all their hops; return each case's first hop.

        Every row is one potential hop; a case keeps its first ``hops`` rows. Each helper
        returns named columns (the request's fields), so nothing is matched by position.
        """
        n, H = BATCH, self.max_hops
        case, hops = self._cases(times)
        case_of, hop_of = np.repeat(np.arange(n), H), np.tile(np.arange(H), n)
        rows = {name: np.repeat(v, H) for name, v in case.items()}  # case values on every hop
        rows["provider"], rows["requested"] = self._providers(rows["requesting"], n)
        rows |= self._evidence(rows)
        rows |= self._decisions(rows)
        rows |= self._work(rows)
        rows |= {"id": (case0 + case_of) * H + hop_of, "case": case0 + case_of, "hop": hop_of,
                 "deletion": rows["deleted_at"]}
        keep = hop_of < hops[case_of]  # a case's trail: its first ``hops`` rows
        columns = {name: v[keep].tolist() for name, v in rows.items()}
        for name in ("transmit_days", "return_days"):
            columns[name] = list(map(tuple, columns[name]))
        return _link(columns)

    def _cases(self, times: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Case-level draws (who asks, for what offence, how urgently, how old the data) and
        the number of hops on each case's trail."""
        n, c = len(times), self.w.cases
        requesting = np.minimum((self.u("requesting", n) * self.n_states).astype(int),
                                self.n_states - 1)
        offence_cdf = np.cumsum([c.offence_mix.value.get(o, 0.0) for o in OFFENCES])
        offence = np.searchsorted(offence_cdf, self.u("offence", n) * offence_cdf[-1], "right")
        hops = 1 + np.cumprod(self.u("hops", n, self.max_hops - 1) < c.next_hop_share.value,
                              axis=1).sum(1)
        return {"requesting": requesting, "offence": np.minimum(offence, len(OFFENCES) - 1),
                "emergency": self.u("emergency", n) < c.emergency_share.value, "arrival": times,
                "comm_time": times - c.age_days.quantile(self.u("age", n))}, hops

    def _evidence(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """What each hop seeks and whether and until when the provider keeps it."""
        w, c = self.w, self.w.cases
        n = len(rows["provider"])
        dt_cdf = np.cumsum([c.data_type_mix.value.get(d, 0.0) for d in DATA_TYPES])
        data_type = np.minimum(np.searchsorted(dt_cdf, self.u("data_type", n) * dt_cdf[-1],
                                               "right"), len(DATA_TYPES) - 1)
        retention = np.empty(n)
        u_ret = self.u("retention", n)
        spec = self.provider_spec[rows["provider"]]
        for i, p in enumerate(w.providers):
            for k, dtype in enumerate(DATA_TYPES):
                sel = (spec == i) & (data_type == k)
                retention[sel] = w.retention[p.retention][dtype].quantile(u_ret[sel])
        never = np.array([p.never_existed_share.value for p in w.providers])[spec]
        asks = np.array([c.preservation_share.value[t] for t in DATA_TYPES])[data_type]
        return {"data_type": data_type, "deleted_at": rows["comm_time"] + retention,
                "exists": self.u("exists", n) >= never,
                "asks_preservation": self.u("asks_preservation", n) < asks}

    def _decisions(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The grounds the requested State would invoke at each step (each ground from its
        own streams), and whether the conduct is a crime there."""
        w, requested = self.w, rows["requested"]
        n = len(requested)
        applicable = np.column_stack([self.u(f"applicable.{g}", n)
                                      < w.grounds[g].applicable_share.value for g in GROUNDS])
        prop = self.state_propensity[requested]
        bits = 1 << np.arange(len(GROUNDS))
        masks = {}
        for step, column in DECISION_STEPS.items():
            invoked = np.column_stack([self.u(f"invoke.{step}.{g}", n) for g in GROUNDS]) < prop
            masks[column] = (applicable & invoked) @ bits
        gap = np.array([w.dual_criminality.gap_share.value.get(o, 0.0) for o in OFFENCES])
        return {**masks, "dc_fails": self.u("dc_gap", n) < gap[rows["offence"]],
                "dc_invoke": self.u("dc_invoke", n) < self.dc_propensity[requested]}

    def _work(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """How long each step takes and how each office's choice falls."""
        w = self.w
        n, spec = len(rows["provider"]), self.provider_spec[rows["provider"]]
        ca, poc, rs = w.central_authorities, w.points_of_contact, w.requesting_states
        dur = {"locate": rs.locate_unaided_days, "poc": poc.handling_days,
               "draft": rs.draft_days, "urgent_draft": rs.urgent_draft_days,
               "review": ca.review_days, "reply": ca.more_info_reply_days,
               "postpone": ca.postpone_days, "consult": ca.consult_days}
        d = {f"{k}_days": dist.quantile(self.u(f"days.{k}", n)) for k, dist in dur.items()}
        for k in ("preserve", "execute", "emergency"):
            u, d[f"{k}_days"] = self.u(f"days.{k}", n), np.empty(n)
            for i, p in enumerate(w.providers):
                d[f"{k}_days"][spec == i] = getattr(p, f"{k}_days").quantile(u[spec == i])
        for way in ("transmit", "return"):
            d[f"{way}_days"] = np.stack([w.channels[ch].quantile(self.u(f"{way}.{ch}", n))
                                         for ch in CHANNELS], axis=1)
        return {**d, "more_info": self.u("more_info", n) < ca.more_info_share.value,
                "postpone": self.u("postpone", n) < ca.postpone_share.value,
                "rescued": self.u("rescued", n) < ca.consult_rescue_share.value,
                "extension_granted": self.u("extension", n) < ca.extension_grant_share.value,
                "direct_complies": self.u("direct", n) < w.direct_requests.compliance_share.value}

    def _providers(self, requesting: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Provider and requested State of every hop row.

        A hop goes to a provider drawn by market share; a 'local' draw, or a provider at home
        in the requesting State or in the previous hop's State, goes to the local provider of
        another State drawn at random.
        """
        H, S = self.max_hops, self.n_states
        rows = n * H
        pick = np.searchsorted(self.provider_cdf, self.u("provider", rows), "right")
        pick = self.pick_provider[np.minimum(pick, len(self.provider_cdf) - 1)]
        home = np.where(pick >= 0, self.provider_home[pick], -1)
        other = self.streams["other_state"]
        requested = home.copy()
        prev = np.full(rows, -1)
        out_provider = pick.copy()
        for hop in range(H):
            idx = np.arange(hop, rows, H)
            if hop:
                prev[idx] = requested[idx - 1]
            clash = (home[idx] < 0) | (home[idx] == requesting[idx]) | (home[idx] == prev[idx])
            draw = np.minimum((other.random(idx.size) * S).astype(int), S - 1)
            bad = clash & ((draw == requesting[idx]) | (draw == prev[idx]))
            while bad.any():
                draw[bad] = np.minimum((other.random(int(bad.sum())) * S).astype(int), S - 1)
                bad = clash & ((draw == requesting[idx]) | (draw == prev[idx]))
            requested[idx] = np.where(clash, draw, home[idx])
            out_provider[idx] = np.where(clash, self.local_provider + draw, pick[idx])
        return out_provider, requested


DECISION_STEPS = {"preservation": "pres_mask", "disclosure": "disc_mask", "mla": "mla_mask"}
_STREAM_NAMES = (  # one stream per quantity, and per ground for each decision
    "arrival", "requesting", "offence", "emergency", "age", "hops", "provider", "other_state",
    "data_type", "retention", "exists", *(f"applicable.{g}" for g in GROUNDS),
    *(f"invoke.{s}.{g}" for s in DECISION_STEPS for g in GROUNDS), "dc_gap", "dc_invoke",
    "days.locate", "days.poc", "days.draft", "days.urgent_draft", "days.review", "days.reply",
    "days.postpone", "days.consult", "days.preserve", "days.execute", "days.emergency",
    *(f"transmit.{c}" for c in CHANNELS), *(f"return.{c}" for c in CHANNELS), "more_info",
    "postpone", "rescued", "extension", "direct", "asks_preservation",
)
