"""What safe results folders cost: writing a run's results the way ``coopsim run`` does,
against a bare write of the same files, side by side in one process.

One replication of the UN convention on the default world is simulated once; its results are
then written ``--repeat`` times each way, alternately, replacing the previous results:

- bare: the files written straight into a new folder (no temporary files, no fsync), which
  then replaces the previous one by two renames (no marker, no hashes, no lock, no ownership
  check);
- coopsim: ``folders.check`` and ``folders.claim`` (ownership check, hashing what the marker
  lists, the lock, leftovers), a private staging folder, every file written atomically and
  fsynced (``runner.write_outputs``), the marker with every file's SHA-256, the atomic
  exchange, and removing the replaced results file by file.

Both write the same bytes (``runner.run_files``, encoded by ``writing.encode``). This is a
report, not a test.

    python benchmarks/folders.py              # 7 writes each way
    python benchmarks/folders.py --repeat 15
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sim.experiments import runner
from sim.inputs.provisions import load_variant
from sim.inputs.world import load_world
from sim.outputs import folders, manifest, writing

ROOT = Path(__file__).resolve().parent.parent


def bare(out: Path, files: Callable[[], Iterator[tuple[str, writing.Content]]]) -> None:
    stage = out.with_name(out.name + ".new")
    stage.mkdir()
    for name, content in files():
        (stage / name).write_bytes(writing.encode(name, content))
    if out.exists():
        out.rename(out.with_name(out.name + ".old"))
    stage.rename(out)
    shutil.rmtree(out.with_name(out.name + ".old"), ignore_errors=True)


def safe(out: Path, files: Callable[[], Iterator[tuple[str, writing.Content]]]) -> None:
    folders.check(out, "run")
    with folders.claim(out, "run") as target, target.staging() as stage:
        for name, content in files():
            writing.write(stage, {name: content})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7, help="writes each way (default 7)")
    args = p.parse_args()
    variant = load_variant(ROOT / "scenarios" / "un_convention_2024.toml")
    world = load_world()
    results = [runner.run_one(variant, world, 1)]
    table = runner.summary_table(results, 1)
    body = manifest.run_manifest(ROOT / "scenarios" / "un_convention_2024.toml",
                                 ROOT / "scenarios" / "worlds" / "default.toml", 1, 1, 1825)

    def files() -> Iterator[tuple[str, writing.Content]]:
        return runner.run_files(results, table, body)

    times: dict[str, list[float]] = {"bare": [], "coopsim": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            for name, how in (("bare", bare), ("coopsim", safe)):
                began = time.perf_counter()
                how(Path(tmp) / name, files)
                times[name].append(time.perf_counter() - began)
        size = sum(p.stat().st_size for p in (Path(tmp) / "coopsim").iterdir()) / 2**20
    ratios = [c / b for b, c in zip(times["bare"], times["coopsim"], strict=True)]
    print(f"one replication's results ({size:.1f} MiB), written {args.repeat} times each way,"
          " replacing the previous results")
    for name, values in times.items():
        print(f"  {name:8} median {statistics.median(values) * 1000:7.1f} ms "
              f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})")
    print(f"  coopsim / bare, pair by pair: median {statistics.median(ratios):.2f} "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main()
