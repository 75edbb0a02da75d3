"""Closed vocabularies shared by the input files, the engine and the outputs.

Codes are small integers so that the event log can be stored in compact columns; the
names are what files and tables show; the labels and groups at the end are what the report,
the charts and the page print.
"""

from enum import IntEnum, StrEnum


class Ground(StrEnum):
    """Refusal grounds a treaty may list (closed list; files naming others are rejected)."""

    POLITICAL_OFFENCE = "political_offence"
    ESSENTIAL_INTERESTS = "essential_interests"  # sovereignty, security, ordre public
    DOMESTIC_LAW_BAR = "domestic_law_bar"  # prohibited for a similar domestic offence
    PERSECUTION = "persecution"  # sex, race, religion, nationality, political opinions
    NON_CONFORMITY = "non_conformity"  # request not made in conformity with the treaty
    CONTRARY_TO_MLA_SYSTEM = "contrary_to_mla_system"
    DE_MINIMIS = "de_minimis"
    PERSONAL_DATA = "personal_data"  # transfer incompatible with data-protection law
    OFFENCE_AGAINST_STATE = "offence_against_state"
    FISCAL = "fiscal"
    BANK_SECRECY = "bank_secrecy"
    DISPROPORTIONALITY = "disproportionality"
    REQUESTED_STATE_LAW = "requested_state_law"  # any ground of the requested State's own law


GROUNDS: tuple[Ground, ...] = tuple(Ground)
NO_DUAL_CRIMINALITY = len(GROUNDS)  # ground code used when dual criminality fails
GROUND_NAMES: tuple[str, ...] = (*(g.value for g in GROUNDS), "no_dual_criminality")


def ground_mask(grounds: list[Ground] | tuple[Ground, ...] | frozenset[Ground]) -> int:
    """Bit mask with one bit per listed ground (bit i for ``GROUNDS[i]``)."""
    mask = 0
    for ground in grounds:
        mask |= 1 << GROUNDS.index(ground)
    return mask


def lowest_ground(mask: int) -> int:
    """Code of the first ground (in vocabulary order) set in a non-zero mask."""
    return (mask & -mask).bit_length() - 1


class Offence(StrEnum):
    """What the investigation is about, as far as a treaty's scope is concerned."""

    CONVENTION = "convention"  # offences the convention itself establishes
    SERIOUS = "serious"  # other serious crime (UN art 2(h): max penalty >= 4 years)
    OTHER = "other"  # any other criminal offence


OFFENCES: tuple[Offence, ...] = tuple(Offence)


class DataType(StrEnum):
    SUBSCRIBER = "subscriber"
    TRAFFIC = "traffic"
    CONTENT = "content"


DATA_TYPES: tuple[DataType, ...] = tuple(DataType)


class DualCriminality(StrEnum):
    """How a regime treats conduct that is not a crime in the requested State."""

    NOT_REQUIRED = "not_required"  # never a reason to refuse
    RESERVATION = "reservation"  # refused only for non-convention offences by reserving States
    DISCRETIONARY = "discretionary"  # the requested State may decline
    REQUIRED = "required"  # always refused


class Channel(StrEnum):
    """How a request or its answer travels between States."""

    ELECTRONIC = "electronic"
    PAPER = "paper"
    DIPLOMATIC = "diplomatic"
    INTERPOL = "interpol"


class PocFunction(StrEnum):
    """What a 24/7 point of contact may do under a regime."""

    LOCATE_PROVIDER = "locate_provider"
    PRESERVATION = "preservation"
    EMERGENCY_DATA = "emergency_data"


class EmergencyRoute(StrEnum):
    NONE = "none"
    POINT_OF_CONTACT = "point_of_contact"  # 24/7 point obtains the data from the provider
    URGENT_MLA = "urgent_mla"  # MLA by expedited means, ahead of the queue


class Stage(IntEnum):
    """Stages of a request's life, in procedural order (one log row per stage passed)."""

    LOCATE = 0
    PRESERVATION_REQUEST = 1
    PRESERVE = 2
    HOLD = 3  # data held under preservation until the MLA request arrives or it lapses
    DISCLOSURE = 4  # expedited disclosure of traffic data revealing the next provider
    DRAFT = 5
    TRANSMIT = 6
    QUEUE = 7
    REVIEW = 8
    MORE_INFO = 9
    POSTPONE = 10
    CONSULT = 11
    EXECUTE = 12
    RETURN = 13
    EMERGENCY = 14
    DIRECT = 15  # an order or request sent straight to a provider in another State
    OUTCOME = 16  # the terminal row


STAGE_NAMES: tuple[str, ...] = tuple(s.name.lower() for s in Stage)


class Result(IntEnum):
    """How a stage ended (log column ``result``)."""

    DONE = 0
    REFUSED = 1
    LOST = 2
    NEVER_EXISTED = 3
    KEPT = 4  # preservation held until the MLA request arrived
    LAPSED = 5
    EXTENDED = 6
    CENSORED = 7  # still in this stage at the end of the run


RESULT_NAMES: tuple[str, ...] = tuple(r.name.lower() for r in Result)


class Outcome(IntEnum):
    """Terminal outcome of an evidence request: exactly one per request."""

    OBTAINED = 0
    LOST_BEFORE_PRESERVATION = 1
    LOST_AFTER_LAPSE = 2
    NEVER_EXISTED = 3
    REFUSED = 4
    OUT_OF_SCOPE = 5
    NO_CHANNEL = 6
    PENDING = 7  # censored at the end of the run


OUTCOME_NAMES: tuple[str, ...] = tuple(o.name.lower() for o in Outcome)


# -- what tables and charts call them ---------------------------------------------------------
STAGE_LABELS: dict[Stage, str] = {s: s.name.lower().replace("_", " ") for s in Stage}
PROCEDURE_STAGES: tuple[Stage, ...] = tuple(  # one at a time, each with a duration to report
    s for s in Stage if s not in (Stage.HOLD, Stage.DISCLOSURE, Stage.OUTCOME))
STAGE_GROUPS: dict[str, tuple[Stage, ...]] = {  # who holds the request: every procedure stage
    "locate and preserve": (Stage.LOCATE, Stage.PRESERVATION_REQUEST, Stage.PRESERVE,
                            Stage.DIRECT, Stage.EMERGENCY),
    "draft and transmit": (Stage.DRAFT, Stage.TRANSMIT),  # the requesting State
    "central authority": (Stage.QUEUE, Stage.REVIEW, Stage.MORE_INFO, Stage.CONSULT,
                          Stage.POSTPONE),  # the requested State's
    "execution and return": (Stage.EXECUTE, Stage.RETURN),  # the provider, then back
}
OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.OBTAINED: "evidence obtained",
    Outcome.LOST_BEFORE_PRESERVATION: "lost before preservation",
    Outcome.LOST_AFTER_LAPSE: "lost after preservation lapsed",
    Outcome.NEVER_EXISTED: "data never existed",
    Outcome.REFUSED: "refused",
    Outcome.OUT_OF_SCOPE: "out of scope",
    Outcome.NO_CHANNEL: "no channel",
    Outcome.PENDING: "still pending",
}
GROUND_LABELS: dict[str, str] = {g: g.replace("_", " ") for g in GROUND_NAMES}
REGIME_LABELS: dict[str, str] = {  # the regime governing a request's MLA leg, in chart order
    "treaty": "treaty", "bilateral": "bilateral treaty", "letters_rogatory": "letters rogatory",
    "none": "no route"}
PATHS: tuple[str, ...] = (  # how a request went, the first that applies
    "direct order", "emergency via 24/7", "preserved", "preservation failed", "no preservation",
    "not routed")
OTHER_STATES = "other States"  # every State not named in a per-State table, together
