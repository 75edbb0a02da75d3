"""The append-only event log: one row per request per stage, the single source of truth.

Rows are held in typed columns (a few bytes each), not Python objects, so a run with a
million requests fits in memory. Request attributes live in a second table, one row each.
"""

from array import array

import numpy as np
import pandas as pd

from .vocabulary import (
    DATA_TYPES,
    GROUND_NAMES,
    OFFENCES,
    OUTCOME_NAMES,
    RESULT_NAMES,
    STAGE_NAMES,
    Stage,
)

NO_GROUND = -1
RESULT_LABELS = tuple(dict.fromkeys(RESULT_NAMES + OUTCOME_NAMES))


class EventLog:
    """Stage rows (request, stage, start, end, result, ground) in typed columns."""

    def __init__(self) -> None:
        self.request, self.stage = array("q"), array("b")
        self.start, self.end = array("d"), array("d")
        self.result, self.ground = array("b"), array("b")

    def add(self, request: int, stage: int, start: float, end: float, result: int,
            ground: int = NO_GROUND) -> None:
        self.request.append(request)
        self.stage.append(stage)
        self.start.append(start)
        self.end.append(end)
        self.result.append(result)
        self.ground.append(ground)

    def __len__(self) -> int:
        return len(self.request)

    def frame(self, labels: bool = True) -> pd.DataFrame:
        """The log as a DataFrame; with ``labels`` the codes become categorical names."""
        df = pd.DataFrame({
            "request": self.request, "stage": self.stage, "start": self.start,
            "end": self.end, "result": self.result, "ground": self.ground,
        })
        if labels:
            # an outcome row's result is the request's outcome; other rows', how the stage ended
            final = (df["stage"] == Stage.OUTCOME).to_numpy()
            names = np.where(final, np.array(OUTCOME_NAMES, dtype=object)[df["result"]],
                             np.array(RESULT_NAMES, dtype=object)[df["result"]])
            df["result"] = pd.Categorical(names, categories=RESULT_LABELS)
            df["stage"] = pd.Categorical.from_codes(df["stage"], STAGE_NAMES)
            df["ground"] = pd.Categorical.from_codes(df["ground"], GROUND_NAMES)
        return df


class RequestTable:
    """One row per created request: who asked whom, for what, under which regime."""

    COLUMNS = ("request", "case", "hop", "requesting", "requested", "provider", "offence",
               "data_type", "emergency", "need_time")

    def __init__(self) -> None:
        self.cols = {c: array("d" if c == "need_time" else "q") for c in self.COLUMNS}
        self.mla_regime: list[str] = []

    def add(self, *values: float, mla_regime: str) -> None:
        for col, v in zip(self.cols.values(), values, strict=True):
            col.append(v)
        self.mla_regime.append(mla_regime)

    def __len__(self) -> int:
        return len(self.cols["request"])

    def frame(self, states: list[str], providers: list[str]) -> pd.DataFrame:
        df = pd.DataFrame(self.cols)
        df["emergency"] = df["emergency"].astype(bool)
        df["requesting"] = pd.Categorical.from_codes(df["requesting"], states)
        df["requested"] = pd.Categorical.from_codes(df["requested"], states)
        df["provider"] = pd.Categorical.from_codes(df["provider"], providers)
        df["offence"] = pd.Categorical.from_codes(df["offence"], [o.value for o in OFFENCES])
        df["data_type"] = pd.Categorical.from_codes(df["data_type"],
                                                    [d.value for d in DATA_TYPES])
        df["mla_regime"] = pd.Categorical(self.mla_regime)
        return df
