"""Every notebook runs end to end (small settings) and is committed without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import tomli_w
from conftest import ROOT
from nbclient import NotebookClient

from sim.inputs.schema import read_toml

CI_SETTINGS = {  # a short horizon, a small world and few replications: seconds per notebook
    "COOPSIM_NOTEBOOK_WINDOW": "120", "COOPSIM_NOTEBOOK_SCALE": "0.02",
    "COOPSIM_NOTEBOOK_REPS": "2", "COOPSIM_NOTEBOOK_WORKERS": "1",
    "COOPSIM_NOTEBOOK_SAMPLES": "50", "COOPSIM_NOTEBOOK_POINTS": "24", "MPLBACKEND": "Agg",
}
NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "strip outputs"


@pytest.fixture(scope="module")
def short_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped world with a warm-up and a run-off of months, not years: the notebooks'
    code runs as it would, in a fraction of the time (their figures are then transient)."""
    data = read_toml(ROOT / "scenarios" / "worlds" / "default.toml")
    data["measurement"]["warmup_days"]["value"] = 120
    data["measurement"]["runoff_days"]["value"] = 240
    path = tmp_path_factory.mktemp("world") / "short.toml"
    path.write_text(tomli_w.dumps(data))
    return path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, short_world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**CI_SETTINGS, "COOPSIM_NOTEBOOK_WORLD": str(short_world)}.items():
        monkeypatch.setenv(name, value)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
