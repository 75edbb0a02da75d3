"""Reading input files strictly: TOML in, validated models out, one-line errors."""

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class InputError(Exception):
    """A bad input file. ``str()`` is the one-line message the CLI prints."""

    def __init__(self, path: Path | str, key: str, message: str) -> None:
        self.path, self.key, self.message = str(path), _one_line(key), _one_line(message)
        where = f"{self.path}: {self.key}" if self.key else self.path
        super().__init__(f"{where}: {self.message}")


class FieldProblem(ValueError):
    """Raised by a section's validator to blame one of its keys (``key`` relative to it)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


class Strict(BaseModel):
    """Base of every input model: unknown keys are errors, values are immutable and finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is an :class:`InputError`."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise InputError(path, "", "file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(path, "", f"invalid TOML: {e}") from None


def validate[M: BaseModel](model: type[M], data: dict[str, Any], path: Path | str) -> M:
    """Validate ``data`` against ``model`` strictly, reporting one problem with its dotted key.

    Validation runs in pydantic's strict JSON mode: no silent coercion ("60" is not a
    number, "yes" is not a boolean), while strings still name enum members.
    """
    try:
        text = json.dumps(data, default=str)
    except ValueError as e:  # NaN or infinity written in the file
        raise InputError(path, "", f"values must be finite numbers ({e})") from None
    try:
        return model.model_validate_json(text, strict=True)
    except ValidationError as e:
        err = max(e.errors(), key=lambda x: len(x["loc"]))  # the most specific branch
        loc = _data_path(data, err["loc"])
        problem = (err.get("ctx") or {}).get("error")
        if isinstance(problem, FieldProblem):
            loc += problem.key.split(".")
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] not in ("missing", "value_error"):
            message += f" (got {_short(err['input'])})"
        raise InputError(path, ".".join(loc), message) from None


def _data_path(data: Any, loc: tuple[Any, ...]) -> list[str]:
    """The error's location as keys of the file, without pydantic's union and tag labels."""
    keys, node = [], data
    for i, part in enumerate(loc):
        found = part in node if isinstance(node, dict) else (
            isinstance(node, list) and isinstance(part, int) and part < len(node))
        if found:
            node = node[part]
        elif i < len(loc) - 1:
            continue  # a label pydantic adds for a union branch or a tag
        keys.append(str(part))
    return keys


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")
