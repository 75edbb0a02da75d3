"""The wheel is self-contained: built, installed (not editable) into a fresh virtual
environment, ``coopsim run`` works from an empty folder and writes ``./results/``.

The fresh environment sees the test environment's third-party packages (a ``.pth`` file
naming its site-packages, as ``--system-site-packages`` would for a system Python) but not
the checkout: ``sim`` and every scenario and data file come from the wheel alone. That keeps
the test to seconds instead of minutes of downloading mesa, solara, jupyterlab and the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.install

PACKAGE_DATA = ("sim/scenarios/un_convention_2024.toml", "sim/scenarios/worlds/default.toml",
                "sim/scenarios/calibration/targets.toml", "sim/scenarios/studies/sensitivity.toml",
                "sim/scenarios/README.md", "sim/inputs/data/un_member_states.csv")
OUTPUTS = {".coopsim", "summary.csv", "events.parquet", "requests.parquet", "daily.parquet",
           "backlog.parquet", "manifest.json"}


def check(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300,
                          **kwargs)
    assert proc.returncode == 0, proc.stderr
    return proc


def build_wheel(dist: Path) -> Path:
    """The wheel of the checkout, built as pip builds it (hatchling from the test extras)."""
    check([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
           "--no-index", "-w", dist, ROOT])
    (wheel,) = dist.glob("coopsim-*.whl")
    return wheel


def fresh_venv(venv: Path) -> Path:
    """A new environment, its python returned, that borrows only third-party packages."""
    check([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    site = Path(check([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
                .stdout.strip())
    borrowed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_borrowed_dependencies.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    return python


def clean_env() -> dict[str, str]:
    drop = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def test_the_installed_wheel_runs_from_an_empty_folder(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    assert set(PACKAGE_DATA) <= set(names)
    assert not [n for n in names if n.startswith(("scenarios/", "tests/"))]

    venv = tmp_path / "venv"
    python = fresh_venv(venv)
    check([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
           "--no-index", wheel], env=clean_env())
    empty = tmp_path / "empty"
    empty.mkdir()
    where = json.loads(check([python, "-c", "import json, sim, sys; "
                              "print(json.dumps([sim.__file__, sys.path]))"],
                             cwd=empty, env=clean_env()).stdout)
    assert Path(where[0]).is_relative_to(venv)
    assert str(ROOT) not in where[1]  # the checkout is out of sight

    proc = check([venv / "bin" / "coopsim", "run", "--reps", "1", "--window", "30"], cwd=empty,
                 env=clean_env())
    out = empty / "results" / "un_convention_2024"
    assert str(Path("results") / "un_convention_2024") in proc.stdout
    assert os.listdir(empty) == ["results"]
    assert {p.name for p in out.iterdir()} == OUTPUTS
    manifest = json.loads((out / "manifest.json").read_text())
    assert Path(manifest["variant"]).is_relative_to(venv)
    assert Path(manifest["world"]).name == "default.toml"
    assert Path(manifest["world"]).is_relative_to(venv)  # the wheel's own world
    world = tomllib.loads(Path(manifest["world"]).read_text())
    measurement = manifest["measurement"]
    assert (measurement["window_days"], measurement["windows"]) == (30, 1)
    assert measurement["warmup_days"] == world["measurement"]["warmup_days"]["value"]
    assert manifest["git_revision"] == "unknown"
