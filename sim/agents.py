"""The actors: States, their central authorities and 24/7 points, and service providers.

Each actor is a Mesa agent; the ones that do work own a SimPy resource whose capacity is
their staff (``None`` means unlimited, so the work is a plain delay).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from typing import TYPE_CHECKING

import mesa
import simpy
from simpy.resources.resource import PriorityRequest, SortedQueue

if TYPE_CHECKING:
    from .model import CooperationModel
    from .vocabulary import Ground

WEEK_DAYS = 7.0
WORKING_DAYS = 5  # day 0 of the simulation is a Monday, 00:00 UTC


class State(mesa.Agent):
    """A State: party or not, its legal traits and propensities, its offices."""

    def __init__(self, model: CooperationModel, index: int, iso3: str, name: str,
                 region: str, utc_offset: float, *, party: bool, dc_reservation: bool,
                 accepts_letters_rogatory: bool, propensity: dict[Ground, float],
                 dc_propensity: float) -> None:
        super().__init__(model)
        self.index, self.iso3, self.name, self.region = index, iso3, name, region
        self.utc_offset = utc_offset
        self.party = party
        self.dc_reservation = dc_reservation  # made the reservation a text allows
        self.accepts_letters_rogatory = accepts_letters_rogatory
        self.propensity = propensity  # chance of invoking each ground where it is arguable
        self.dc_propensity = dc_propensity  # chance of declining for lack of dual criminality
        self.central_authority: CentralAuthority
        self.point_of_contact: PointOfContact


class InsertionQueue(SortedQueue):
    """SimPy's priority queue, kept in order by inserting each request in its place.

    SimPy's ``SortedQueue`` re-sorts the whole queue on every request, which costs a quarter
    of a run once central authorities hold thousands of files. Inserting after the requests
    with the same key gives the same order (first come, first served within a priority).
    """

    def append(self, item: PriorityRequest) -> None:
        if self.maxlen is not None and len(self) >= self.maxlen:
            raise RuntimeError("Cannot append event. Queue is full.")
        bisect.insort_right(self, item, key=_key)


def _key(request: PriorityRequest) -> tuple:
    return request.key


class Users(dict):
    """The requests holding a desk, in arrival order, with removal in constant time (SimPy
    keeps them in a list, and a release then searches thousands of files)."""

    def append(self, request: PriorityRequest) -> None:
        self[request] = None

    def remove(self, request: PriorityRequest) -> None:
        if self.pop(request, self) is self:
            raise ValueError("not a user of this desk")


class Desk(simpy.PriorityResource):
    """A central authority's staff: SimPy's priority resource, with the queue kept in order by
    insertion and the users in a dictionary."""

    PutQueue = InsertionQueue

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        super().__init__(env, capacity)
        self.users = Users()


class CentralAuthority(mesa.Agent):
    """Receives, reviews and answers MLA requests: a queue with limited staff."""

    def __init__(self, model: CooperationModel, state: State, staff: int | None) -> None:
        super().__init__(model)
        self.state = state
        self.staff = staff
        self.desk = Desk(model.env, staff) if staff else None

    @property
    def backlog(self) -> int:
        """Files waiting or under review (kept by the model, one counter per State)."""
        return self.model.backlog[self.state.index]


class PointOfContact(mesa.Agent):
    """A 24/7 point of contact, or one that works only in local business hours."""

    def __init__(self, model: CooperationModel, state: State, always_on: bool,
                 hours: tuple[float, float], staff: int | None) -> None:
        super().__init__(model)
        self.state = state
        self.always_on = always_on
        self.opens, self.closes = hours[0] / 24, hours[1] / 24
        self.desk = simpy.Resource(model.env, staff) if staff else None

    def wait(self, now: float) -> float:
        """Days until the point is next open, from ``now`` (UTC days)."""
        if self.always_on:
            return 0.0
        local = now + self.state.utc_offset / 24
        day = math.floor(local)
        weekday = int(day % WEEK_DAYS)
        clock = local - day
        if weekday < WORKING_DAYS and self.opens <= clock < self.closes:
            return 0.0
        if weekday < WORKING_DAYS and clock < self.opens:
            return self.opens - clock
        ahead = 1
        while (weekday + ahead) % WEEK_DAYS >= WORKING_DAYS:
            ahead += 1
        return ahead - clock + self.opens

    def serve(self, handling: float) -> simpy.Event:
        """Handle one request: wait for a free officer and opening hours, then work."""
        env = self.model.env
        if self.desk is None:
            return env.timeout(self.wait(env.now) + handling)
        return env.process(self._staffed(handling))

    def _staffed(self, handling: float) -> Generator[simpy.Event]:
        env = self.model.env
        with self.desk.request() as slot:
            yield slot
            yield env.timeout(self.wait(env.now) + handling)


class ServiceProvider(mesa.Agent):
    """Holds the data: home State, retention profile, legal-response team."""

    def __init__(self, model: CooperationModel, index: int, name: str, home: State,
                 retention: str, staff: int | None) -> None:
        super().__init__(model)
        self.index, self.name, self.home, self.retention = index, name, home, retention
        self.desk = simpy.Resource(model.env, staff) if staff else None

    def serve(self, days: float) -> simpy.Event:
        """Preserve, produce or disclose: wait for a free member of the legal team, then work."""
        env = self.model.env
        if self.desk is None:
            return env.timeout(days)
        return env.process(self._staffed(days))

    def _staffed(self, days: float) -> Generator[simpy.Event]:
        with self.desk.request() as slot:
            yield slot
            yield self.model.env.timeout(days)
