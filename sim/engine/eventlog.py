"""The append-only event log: one row per request per stage, the single source of truth.

Rows are held in typed columns (a few bytes each), not Python objects, so a run with a
million requests fits in memory. Request attributes live in a second table, one row each.
"""

from __future__ import annotations

from array import array
from typing import ClassVar

import numpy as np
import pandas as pd

from sim.vocabulary import (
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
        self.request, self.stage = array("i"), array("b")
        self.start, self.end = array("d"), array("d")
        self.result, self.ground = array("b"), array("b")
        # bound appends: ``add`` runs about ten times per request
        self._request, self._stage = self.request.append, self.stage.append
        self._start, self._end = self.start.append, self.end.append
        self._result, self._ground = self.result.append, self.ground.append

    def add(self, request: int, stage: int, start: float, end: float, result: int,
            ground: int = NO_GROUND) -> None:
        self._request(request)
        self._stage(stage)
        self._start(start)
        self._end(end)
        self._result(result)
        self._ground(ground)

    def __len__(self) -> int:
        return len(self.request)

    def select(self, keep: np.ndarray) -> EventLog:
        """A new log of the rows where ``keep`` (a boolean array, one per row) is True."""
        part = EventLog()
        for name in ("request", "stage", "start", "end", "result", "ground"):
            column = getattr(self, name)
            chosen = np.frombuffer(column, dtype=column.typecode)[keep]
            getattr(part, name).frombytes(chosen.tobytes())
        return part

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
    """One row per created request of the cohort: who asked whom, for what, under which
    regime, and when its case arose (``arrival``) and the request itself (``need_time``)."""

    COLUMNS: ClassVar[dict[str, str]] = {  # column -> array type code
        "request": "i", "case": "i", "hop": "b", "requesting": "h", "requested": "h",
        "provider": "h", "offence": "b", "data_type": "b", "emergency": "b", "arrival": "d",
        "need_time": "d", "comm_time": "d", "mla_regime": "b",
    }
    REGIMES = ("none", "treaty", "bilateral", "letters_rogatory")

    def __init__(self) -> None:
        self.cols = {c: array(t) for c, t in self.COLUMNS.items()}
        self._append = tuple((c, col.append) for c, col in self.cols.items())

    def add(self, **row: float) -> None:
        """Append one request's row, every column named (exactly the table's columns: as
        many, and each present)."""
        if len(row) != len(self._append):
            raise ValueError(f"a request row needs exactly the columns {list(self.COLUMNS)}")
        for column, append in self._append:
            append(row[column])

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
        df["mla_regime"] = pd.Categorical.from_codes(df["mla_regime"], self.REGIMES)
        return df
