"""Reading input files strictly: TOML in, validated models out, one-line errors."""

import codecs
import json
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from sim.limits import MAX_DEPTH, MAX_FILE_BYTES

TOO_DEEP = f"tables or arrays nested deeper than {MAX_DEPTH} levels"


class InputError(Exception):
    """A bad input file. ``str()`` is the one-line message the CLI prints."""

    def __init__(self, path: Path | str, key: str, message: str) -> None:
        self.path, self.key, self.message = str(path), _one_line(key), _one_line(message)
        where = f"{self.path}: {self.key}" if self.key else self.path
        super().__init__(f"{where}: {self.message}")

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:
        """Pickle by the three parts (a worker process's error reaches the parent whole)."""
        return type(self), (self.path, self.key, self.message)


class FieldProblem(ValueError):
    """Raised by a section's validator to blame one of its keys (``key`` relative to it)."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


class Strict(BaseModel):
    """Base of every input model: unknown keys are errors, values are immutable and finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def between(low: float, high: float, unit: str = "", *, above: bool = False) -> AfterValidator:
    """A field's range, ``low <= x <= high`` (``low < x`` with ``above``), with a message that
    says what is allowed: "must be between 0 and 36525 days, got -1"."""
    unit = f" {unit}" if unit else ""
    allowed = (f"above {_number(low)} and at most {_number(high)}{unit}" if above
               else f"between {_number(low)} and {_number(high)}{unit}")

    def check(x: float) -> float:
        if not ((low < x) if above else (low <= x)) or not x <= high:
            raise ValueError(f"must be {allowed}, got {_number(x)}")
        return x
    return AfterValidator(check)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a file that cannot be read, decoded or parsed is an
    :class:`InputError`, and so is one nested deeper than ``MAX_DEPTH``."""
    text = _text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError(path, "", f"invalid TOML: {e}") from None
    except RecursionError:  # the parser recurses once per level
        raise InputError(path, "", TOO_DEEP) from None
    keys = _too_deep(data)
    if keys is not None:
        raise InputError(path, ".".join(keys), TOO_DEEP)
    return data


def _text(path: Path) -> str:
    """The file's text: UTF-8 (a byte-order mark is dropped), nothing else."""
    raw = _read(path)
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(path, "", "is UTF-16 text, not UTF-8: save it as UTF-8")
    if b"\x00" in raw:
        raise InputError(path, "", "is not UTF-8 text: it holds NUL bytes (UTF-16 or binary "
                         "data?)")
    try:
        return raw.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(path, "", f"is not UTF-8 text: byte {raw[e.start]:#04x} at offset "
                         f"{e.start}; save it as UTF-8") from None


def _read(path: Path) -> bytes:
    """The bytes of a regular file of at most ``MAX_FILE_BYTES``, without ever blocking or
    reading without end (on a FIFO or a device such as /dev/zero)."""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(path, "", "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(path, "", "is not a regular file (a device, FIFO or socket)")
        # non-blocking: should the path become a FIFO after the check, opening it won't wait
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(path, "", "file not found") from None
    except PermissionError:
        raise InputError(path, "", "permission denied: cannot read the file") from None
    except OSError as e:
        raise InputError(path, "", f"cannot read the file: {e.strerror or e}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(path, "", f"larger than {MAX_FILE_BYTES:,} bytes, the most an input "
                         "file may hold")
    return raw


def _too_deep(data: Any) -> list[str] | None:
    """The keys leading to the first table or array nested deeper than ``MAX_DEPTH``."""
    stack: list[tuple[Any, list[str]]] = [(data, [])]
    while stack:
        node, keys = stack.pop()
        if len(keys) > MAX_DEPTH:
            return keys
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack += [(v, [*keys, str(k)]) for k, v in items if isinstance(v, dict | list)]
    return None


def validate[M: BaseModel](model: type[M], data: dict[str, Any], path: Path | str) -> M:
    """Validate ``data`` against ``model`` strictly, reporting one problem with its dotted key.

    Validation runs in pydantic's strict JSON mode: no silent coercion ("60" is not a
    number, "yes" is not a boolean), while strings still name enum members.
    """
    try:
        text = json.dumps(data, default=str)
    except ValueError as e:  # NaN or infinity written in the file
        raise InputError(path, "", f"values must be finite numbers ({e})") from None
    except RecursionError:  # data built in code may nest deeper than any file can
        raise InputError(path, "", TOO_DEEP) from None
    try:
        return model.model_validate_json(text, strict=True)
    except RecursionError:
        raise InputError(path, "", TOO_DEEP) from None
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


def _number(x: float) -> str:
    """A number as a reader writes it: 36525, -1, 0.5, 1e+09."""
    if isinstance(x, float):
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:g}"
    return _short(x)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")
