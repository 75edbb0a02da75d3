"""Reading input files strictly: TOML in, validated models out, one-line errors."""

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class InputError(Exception):
    """A bad input file. ``str()`` is the one-line message the CLI prints."""

    def __init__(self, path: Path | str, key: str, message: str) -> None:
        self.path, self.key, self.message = str(path), key, message
        super().__init__(f"{self.path}: {key}: {message}" if key else f"{self.path}: {message}")


class Strict(BaseModel):
    """Base of every input model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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
    """Validate ``data`` against ``model``, reporting the first problem with its dotted key."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] not in ("missing", "extra_forbidden", "value_error"):
            message += f" (got {err['input']!r})"
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        raise InputError(path, key, message) from None
