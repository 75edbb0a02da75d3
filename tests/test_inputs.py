"""Strict input validation: a bad variant or world file is a one-line error, exit 2, no output.

Each case starts from valid data (the UN variant, the small test world), corrupts one
thing, writes it as TOML and runs ``coopsim run`` in-process. Two tests share each case
list: one checks the failure is clean (status 2, one stderr line naming the file, nothing on
stdout, no traceback, no output folder), the other that the line names the offending key.
"""

from __future__ import annotations

import codecs
import copy
import datetime
import errno
import os
import random
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import UN, variant_data, world_data, write_toml

from sim.cli import main
from sim.inputs.provisions import Variant, load_variant
from sim.inputs.schema import InputError, read_toml, validate
from sim.inputs.world import DEFAULT_WORLD, World, load_world
from sim.limits import MAX_DEPTH, MAX_FILE_BYTES

Data = dict[str, Any]
Mutate = Callable[[Data], None]

# --- corrupting data by dotted path ---------------------------------------------------------


def _node(data: Data, dotted: str) -> tuple[Any, Any]:
    """The container holding the last segment of ``dotted``, and that segment."""
    *parents, last = (int(p) if p.isdigit() else p for p in dotted.split("."))
    for p in parents:
        data = data[p]
    return data, last


def set_(dotted: str, value: Any) -> Mutate:
    def mutate(data: Data) -> None:
        node, last = _node(data, dotted)
        node[last] = value
    return mutate


def drop(dotted: str) -> Mutate:
    def mutate(data: Data) -> None:
        node, last = _node(data, dotted)
        del node[last]
    return mutate


def append(dotted: str, value: Any) -> Mutate:
    def mutate(data: Data) -> None:
        node, last = _node(data, dotted)
        node[last].append(value)
    return mutate


def rename(dotted: str, new: str) -> Mutate:
    def mutate(data: Data) -> None:
        node, last = _node(data, dotted)
        node[new] = node.pop(last)
    return mutate


def fresh_world() -> Data:
    # world_data() shares conftest.SMALL_ROSTER by reference: copy before corrupting.
    return copy.deepcopy(world_data())


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutate
    key: str | tuple[str, ...]  # the dotted key (or fragments) the error line must contain

    @property
    def fragments(self) -> tuple[str, ...]:
        return (self.key,) if isinstance(self.key, str) else self.key


VARIANT_CASES = [
    Case("unknown-top-level-key", set_("bogus", 1), "bogus"),
    Case("unknown-provision", set_("preservation.max_days",
                                   {"value": 1, "status": "assumption", "note": "n"}),
         "preservation.max_days"),
    Case("unknown-key-in-provision-table", set_("preservation.min_days.valeu", 60),
         "preservation.min_days.valeu"),
    Case("misspelt-value-key", rename("preservation.min_days.value", "valeu"),
         "preservation.min_days"),
    Case("wrong-type-min-days", set_("preservation.min_days.value", "sixty"),
         "preservation.min_days"),
    Case("wrong-type-grounds-not-a-list", set_("preservation.refusal_grounds.value", "fiscal"),
         "preservation.refusal_grounds"),
    Case("out-of-range-min-days", set_("preservation.min_days.value", -5),
         "preservation.min_days"),
    Case("unknown-ground-preservation", append("preservation.refusal_grounds.value", "whim"),
         "preservation.refusal_grounds"),
    Case("unknown-ground-mla", append("mla.refusal_grounds.value", "whim"),
         "mla.refusal_grounds"),
    Case("unknown-ground-traffic", append("traffic_disclosure.refusal_grounds.value", "whim"),
         "traffic_disclosure.refusal_grounds"),
    Case("unknown-channel", set_("mla.channel.value", "carrier_pigeon"), "mla.channel"),
    Case("emergency-route-without-its-function",
         set_("point_of_contact.functions.value", ["locate_provider"]), "emergency.route"),
    Case("unknown-urgent-channel", set_("mla.urgent_channel.value", "telegram"),
         "mla.urgent_channel"),
    Case("unknown-status", set_("preservation.min_days.status", "maybe"),
         "preservation.min_days.status"),
    Case("stated-without-source", drop("preservation.min_days.source"),
         "preservation.min_days"),
    Case("silent-without-fallback", drop("preservation.extension_days.fallback"),
         "preservation.extension_days"),
    Case("assumption-without-note", set_("mla.channel", {"value": "paper",
                                                         "status": "assumption"}),
         "mla.channel"),
    Case("quote-over-40-words", set_("preservation.min_days.quote", " ".join(["word"] * 41)),
         "preservation.min_days"),
    Case("missing-required-provision", drop("preservation.min_days"),
         "preservation.min_days"),
    # a section left out whole is silent (tests/test_sections.py); one given needs its keys
    Case("section-without-its-key", drop("emergency.route"), "emergency.route"),
    Case("bad-variant-name", set_("variant.name", "UN Convention"), "variant.name"),
    Case("unknown-variant-kind", set_("variant.kind", "law"), "variant.kind"),
    Case("variant-section-not-a-table", set_("variant", 5), "variant"),
    Case("extends-not-a-name", set_("variant.extends", 5), "variant.extends"),
]

WORLD_CASES = [
    Case("unknown-top-level-key", set_("bogus", 1), "bogus"),
    Case("unknown-key-in-section", set_("states.bogus", 1), "states.bogus"),
    Case("unknown-key-in-figure", set_("states.party_share.valeu", 0.5),
         "states.party_share.valeu"),
    Case("share-above-one", set_("states.party_share.value", 1.5), "states.party_share"),
    Case("share-negative", set_("central_authorities.more_info_share.value", -0.1),
         "central_authorities.more_info_share"),
    Case("wrong-type-int", set_("cases.max_hops.value", "three"), "cases.max_hops"),
    Case("wrong-type-provider-staff", set_("providers.0.staff.value", "many"),
         "providers.0.staff"),
    Case("unknown-dist-kind", set_("central_authorities.review_days.dist", "weibull"),
         "central_authorities.review_days"),
    Case("lognormal-negative-sigma", set_("central_authorities.review_days.sigma", -0.5),
         "central_authorities.review_days.sigma"),
    Case("offence-mix-not-summing-to-one", set_("cases.offence_mix.value.other", 0.5),
         "cases.offence_mix"),
    Case("preservation-share-missing-type", drop("cases.preservation_share.value.content"),
         ("cases.preservation_share", "content")),
    Case("preservation-share-above-one",
         set_("cases.preservation_share.value.traffic", 1.2), "cases.preservation_share"),
    Case("offence-mix-unknown-offence", set_("cases.offence_mix.value.piracy", 0.0),
         "cases.offence_mix.value.piracy"),
    Case("unknown-channel-in-world", set_("channels.pigeon", {"dist": "fixed", "value": 1,
                                                              "source": "assumption"}),
         "channels.pigeon"),
    Case("missing-channel", drop("channels.paper"), ("channels", "paper")),
    Case("provider-unknown-retention", set_("providers.0.retention", "forever"),
         ("providers.0.retention", "forever")),
    Case("provider-home-not-in-roster", set_("providers.0.home", "DEU"),
         ("providers.0.home", "DEU")),
    Case("missing-ground", drop("grounds.fiscal"), ("grounds", "fiscal")),
    Case("figure-without-source", drop("states.party_share.source"),
         "states.party_share.source"),
    Case("unknown-ground-fallback-bilateral",
         append("fallback.bilateral.mla.refusal_grounds.value", "whim"),
         "fallback.bilateral.mla.refusal_grounds"),
    Case("unknown-ground-fallback-letters-rogatory",
         append("fallback.letters_rogatory.preservation.refusal_grounds.value", "whim"),
         "fallback.letters_rogatory.preservation.refusal_grounds"),
    Case("staff-for-unknown-state", set_("central_authorities.staff_by_state.value.ZZZ", 3),
         ("central_authorities.staff_by_state", "ZZZ")),
    Case("duplicate-roster-state", append("states.roster", {
        "iso3": "USA", "name": "Again", "region": "Americas", "utc_offset": -5}),
         "states.roster"),
    # needs arise without end: the run's length is the measurement's, not the cases'
    Case("arrival-days-is-gone", set_("cases.arrival_days", {"value": 365, "source": "x"}),
         ("cases.arrival_days", "unknown key")),
    Case("measurement-missing", drop("measurement"), "measurement"),
    Case("warmup-missing", drop("measurement.warmup_days"), "measurement.warmup_days"),
    Case("warmup-negative", set_("measurement.warmup_days.value", -1),
         ("measurement.warmup_days", "between 0 and 7305 days")),
    Case("runoff-too-long", set_("measurement.runoff_days.value", 7306),
         ("measurement.runoff_days", "between 0 and 7305 days")),
    Case("runoff-not-whole-days", set_("measurement.runoff_days.value", 30.5),
         "measurement.runoff_days"),
    Case("runoff-without-source", drop("measurement.runoff_days.source"),
         "measurement.runoff_days.source"),
    Case("cases-drawn-over-max", set_("cases.per_year.value", 300_000),  # x 1825 / 365
         ("cases.per_year.value", "at most 1,000,000")),
]


def _params(cases: list[Case]) -> list[Any]:
    return [pytest.param(c, id=c.id) for c in cases]


# --- running the CLI ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toml(tmp_path_factory.mktemp("world") / "small.toml", world_data())


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["run", *args, "--reps", "1", "--window", "30"])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def assert_clean_failure(rc: int, out: str, err: str, path: Path, out_dir: Path) -> str:
    """Status 2, one stderr line naming the file, nothing else, nothing written."""
    assert rc == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert str(path) in lines[0]
    assert "Traceback" not in err
    assert not out_dir.exists()
    return lines[0]


def bad_variant(tmp_path: Path, case: Case) -> Path:
    data = variant_data()
    case.mutate(data)
    return write_toml(tmp_path / "variant.toml", data)


def bad_world(tmp_path: Path, case: Case) -> Path:
    data = fresh_world()
    case.mutate(data)
    return write_toml(tmp_path / "world.toml", data)


@pytest.mark.parametrize("case", _params(VARIANT_CASES))
def test_bad_variant_fails_cleanly(case: Case, tmp_path: Path, world_file: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = bad_variant(tmp_path, case)
    rc, out, err = run(capsys, str(path), "--world", str(world_file),
                       "--out", str(tmp_path / "out"))
    assert_clean_failure(rc, out, err, path, tmp_path / "out")


@pytest.mark.parametrize("case", _params(VARIANT_CASES))
def test_bad_variant_names_the_key(case: Case, tmp_path: Path, world_file: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = bad_variant(tmp_path, case)
    rc, out, err = run(capsys, str(path), "--world", str(world_file),
                       "--out", str(tmp_path / "out"))
    line = assert_clean_failure(rc, out, err, path, tmp_path / "out")
    for fragment in case.fragments:
        assert fragment in line


@pytest.mark.parametrize("case", _params(WORLD_CASES))
def test_bad_world_fails_cleanly(case: Case, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = bad_world(tmp_path, case)
    rc, out, err = run(capsys, str(UN), "--world", str(path), "--out", str(tmp_path / "out"))
    assert_clean_failure(rc, out, err, path, tmp_path / "out")


@pytest.mark.parametrize("case", _params(WORLD_CASES))
def test_bad_world_names_the_key(case: Case, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = bad_world(tmp_path, case)
    rc, out, err = run(capsys, str(UN), "--world", str(path), "--out", str(tmp_path / "out"))
    line = assert_clean_failure(rc, out, err, path, tmp_path / "out")
    for fragment in case.fragments:
        assert fragment in line


def test_case_lists_start_from_valid_data(tmp_path: Path) -> None:
    """The corruptions are the only problem: the data they start from is valid."""
    load_variant(write_toml(tmp_path / "v.toml", variant_data()))
    load_world(write_toml(tmp_path / "w.toml", fresh_world()))


# --- files that are not TOML, or not there ---------------------------------------------------


@pytest.mark.parametrize("which", ["variant", "world"])
def test_malformed_toml(which: str, tmp_path: Path, world_file: Path,
                        capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / f"{which}.toml"
    bad.write_text('[preservation\nmin_days = "60\n')
    variant, world = (bad, world_file) if which == "variant" else (UN, bad)
    rc, out, err = run(capsys, str(variant), "--world", str(world),
                       "--out", str(tmp_path / "out"))
    line = assert_clean_failure(rc, out, err, bad, tmp_path / "out")
    assert "invalid TOML" in line
    assert "line 1" in line


@pytest.mark.parametrize("which", ["variant", "world"])
def test_missing_file(which: str, tmp_path: Path, world_file: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / f"no_such_{which}.toml"
    variant, world = (missing, world_file) if which == "variant" else (UN, missing)
    rc, out, err = run(capsys, str(variant), "--world", str(world),
                       "--out", str(tmp_path / "out"))
    line = assert_clean_failure(rc, out, err, missing, tmp_path / "out")
    assert "not found" in line


NOT_UTF8 = {  # id -> (bytes of the file, what the error line says)
    "utf-16-with-bom": ('[variant]\nname = "é"\n'.encode("utf-16"), "UTF-16"),
    "utf-16-without-bom": ('[variant]\nname = "é"\n'.encode("utf-16-le"), "not UTF-8"),
    "utf-16-be-without-bom": ('[variant]\nname = "é"\n'.encode("utf-16-be"), "not UTF-8"),
    "latin-1": ('[variant]\nname = "é"\n'.encode("latin-1"), "not UTF-8"),
    "binary": (bytes(range(256)) * 64, "not UTF-8"),
    "arrays-nested-5000-deep": (("x = " + "[" * 5000 + "]" * 5000).encode(),
                                f"nested deeper than {MAX_DEPTH}"),
    "tables-nested-5000-deep": (("x = " + "{a = " * 5000 + "1" + "}" * 5000).encode(),
                                f"nested deeper than {MAX_DEPTH}"),
}


@pytest.mark.parametrize("which", ["variant", "world"])
@pytest.mark.parametrize(("raw", "fragment"), NOT_UTF8.values(), ids=NOT_UTF8)
def test_file_that_is_not_utf8_toml(raw: bytes, fragment: str, which: str, tmp_path: Path,
                                    world_file: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / f"{which}.toml"
    bad.write_bytes(raw)
    variant, world = (bad, world_file) if which == "variant" else (UN, bad)
    rc, out, err = run(capsys, str(variant), "--world", str(world),
                       "--out", str(tmp_path / "out"))
    assert fragment in assert_clean_failure(rc, out, err, bad, tmp_path / "out")


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (reading a FIFO would block for ever)."""
    def expire(*_: object) -> None:
        raise TimeoutError(f"still reading after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def special_file(tmp_path: Path, kind: str) -> Path:
    if kind == "folder":
        (tmp_path / "folder.toml").mkdir()
        return tmp_path / "folder.toml"
    if kind == "fifo":
        os.mkfifo(tmp_path / "fifo.toml")
        return tmp_path / "fifo.toml"
    if kind == "too-large":  # sparse: no disk used
        path = tmp_path / "large.toml"
        with path.open("wb") as f:
            f.truncate(MAX_FILE_BYTES + 1)
        return path
    return Path("/dev/zero")


@pytest.mark.parametrize(("kind", "fragment"), [
    ("folder", "is a folder, not a file"), ("fifo", "not a regular file"),
    ("device", "not a regular file"), ("too-large", f"larger than {MAX_FILE_BYTES:,} bytes"),
])
@pytest.mark.parametrize("which", ["variant", "world"])
def test_file_that_cannot_be_read(kind: str, fragment: str, which: str, tmp_path: Path,
                                  world_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = special_file(tmp_path, kind)
    variant, world = (bad, world_file) if which == "variant" else (UN, bad)
    with deadline(20):
        rc, out, err = run(capsys, str(variant), "--world", str(world),
                           "--out", str(tmp_path / "out"))
    assert fragment in assert_clean_failure(rc, out, err, bad, tmp_path / "out")


@pytest.mark.parametrize(("error", "fragment"), [
    (PermissionError(errno.EACCES, "Permission denied"), "permission denied"),
    (OSError(errno.EIO, "Input/output error"), "cannot read the file: Input/output error"),
    (OSError(errno.ELOOP, "Too many levels of symbolic links"), "symbolic links"),
], ids=["permission", "io-error", "symlink-loop"])
def test_os_errors_are_one_line(error: OSError, fragment: str, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_toml(tmp_path / "v.toml", variant_data())
    real_open = os.open

    def failing_open(target: Any, *args: Any, **kwargs: Any) -> int:
        if Path(target) == path:
            raise error
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(os, "open", failing_open)  # as root, chmod 000 would not stop a read
    with pytest.raises(InputError) as info:
        read_toml(path)
    assert (info.value.path, info.value.key) == (str(path), "")
    assert fragment in info.value.message


def test_largest_file_and_utf8_bom_are_read(tmp_path: Path) -> None:
    largest = tmp_path / "largest.toml"
    largest.write_bytes(b"a = 1\n#" + b"-" * (MAX_FILE_BYTES - 7))
    assert largest.stat().st_size == MAX_FILE_BYTES
    assert read_toml(largest) == {"a": 1}
    bom = tmp_path / "bom.toml"
    bom.write_bytes(codecs.BOM_UTF8 + UN.read_bytes())
    assert load_variant(bom) == load_variant(UN)


def nested(depth: int) -> bytes:
    return ("x = " + "[" * depth + "]" * depth).encode()


def test_nesting_depth(tmp_path: Path) -> None:
    ok, deep = tmp_path / "ok.toml", tmp_path / "deep.toml"
    ok.write_bytes(nested(MAX_DEPTH))
    read_toml(ok)
    deep.write_bytes(nested(MAX_DEPTH + 1))
    with pytest.raises(InputError) as info:
        read_toml(deep)
    assert info.value.key == ".".join(["x", *["0"] * MAX_DEPTH])
    tables = tmp_path / "tables.toml"
    tables.write_text(".".join(f"k{i}" for i in range(MAX_DEPTH + 2)) + " = 1\n")
    with pytest.raises(InputError) as info:
        read_toml(tables)
    assert info.value.key == ".".join(f"k{i}" for i in range(MAX_DEPTH + 1))


def test_validate_deep_data_is_an_input_error() -> None:
    data: Any = []
    for _ in range(100_000):
        data = [data]
    with pytest.raises(InputError, match="nested deeper"):
        validate(Variant, {"variant": data}, "<data>")


TOML_VALUES = [0, -1, 2**63 - 1, -(2**63), 0.0, -0.0, 1e-320, 1e308, float("nan"), float("inf"),
               "", "x", "ZZZ", "local", True, False, [], [1], [[[]]], {}, {"value": 1},
               {"dist": "fixed"}, datetime.date(2020, 1, 1), datetime.time(1, 2),
               datetime.datetime(2020, 1, 1, 1, 2), ["fiscal"], {"value": -1, "source": "x"}]


def _corrupt(data: Any, rng: random.Random) -> None:
    """Replace, delete or add one value anywhere in the data."""
    paths, stack = [], [((), data)]
    while stack:
        path, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for k, v in items:
            paths.append((*path, k))
            stack.append(((*path, k), v))
    *parents, last = rng.choice(paths)
    for k in parents:
        data = data[k]
    if isinstance(data, dict) and rng.random() < 0.2:
        del data[last]
    else:
        data[last] = copy.deepcopy(rng.choice(TOML_VALUES))


@pytest.mark.parametrize("seed", range(4))
def test_validate_raises_only_input_errors(seed: int) -> None:
    """Whatever a TOML file holds, validation ends in a model or an InputError."""
    rng = random.Random(seed)
    for _ in range(150):
        model, data = rng.choice([(Variant, variant_data()), (World, fresh_world())])
        for _ in range(rng.randint(1, 3)):
            _corrupt(data, rng)
        with suppress(InputError):
            validate(model, data, "<corrupted>")


def test_extends_chain_is_bounded(tmp_path: Path) -> None:
    """Variants may extend one another at most MAX_DEPTH deep (no recursion without end)."""
    data = variant_data()
    write_toml(tmp_path / "v0.toml", data)
    for i in range(1, MAX_DEPTH + 2):
        child = {"variant": {**data["variant"], "name": f"v{i}", "extends": f"v{i - 1}"}}
        write_toml(tmp_path / f"v{i}.toml", child)
    load_variant(tmp_path / f"v{MAX_DEPTH}.toml")
    with pytest.raises(InputError) as info:
        load_variant(tmp_path / f"v{MAX_DEPTH + 1}.toml")
    assert info.value.key == "variant.extends"


def test_unknown_variant_name(tmp_path: Path, world_file: Path,
                              capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rc, out, err = run(capsys, "no_such_treaty", "--world", str(world_file),
                       "--out", str(tmp_path / "out"))
    expected = UN.parent / "no_such_treaty.toml"
    line = assert_clean_failure(rc, out, err, expected, tmp_path / "out")
    assert "not found" in line


def test_world_given_as_variant(tmp_path: Path, world_file: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, str(world_file), "--world", str(world_file),
                       "--out", str(tmp_path / "out"))
    assert_clean_failure(rc, out, err, world_file, tmp_path / "out")


# --- load-level checks -----------------------------------------------------------------------


@pytest.mark.parametrize("mutate", [
    set_("preservation.min_days.value", "60"),
    set_("preservation.available.value", "yes"),
], ids=["quoted-number", "string-bool"])
def test_wrong_type_is_not_coerced(mutate: Mutate, tmp_path: Path) -> None:
    data = variant_data()
    mutate(data)
    with pytest.raises(InputError):
        load_variant(write_toml(tmp_path / "v.toml", data))


def test_nan_min_days_is_out_of_range(tmp_path: Path) -> None:
    data = variant_data()
    data["preservation"]["min_days"]["value"] = float("nan")
    with pytest.raises(InputError, match="min_days"):
        load_variant(write_toml(tmp_path / "v.toml", data))


def test_bad_roster_row_names_its_key(tmp_path: Path) -> None:
    data = fresh_world()
    data["states"]["roster"][0]["iso3"] = "usa"
    path = write_toml(tmp_path / "w.toml", data)
    with pytest.raises(InputError) as info:
        load_world(path)
    assert info.value.key == "states.roster.0.iso3"


def test_validate_unknown_key_is_one_line() -> None:
    data = variant_data()
    data["preservation"]["min_days"]["valeu"] = 60
    with pytest.raises(InputError) as info:
        validate(Variant, data, "variants/x.toml")
    err = info.value
    assert (err.path, err.key, err.message) == (
        "variants/x.toml", "preservation.min_days.valeu", "unknown key")
    assert str(err) == "variants/x.toml: preservation.min_days.valeu: unknown key"
    assert "\n" not in str(err)


@pytest.mark.parametrize("mutate", [
    set_("states.party_share.value", 1.5),
    set_("central_authorities.review_days.dist", "weibull"),
    drop("grounds.fiscal"),
    set_("states.roster", "everyone"),
], ids=["share", "dist-kind", "missing-ground", "roster"])
def test_validate_world_errors_are_one_line(mutate: Mutate) -> None:
    data = fresh_world()
    mutate(data)
    with pytest.raises(InputError) as info:
        validate(World, data, "w.toml")
    assert str(info.value).startswith("w.toml: ")
    assert "\n" not in str(info.value)


def test_validate_unknown_key_with_newline_is_one_line() -> None:
    data = variant_data()
    data["bad\nkey"] = 1
    with pytest.raises(InputError) as info:
        validate(Variant, data, "v.toml")
    assert "\n" not in str(info.value)


def test_input_error_without_key() -> None:
    assert str(InputError("a.toml", "", "file not found")) == "a.toml: file not found"


def test_default_variant_and_world_load() -> None:
    variant = load_variant(UN)
    assert variant.name == "un_convention_2024"
    world = load_world()
    assert world.world.name == "default"
    assert len(world.states.rows()) == 193
    assert load_world(DEFAULT_WORLD) == world


# --- command-line arguments ------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["--reps", "0"], ["--window", "-1"], ["--window", "0"], ["--window", "7306"],
    ["--reps", "two"], ["--seed", "x"], ["--days", "30"],
], ids=["reps-0", "window-negative", "window-0", "window-too-long", "reps-not-int",
        "seed-not-int", "days-is-gone"])
def test_bad_arguments_exit_2(args: list[str], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_status(["run", str(UN), *args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert args[0] in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_no_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_status([]) == 2


def exit_status(argv: list[str]) -> int | str | None:
    """The CLI's exit status, whether argparse exits or ``main`` returns it."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code
