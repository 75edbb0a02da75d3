"""A case's evidence request: a record of who asks whom for what, with every random quantity
its life may need drawn in advance (it carries no behaviour), and the random streams they
are drawn from.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np


class Streams:
    """Independent random streams, one per named quantity, all spawned from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __call__(self, name: str) -> np.random.Generator:
        key = (zlib.crc32(name.encode()),)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=key))


@dataclass(slots=True, eq=False)
class Request:
    """One evidence item sought from one provider: a hop on a case's trail."""

    id: int
    case: int
    hop: int
    arrival: float  # when the case's need arose (its first hop's creation)
    requesting: int
    requested: int
    provider: int
    offence: int
    data_type: int
    emergency: bool
    comm_time: float  # when the communication happened (the data's birth)
    deleted_at: float  # when the provider deletes it in the ordinary course
    exists: bool
    pres_mask: int  # grounds the requested State would invoke against preservation
    disc_mask: int  # ... against disclosure of traffic data
    mla_mask: int  # ... against the MLA request
    dc_fails: bool  # conduct is not a crime in the requested State
    dc_invoke: bool  # the requested State would decline for that reason
    locate_days: float
    poc_days: float
    preserve_days: float
    draft_days: float
    urgent_draft_days: float
    transmit_days: tuple[float, ...]  # by channel
    return_days: tuple[float, ...]
    review_days: float
    more_info: bool
    reply_days: float
    postpone: bool
    postpone_days: float
    consult_days: float
    rescued: bool  # an intended refusal turns into a conditional grant after consultation
    extension_granted: bool
    asks_preservation: bool  # the requester asks for expedited preservation first
    execute_days: float
    emergency_days: float
    direct_complies: bool  # the provider answers a direct order in time
    deletion: float  # when the provider deletes it: its retention clock, or a hold's end
    next: Request | None = None  # the next hop on the trail, if any
    # dynamic state
    need_time: float = 0.0
    measured: bool = False  # its case arose in the measurement window: it is logged
    stage: int = -1
    since: float = 0.0
    started: bool = False
    preserved_at: float = field(default=float("nan"))
