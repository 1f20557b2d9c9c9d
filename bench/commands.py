"""Time the everyday commands as a user runs them: whole processes, best of N.

Run as ``python bench/commands.py [--mirror DIR] [--repeat N]`` (default 3). Each command runs
in a fresh interpreter (``python -m smallcaps.cli``) against a throwaway ``SMALLCAPS_HOME``:

- ``help``: ``smallcaps --help``;
- ``mirror_load``: ``smallcaps fetch --mirror DIR`` into an empty home (a new home each time);
- ``mirror_refresh_unchanged``: the same again on the loaded home (every file already stored);
- ``check_warm``: ``smallcaps check`` (the seed thesis) on the loaded home;
- ``report_warm``: ``smallcaps report --no-fetch --out FILE``, and ``report_warm_json`` with
  ``--format json``.

One ``name: seconds`` line each, with ``name_target`` (seconds on this project's 2-core
machine when idle) and ``name_met: yes/no`` lines, then ``read_csv_mirror`` and
``mirror_load_vs_read_csv``: the load's time over what plain ``pandas.read_csv`` of the
mirror's CSV files takes in the same run (the peer: reading the bytes as a table at all).

The exit code is 1 when a command fails or two runs disagree (check's verdicts, the JSON
report without its timings), never because a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {  # seconds, idle 2-core machine
    "help": 0.3,
    "mirror_load": 5.0,
    "mirror_refresh_unchanged": 1.0,
    "check_warm": 2.0,
    "report_warm": 4.0,
    "report_warm_json": 4.0,
}
VOLATILE = ("seconds", "generated_at")  # keys of the JSON report that differ run to run


class CommandError(Exception):
    """A command exited non-zero, or two runs of it disagreed."""


def run(home: Path, *args: str) -> tuple[float, str]:
    """Seconds and stdout of ``smallcaps ARGS`` as a whole process."""
    env = {**os.environ, "SMALLCAPS_HOME": str(home), "COLUMNS": "200"}
    env.pop("SMALLCAPS_MIRROR", None)  # the mirror only where --mirror says so
    # as a user runs it: Python keeps compiled bytecode (some sandboxes turn that off, which
    # recompiles every smallcaps module in every process)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "smallcaps.cli", *args]
    t = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise CommandError(f"`smallcaps {' '.join(args)}` exited {done.returncode}:\n{tail}")
    return seconds, done.stdout


def best(
    name: str, home: Path, *args: str, repeat: int, same: bool = False
) -> tuple[float, list[str]]:
    """Best time of ``repeat`` runs; with ``same``, the runs' stdout must agree."""
    times, outs = [], []
    for i in range(repeat):
        print(f"  {name} run {i + 1}/{repeat}", file=sys.stderr, flush=True)
        seconds, stdout = run(home, *args)
        times.append(seconds)
        outs.append(stdout)
    if same and len(set(outs)) > 1:
        raise CommandError(f"{name}: runs printed different results")
    return min(times), outs


def stable(doc: Any) -> Any:
    """The JSON report without what differs between runs (timings, the generation time)."""
    if isinstance(doc, dict):
        return {k: stable(v) for k, v in doc.items() if k not in VOLATILE}
    if isinstance(doc, list):
        return [stable(v) for v in doc]
    return doc


def mirror_csvs(mirror: Path) -> list[Path]:
    """The mirror's files that pandas can read as a table (CSV, zipped CSV)."""
    from smallcaps.sources import catalog

    files = [mirror / f.path for f in catalog.mirror_files()]
    return [p for p in files if p.suffix.lower() in (".csv", ".zip")]


def read_csv_seconds(files: list[Path], repeat: int) -> float:
    """Best time for plain ``pandas.read_csv`` of every file (the peer of the mirror load)."""
    import pandas as pd

    def once() -> float:
        t = time.perf_counter()
        for path in files:
            try:
                pd.read_csv(
                    path, header=None, on_bad_lines="skip", encoding_errors="replace",
                    engine="c", low_memory=False,
                )  # fmt: skip
            except (ValueError, pd.errors.ParserError, UnicodeDecodeError):
                continue
        return time.perf_counter() - t

    return min(once() for _ in range(repeat))


def line(name: str, seconds: float) -> str:
    """``name: seconds``, then its ``name_target`` and ``name_met: yes/no`` lines."""
    target = TARGETS[name]
    met = "yes" if seconds < target else "no"
    return f"{name}: {seconds:.3f}\n{name}_target: {target:g}\n{name}_met: {met}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("SMALLCAPS_MIRROR") or ROOT.parent / "shared" / "data"
    parser.add_argument("--mirror", type=Path, default=Path(default))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    mirror, n = args.mirror.resolve(), max(1, args.repeat)
    if not mirror.is_dir():
        print(f"no mirror at {mirror}; pass --mirror DIR or set SMALLCAPS_MIRROR", file=sys.stderr)
        return 1
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="smallcaps-bench-") as tmp:
        tmpdir = Path(tmp)
        try:
            results["help"], _ = best("help", tmpdir / "help", "--help", repeat=n)
            loads = []
            for i in range(n):  # each into an empty home; the last one stays for the rest
                print(f"  mirror_load run {i + 1}/{n}", file=sys.stderr, flush=True)
                home = tmpdir / f"home{i}"
                loads.append(run(home, "fetch", "--mirror", str(mirror))[0])
            results["mirror_load"] = min(loads)
            results["mirror_refresh_unchanged"], outs = best(
                "mirror_refresh_unchanged", home, "fetch", "--mirror", str(mirror), repeat=n
            )
            if "unchanged mirror file" not in outs[0] or re.search(r"│\s*ok\s*│", outs[0]):
                raise CommandError("mirror_refresh_unchanged: files were read again")
            results["check_warm"], _ = best("check_warm", home, "check", repeat=n, same=True)
            out_html = tmpdir / "report.html"
            results["report_warm"], _ = best(
                "report_warm", home, "report", "--no-fetch", "--out", str(out_html), repeat=n
            )
            docs = []
            out_json = tmpdir / "report.json"
            times = []
            for i in range(n):
                print(f"  report_warm_json run {i + 1}/{n}", file=sys.stderr, flush=True)
                args_json = ("report", "--no-fetch", "--format", "json", "--out", str(out_json))
                times.append(run(home, *args_json)[0])
                docs.append(json.dumps(stable(json.loads(out_json.read_text())), sort_keys=True))
            if len(set(docs)) > 1:
                raise CommandError("report_warm_json: runs wrote different results")
            results["report_warm_json"] = min(times)
        except CommandError as exc:
            for name, seconds in results.items():
                print(line(name, seconds))
            print(f"failed: {exc}", file=sys.stderr)
            return 1
    csv_seconds = read_csv_seconds(mirror_csvs(mirror), n)
    for name, seconds in results.items():
        print(line(name, seconds))
    print(f"read_csv_mirror: {csv_seconds:.3f}")  # plain pandas.read_csv of the same CSV files
    print(f"mirror_load_vs_read_csv: {results['mirror_load'] / csv_seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
