"""The ``smallcaps`` command: thin commands over the library; progress on stderr, results stdout."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from smallcaps.config import Config
from smallcaps.errors import ConfigError, InsufficientDataError, SmallcapsError

if TYPE_CHECKING:  # the heavy libraries load inside the commands: `--help` stays fast
    import pandas as pd
    from rich.progress import Progress
    from rich.table import Table

    from smallcaps.backtest import BacktestResult
    from smallcaps.sources.catalog import Spec
    from smallcaps.thesis.claims import ClaimResult, ThesisResult
    from smallcaps.update import Outcome

app = typer.Typer(
    invoke_without_command=True,  # `smallcaps` alone prints a short start (see _start)
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    rich_markup_mode=None,  # plain help: no `<bool>` beside flags, brackets in help kept
    help="Is the small-cap rotation thesis true? Fetch public data, measure it, check the claims.",
)
series_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Find stored series and their vintages."
)
app.add_typer(series_app, name="series")
store_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Check the store's integrity, or rebuild a damaged store from its payload archive.",
)
app.add_typer(store_app, name="store")

console = Console(stderr=True, soft_wrap=True)  # progress and errors
out = Console()  # results; set per command by _consoles()

START = """smallcaps: is the small-cap rotation thesis true?

  smallcaps report          measure, judge the seed article, backtest: one page
  smallcaps check [THESIS]  judge a thesis claim by claim (--explain ID)
  smallcaps search WORDS    find a stored series (series list: all of them)

Offline: add --mirror DIR (a folder laid out like shared/data).
Every command: smallcaps --help"""


def _consoles() -> None:
    """Results go to stdout at the terminal's width, or COLUMNS, or 200 when piped.

    Made per command so that COLUMNS set by a caller (or a test runner) is honoured.
    """
    global console, out
    width = _columns()
    console = Console(stderr=True, soft_wrap=True, width=width)
    out = Console(width=width if width is not None else None if sys.stdout.isatty() else 200)


def _columns() -> int | None:
    import os

    text = os.environ.get("COLUMNS", "")
    return int(text) if text.isdigit() and int(text) > 0 else None


@app.callback()
def _start(ctx: typer.Context) -> None:
    """Is the small-cap rotation thesis true? Fetch public data, measure it, check the claims."""
    _consoles()
    if ctx.invoked_subcommand is None:
        out.print(START, highlight=False, markup=False)


HomeOpt = Annotated[
    Path | None,
    typer.Option(
        "--home", help="Folder of the store and archive (env SMALLCAPS_HOME; ~/.smallcaps)."
    ),
]
MirrorOpt = Annotated[
    Path | None,
    typer.Option(
        "--mirror", help="Read publisher files from this folder (laid out like shared/data) "
        "instead of the network (env SMALLCAPS_MIRROR).",
    ),
]  # fmt: skip
PROVENANCE_LINES = 12  # inputs listed under a measurement; --json has them all
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _table(title: str, **kwargs: Any) -> Table:
    from rich.table import Table

    return Table(title=title, title_justify="left", **kwargs)


@app.command()
def fetch(
    series: Annotated[
        list[str] | None,
        typer.Argument(
            help="Specs such as fred:UNRATE, french:Portfolios_Formed_on_ME, yahoo:IWM, "
            "or bare names (UNRATE, IWM). Default: every series smallcaps uses."
        ),
    ] = None,
    mirror: MirrorOpt = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Skip series whose newest vintage was fetched on or after this date "
            "(YYYY-MM-DD): refresh only what is stale."
        ),
    ] = None,
    alfred: Annotated[
        bool,
        typer.Option(
            "--alfred",
            help="For FRED series, store every ALFRED vintage (each "
            "release as published) instead of today's values; needs FRED_API_KEY.",
        ),
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Fetch series into the store; each fetch that changes a series becomes a new vintage.

    A series that fails is reported and the others are still stored; the exit code is then 1.
    """
    from smallcaps.sources import catalog
    from smallcaps.store import Store
    from smallcaps.update import default_specs, update

    config = Config.resolve(home=home, mirror=mirror)
    if config.mirror is not None:
        known = {f.spec for f in catalog.mirror_files()}
        specs = [catalog.parse_spec(s, known) for s in series or []]
    else:
        specs = [catalog.parse_spec(s) for s in series or []]
    specs = specs or default_specs(config)
    cutoff = _parse_day(since, "--since") if since else None
    started = time.perf_counter()
    with Store.open(config.store_path, config.archive_path) as store, _progress() as progress:
        task = progress.add_task("fetching", total=len(specs))

        done = iter(range(len(specs)))

        def step(spec: Spec) -> None:
            progress.update(task, completed=next(done), description=f"fetching {escape(str(spec))}")

        outcomes = update(store, config, specs, since=cutoff, alfred=alfred, on_spec=step)
        progress.update(task, completed=len(specs))
    if as_json:
        rows = [{**o.to_dict(), "series": o.series, "rows": o.rows, "files": o.files,
                 "first": _day(o.first), "last": _day(o.last)} for o in outcomes]  # fmt: skip
        out.print_json(json.dumps(rows))
    else:
        _print_fetch_table(outcomes, time.perf_counter() - started)
    if any(o.failed for o in outcomes):
        raise typer.Exit(1)


def _print_fetch_table(outcomes: list[Outcome], seconds: float) -> None:
    table = _table("fetched")
    right = {"series", "rows", "files", "new vintages"}
    for col in ("spec", "series", "first", "last", "rows", "files", "new vintages", "status"):
        table.add_column(col, justify="right" if col in right else "left")
    for o in outcomes:
        status = "[green]ok[/]" if o.status == "ok" else (
            f"[yellow]{escape(o.status)}[/]" if not o.failed
            else f"[red]{escape(o.status)}[/]"
        )  # fmt: skip
        table.add_row(
            escape(str(o.spec)), f"{o.series:,}", _day(o.first), _day(o.last), f"{o.rows:,}",
            str(o.files), str(o.new_vintages), status,
        )  # fmt: skip
    out.print(table)
    failed = sum(1 for o in outcomes if o.failed)
    console.print(
        f"{len(outcomes) - failed} of {len(outcomes)} specs stored in {seconds:.1f} s"
        + (f"; [red]{failed} failed[/]" if failed else "")
    )
    _print_failures(outcomes)


def _print_failures(outcomes: list[Outcome]) -> None:
    """One line per publisher and cause, with its fix (not one line per failed spec)."""
    from smallcaps.update import failures

    for f in failures(outcomes):
        console.print(f"[red]could not fetch[/] {escape(f.summary())}")


def _day(ts: pd.Timestamp | None) -> str:
    import pandas as pd

    return "" if ts is None or pd.isna(ts) else f"{ts:%Y-%m-%d}"


def _end_of(text: str) -> pd.Timestamp:
    """``--as-of DATE``: the end of that day (UTC); see :func:`smallcaps.access.end_of_day`."""
    from smallcaps.access import end_of_day

    try:
        return end_of_day(text)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from None


def _not_future(store: Any, when: pd.Timestamp | None) -> None:
    """``--as-of`` after today is an error that names the latest date with data."""
    import pandas as pd

    if when is None:
        return
    stamp = when if when.tzinfo is not None else when.tz_localize("UTC")
    if stamp.date() <= pd.Timestamp.now(tz="UTC").date():
        return
    last = store.series_list()["last"]
    latest = f"{pd.Timestamp(last.max()):%Y-%m-%d}" if len(last) else "none (the store is empty)"
    raise ConfigError(
        f"--as-of {stamp:%Y-%m-%d} is in the future; the latest date with data is {latest}. "
        "Pass a date up to today, or leave --as-of out for the newest data"
    )


def _parse_day(text: str, option: str) -> pd.Timestamp:
    import pandas as pd

    try:
        return pd.Timestamp(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


SERIES_ROWS = 30  # filters that leave at most this many series list them, not their datasets


def dataset_of(series_id: str) -> str:
    """The dataset of a series id: ``french/25_Portfolios_5x5``, ``price/IWM``, ``shiller``.

    A FRED id (no ``/``) is its own dataset.
    """
    parts = series_id.split("/")
    if len(parts) >= 3:
        return "/".join(parts[:2])
    return parts[0]


@series_app.command("list")
def series_list(
    dataset: Annotated[
        str | None,
        typer.Argument(help="A dataset (e.g. french/25_Portfolios_5x5): list its series."),
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Only this publisher: fred, french, yahoo...")
    ] = None,
    match: Annotated[
        str | None, typer.Option("--match", help="Only series whose id or title has TEXT.")
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What is stored: one line per dataset, or full ids for one dataset or a narrow filter.

    --json prints every matching series with all its fields.
    """
    from smallcaps.errors import UnknownNameError
    from smallcaps.store import Store

    config = Config.resolve(home=home, use_mirror=False)
    with Store.open(config.store_path, config.archive_path) as store:
        frame = store.series_list()
    frame = frame.assign(dataset=frame["series_id"].map(dataset_of))
    if source is not None:
        if source not in set(frame["source"]):
            raise UnknownNameError(source, frame["source"], what="source", list_all=True)
        frame = frame[frame["source"] == source]
    if dataset is not None:
        if dataset not in set(frame["dataset"]):
            raise UnknownNameError(dataset, frame["dataset"], what="dataset",
                                   hint="('smallcaps series list' shows the datasets)")  # fmt: skip
        frame = frame[frame["dataset"] == dataset]
    if match:
        text = match.lower()
        hit = frame["series_id"].str.lower().str.contains(text, regex=False) | frame[
            "title"
        ].fillna("").str.lower().str.contains(text, regex=False)
        frame = frame[hit]
    if as_json:
        _print_frame(frame.drop(columns="dataset"), True, title="series")
        return
    if dataset is not None or len(frame) <= SERIES_ROWS:
        _print_series(frame, title=dataset or "series")
    else:
        _print_datasets(frame)
    n, m = len(frame), frame["dataset"].nunique()
    console.print(f"{n:,} series in {m:,} dataset{'' if m == 1 else 's'}" + (
        "" if dataset or n <= SERIES_ROWS else "; name a dataset (or --match TEXT) for its ids"
    ))  # fmt: skip


def _print_datasets(frame: pd.DataFrame) -> None:
    """One line per dataset: name, source, series, first and last date, most vintages.

    A name too long for its column keeps a line of its own (names are typed next: never cut).
    """
    rows = [
        (str(name), str(g["source"].iloc[0]), f"{len(g):,}", _day(g["first"].min()),
         _day(g["last"].max()), f"{int(g['vintages'].max()):,}")
        for name, g in frame.groupby("dataset", sort=True)
    ]  # fmt: skip
    tail = "{:<8} {:>6}  {:<10}  {:<10}  {:>3}"
    tail_w = len(tail.format("", "", "", "", ""))
    name_w = min(max([len(r[0]) for r in rows] + [7]), max(10, out.width - tail_w - 2))
    head = f"{'dataset':<{name_w}}  " + tail.format("source", "series", "first", "last", "vin")
    out.print(head, style="bold", highlight=False)
    for name, *rest in rows:
        cells = tail.format(*rest)
        if len(name) > name_w:
            line = f"{name}\n{'':<{name_w}}  {cells}"
        else:
            line = f"{name:<{name_w}}  {cells}"
        out.print(escape(line), highlight=False, soft_wrap=True)


def _print_series(frame: pd.DataFrame, *, title: str) -> None:
    """One line per series: the full id, then its title cut to the width, last date, vintages.

    Laid out by hand rather than as a rich table: a table squeezed to 80 columns cuts or drops
    the id column, and the id is what the reader must type next.
    """
    width = out.width
    ids = [str(i) for i in frame["series_id"]]
    tail_w = 10 + 1 + 3  # last date, vintages
    id_w = max([len(i) for i in ids] + [2])
    two_lines = id_w > width - tail_w - 16  # long ids (French sections) get a line each
    out.print(escape(title), style="bold", highlight=False)
    for sid, row in zip(ids, frame.itertuples(index=False), strict=True):
        tail = f"{_day(row.last):>10} {int(row.vintages):>3}"
        name = str(row.title or "")
        if two_lines:
            title_w = max(0, width - 4 - tail_w - 2)
            line = f"{sid}\n    {_cut(name, title_w):<{title_w}}  {tail}"
        else:
            title_w = width - id_w - tail_w - 4
            line = f"{sid:<{id_w}}  {_cut(name, title_w):<{title_w}}  {tail}"
        out.print(escape(line), highlight=False, soft_wrap=True)


def _cut(text: str, width: int) -> str:
    """``text`` in ``width`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "\u2026"


@app.command()
def search(
    words: Annotated[list[str], typer.Argument(help="Words to find, e.g. 10-year yield.")],
    limit: Annotated[int, typer.Option("--limit", help="Series shown at most.")] = 20,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find stored series by what they are: words in titles, units, sources and ids."""
    from smallcaps.store import Store

    config = Config.resolve(home=home, use_mirror=False)
    with Store.open(config.store_path, config.archive_path) as store:
        frame = store.series_list()
    found = rank_series(frame, words).head(limit)
    if as_json:
        _print_frame(found, True, title="found")
        return
    if found.empty:
        console.print(f"no stored series matches {' '.join(words)!r}; "
                      "'smallcaps series list' shows what is stored")  # fmt: skip
        raise typer.Exit(1)
    _print_series(found, title=f"series matching {' '.join(words)!r}")


@app.command()
def sleeves(
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only french, yahoo, fred or user sleeves.")
    ] = None,
    match: Annotated[
        str | None, typer.Option("--match", help="Only sleeves whose id or title has TEXT.")
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sleeve ids a thesis can compare (sleeves.compare): units and history of each.

    french:<dataset>/<section>/<column> (returns), yahoo:<TICKER> (total return), fred:<ID>
    (changes), user:<name>; '<sleeve> minus <sleeve>' is the difference of two.
    """
    from smallcaps.measures.compare import sleeve_list
    from smallcaps.store import Store

    config = Config.resolve(home=home, use_mirror=False)
    with Store.open(config.store_path, config.archive_path) as store:
        frame = sleeve_list(store.series_list())
    if kind is not None:
        if kind not in ("french", "yahoo", "fred", "user"):
            raise ConfigError(f"--kind {kind!r}: expected french, yahoo, fred or user")
        frame = frame[frame["kind"] == kind]
    if match:
        text = match.lower()
        hit = frame["sleeve"].str.lower().str.contains(text, regex=False) | frame["title"].fillna(
            ""
        ).str.lower().str.contains(text, regex=False)
        frame = frame[hit]
    if as_json:
        _print_frame(frame, True, title="sleeves")
        return
    for r in frame.itertuples(index=False):
        line = f"{r.sleeve}  [{r.units}, {r.frequency}, {_day(r.first)}..{_day(r.last)}]"
        out.print(escape(line), highlight=False, soft_wrap=True)
    console.print(f"{len(frame):,} sleeves; compare two with: smallcaps measure sleeves.compare "
                  "-p sleeves=A,B -p after=nber.trough -p months=24")  # fmt: skip


def rank_series(frame: pd.DataFrame, words: list[str]) -> pd.DataFrame:
    """Series whose id, title, units or source hold every word (any case), best first.

    Best: more words in the title, then the shorter id (a dataset's headline series first).
    An empty result is an empty frame with the same columns.
    """
    import numpy as np

    terms = [w.lower() for w in " ".join(words).split() if w.strip()]
    text = (frame["series_id"] + " " + frame["title"].fillna("") + " "
            + frame["units"].fillna("") + " " + frame["source"].fillna("")).str.lower()  # fmt: skip
    title = frame["title"].fillna("").str.lower()
    every = np.array([all(w in t for w in terms) for t in text], dtype=bool)
    in_title = np.array([sum(w in t for w in terms) for t in title], dtype=int)
    found = frame.loc[every].assign(_score=in_title[every],
                                    _len=frame["series_id"].str.len()[every])  # fmt: skip
    found = found.sort_values(["_score", "_len", "series_id"], ascending=[False, True, True])
    return found.drop(columns=["_score", "_len"])


@series_app.command("show")
def series_show(
    series_id: Annotated[str, typer.Argument(help="A stored series id, e.g. UNRATE.")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Read as published by this date.")
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a series as it was known on a date (default: the newest vintage)."""
    from smallcaps import access
    from smallcaps.store import Store

    config = Config.resolve(home=home, use_mirror=False)
    when = _end_of(as_of) if as_of else None
    with Store.open(config.store_path, config.archive_path) as store:
        _not_future(store, when)
        read = access.read(store, series_id, as_of=when)
    frame = read.values.rename("value").rename_axis("date").reset_index()
    if as_json:
        doc = {
            "series_id": read.series_id, "vintage_id": read.vintage_id, "sha256": read.sha256,
            "url": read.url, "fetched_at": str(read.fetched_at), "as_of": str(read.as_of),
            "real_time": read.real_time, "extended_from": read.extended_from, "rule": read.rule,
            "observations": json.loads(frame.to_json(orient="records", date_format="iso")),
        }  # fmt: skip
        out.print_json(json.dumps(doc))
        return
    console.print(
        f"{escape(read.series_id)}: vintage {read.vintage_id} fetched {read.fetched_at} from "
        f"{escape(read.url)}; release rule: {escape(read.rule)}"
        + (
            ""
            if read.real_time
            else " [yellow](not real-time: read back before our first fetch)[/]"
        )
    )
    _print_frame(frame.tail(20), False, title=f"{series_id} (last 20 of {len(frame):,})")


@series_app.command("vintages")
def series_vintages(
    series_id: Annotated[str, typer.Argument(help="A stored series id.")],
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the vintages of a series: when fetched, rows, dates, payload hash, from where.

    --json prints every field (full hashes, publisher vintage, content hash).
    """
    import pandas as pd

    from smallcaps.store import Store

    config = Config.resolve(home=home, use_mirror=False)
    with Store.open(config.store_path, config.archive_path) as store:
        frame = store.vintages(series_id)
    if as_json:
        _print_frame(frame, True, title=f"vintages of {series_id}")
        return
    out.print(f"vintages of {escape(series_id)} ({len(frame)}; --json for every field)",
              style="bold", highlight=False)  # fmt: skip
    row = "{:>7}  {:<16}  {:>9}  {:<10}  {:<10}  {:<12}"
    head = row.format("vintage", "fetched", "rows", "first", "last", "sha256")
    url_w = out.width - len(head) - 2
    out.print(head + ("  from" if url_w >= 12 else ""), style="bold", highlight=False)
    for v in frame.itertuples(index=False):
        fetched = pd.Timestamp(v.fetched_at)
        line = row.format(v.vintage_id, f"{fetched:%Y-%m-%d %H:%M}", f"{int(v.row_count):,}",
                          _day(v.first_date), _day(v.last_date), str(v.sha256)[:12])  # fmt: skip
        if url_w >= 12:  # where it came from, its end kept (the file or the query)
            url = str(v.url)
            line += "  " + (url if len(url) <= url_w else "\u2026" + url[-(url_w - 1) :])
        out.print(escape(line), highlight=False)


@app.command()
def doctor(
    series: Annotated[
        list[str] | None,
        typer.Argument(help="Series ids to check (default: all with 2+ vintages)."),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", help="Show the N largest disagreements (0: all).")
    ] = 20,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare vintages and sources of the same instrument; rank where they disagree and why.

    Prices are compared by daily returns (a constant ratio between two adjusted series is
    agreement), levels by value. Disagreements are grouped by kind (dividend/adjustment,
    revision, partial last bar, mismatch, missing rows) and ranked by their effect: on 1- and
    3-month returns for prices and returns (pp), on the value for levels.
    """
    from smallcaps.store import Store
    from smallcaps.store.doctor import checkup, ranked

    config = Config.resolve(home=home, use_mirror=False)
    with (
        Store.open(config.store_path, config.archive_path) as store,
        store.session(),  # one connection for every read
        console.status("comparing vintages"),
    ):
        checks = checkup(store, series=series or None)
    if as_json:
        out.print_json(json.dumps([c.to_dict() for c in checks], default=str))
        return
    findings = ranked(checks)
    shown = findings if top <= 0 else findings[:top]
    bad = sum(1 for c in checks if c.findings)
    out.print(f"doctor: {len(checks)} comparisons, {bad} with disagreements; "
              "largest effect first", highlight=False)  # fmt: skip
    width = max(40, min(out.width, 100))
    for i, f in enumerate(shown, 1):
        for line in _wrap(f"{i}. {f.line()}", width):
            out.print(escape(line), highlight=False)
    if len(findings) > len(shown):
        out.print(f"... and {len(findings) - len(shown)} smaller (--top 0 shows all)",
                  highlight=False)  # fmt: skip
    console.print("[dim]`smallcaps doctor SERIES --json` lists the dates[/]")


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, indented after the first; words (ids) stay whole."""
    import textwrap

    return textwrap.wrap(
        text, width=width, subsequent_indent="   ", break_long_words=False, break_on_hyphens=False
    )


VERDICT_STYLE = {
    "supported": "bold green", "partly supported": "yellow", "overstated": "red",
    "understated": "red", "wrong sign": "bold red", "wrong date": "red",
    "contradicted": "bold red", "insufficient data": "magenta", "not testable": "dim",
}  # fmt: skip


@app.command()
def check(
    thesis: Annotated[
        str,
        typer.Argument(
            help="A thesis TOML file, or the name of a shipped one "
            "(default: the seed, small-cap-renaissance-2026)."
        ),
    ] = "small-cap-renaissance-2026",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Judge once, with what was published by this date ('latest': the newest "
            "data). Default: twice, as of the thesis's own date and as of the newest data.",
        ),
    ] = None,
    explain: Annotated[
        str | None, typer.Option("--explain", help="Show one claim's evidence in full.")
    ] = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check a thesis claim by claim, as of its date and today: verdicts, figures, provenance."""
    import pandas as pd

    from smallcaps import thesis as th
    from smallcaps.store import Store
    from smallcaps.study import RunCache, Study

    spec = th.load(thesis)
    if explain is not None:
        spec.claim(explain)  # an unknown id fails before anything runs
        spec = dataclasses.replace(spec, claims=(spec.claim(explain),))
    when = None if as_of is None else th.as_of_time(as_of)
    both = as_of is None and spec.as_of is not None  # then and now
    config = Config.resolve(home=home, use_mirror=False)
    with (
        Store.open(config.store_path, config.archive_path) as store,
        store.session(),  # one connection for every read
        _progress() as progress,
    ):
        _not_future(store, when if isinstance(when, pd.Timestamp) else None)
        task = progress.add_task("checking", total=len(spec.claims) * (2 if both else 1))

        def step(claim: th.Claim) -> None:
            progress.update(task, description=f"checking {escape(claim.id)}")
            progress.advance(task)

        study = Study(store, cache=RunCache(config.cache_path))  # figures kept between runs
        if both:
            judged = th.judge(spec, study, as_of=None, on_claim=step)
            results = [r for r in (judged.then, judged.now) if r is not None]
        else:
            results = [th.evaluate(spec, study, as_of=when, on_claim=step)]
    if as_json:
        if explain is not None:
            doc: Any = [r.to_dict()["claims"][0] for r in results]
            doc = doc[0] if len(doc) == 1 else {"then": doc[0], "now": doc[1]}
        else:
            doc = judged.to_dict() if both else results[0].to_dict()
        out.print_json(json.dumps(doc, default=str))
        if explain is None:
            _judged_something(results[-1])
        return
    if explain is not None:
        for i, r in enumerate(results):
            if i:
                out.print()
            _explain(r.claims[0])
        return
    if both:
        _print_judgement(judged)
    else:
        _print_verdicts(results[0])
    _judged_something(results[-1])


def _judged_something(result: ThesisResult) -> None:
    """A check that could judge no claim (no data, an unreadable store) exits non-zero."""
    from smallcaps.errors import InsufficientDataError, StoreError

    if result.score is not None:
        return
    errors = [getattr(c, "error", None) for c in result.claims]
    store_error = next((e for e in errors if isinstance(e, StoreError)), None)
    if store_error is not None:
        raise StoreError(f"no claim could be judged: {store_error}")
    raise InsufficientDataError(
        f"no claim of {result.thesis.title!r} could be judged "
        f"({', '.join(f'{n} {v}' for v, n in result.counts.items() if n)}); run "
        "'smallcaps fetch' (or pass --mirror DIR) so the store holds the data they need"
    )


def _print_verdicts(result: ThesisResult) -> None:
    """One line per claim: id, verdict, the figure that decides it, and what was stated.

    Laid out by hand to the terminal's width: ids and verdicts are never cut; the measured
    figure and the stated claim share what is left (the stated text gives way first).
    """
    when = "latest data" if result.as_of is None else f"as of {result.as_of:%Y-%m-%d}"
    out.print(f"[bold]{escape(result.thesis.title)}[/] ({when})", highlight=False)
    rows = [(c.claim.id, c.verdict, decisive(c), c.claim.stated) for c in result.claims]
    id_w = max([len(r[0]) for r in rows] + [5])
    v_w = max([len(r[1]) for r in rows] + [7])
    rest = out.width - id_w - v_w - 4
    m_w = min(max([len(r[2]) for r in rows] + [8]), max(12, rest * 3 // 5))
    s_w = rest - m_w - 2
    head = f"{'claim':<{id_w}}  {'verdict':<{v_w}}  {'measured':<{m_w}}"
    out.print(head + (f"  {'stated':<{s_w}}" if s_w >= 10 else ""), style="bold", highlight=False)
    for cid, verdict, measured, stated in rows:
        line = f"{escape(cid):<{id_w}}  [{VERDICT_STYLE[verdict]}]{verdict:<{v_w}}[/]  "
        line += escape(_cut(measured, m_w).ljust(m_w))
        if s_w >= 10:
            line += "  " + escape(_cut(stated, s_w))
        out.print(line.rstrip(), highlight=False)
    score = "n/a" if result.score is None else f"{result.score:.2f}"
    counts = ", ".join(f"{n} {k}" for k, n in result.counts.items() if n)
    out.print(f"score {score} ({counts})", highlight=False)
    out.print("smallcaps check --explain ID: a claim's figures, tests and sources", style="dim")


def decisive(c: ClaimResult) -> str:
    """The one figure that decides a claim's verdict, as shown to a person (its headline)."""
    if c.claim.kind == "not-testable" or not c.checks:
        return "not testable" if c.verdict == "not testable" else ""
    return c.headline or "no data"


def _print_judgement(j: Any) -> None:
    """The verdict sentence, then one line per claim: verdict then, now, and the data now."""
    then, now = j.then, j.now
    out.print(f"[bold]{escape(j.thesis.title)}[/]", highlight=False)
    for line in _wrap(j.sentence(), max(40, out.width - 1)):
        out.print(escape(line.strip()), highlight=False)
    out.print()
    rows = [(r.claim.id, r.then.verdict if r.then else "-", r.now.verdict, decisive(r.now),
             r.claim.stated) for r in j.rows]  # fmt: skip
    id_w = max([len(r[0]) for r in rows] + [5])
    t_w = max([len(r[1]) for r in rows] + [len(f"{then.as_of:%Y-%m-%d}")])
    n_w = max([len(r[2]) for r in rows] + [6])
    rest = out.width - id_w - t_w - n_w - 6
    m_w = min(max([len(r[3]) for r in rows] + [8]), max(10, rest * 3 // 5))
    s_w = rest - m_w - 2
    head = f"{'claim':<{id_w}}  {then.as_of:%Y-%m-%d}".ljust(id_w + 2 + t_w)
    head += f"  {'latest':<{n_w}}  {'data now':<{m_w}}"
    out.print(head + (f"  {'stated':<{s_w}}" if s_w >= 10 else ""), style="bold", highlight=False)
    for cid, v_then, v_now, measured, stated in rows:
        st = VERDICT_STYLE.get(v_then, "")
        line = f"{escape(cid):<{id_w}}  " + (
            f"[{st}]{v_then:<{t_w}}[/]" if st else f"{v_then:<{t_w}}"
        )
        line += (
            f"  [{VERDICT_STYLE[v_now]}]{v_now:<{n_w}}[/]  {escape(_cut(measured, m_w).ljust(m_w))}"
        )
        if s_w >= 10:
            line += "  " + escape(_cut(stated, s_w))
        out.print(line.rstrip(), highlight=False)
    for side, r in (("then", then), ("now", now)):
        score = "n/a" if r.score is None else f"{r.score:.2f}"
        when = "latest data" if r.as_of is None else f"{r.as_of:%Y-%m-%d}"
        counts = ", ".join(f"{n} {k}" for k, n in r.counts.items() if n)
        out.print(f"{side} ({when}): score {score} ({counts})", highlight=False)
    out.print("smallcaps check --explain ID: a claim's figures, tests and sources", style="dim")


def _explain(c: Any) -> None:
    style = VERDICT_STYLE[c.verdict]
    out.print(f"[bold]{escape(c.claim.id)}[/] ({escape(c.claim.pillar)}): [{style}]{c.verdict}[/]")
    out.print(f"[italic]\u201c{escape(c.claim.quote)}\u201d[/]")
    out.print(f"stated: {escape(c.claim.stated)}")
    when = "latest data" if c.as_of is None else f"{c.as_of:%Y-%m-%d %H:%M} UTC"
    out.print(f"judged as of: {when}")
    if c.claim.kind == "not-testable":
        out.print(f"not testable: {escape(c.claim.reason)}")
        return
    for i, chk in enumerate(c.checks, start=1):
        out.print(f"\n[bold]check {i}: {escape(chk.label)}[/] -> {chk.outcome}")
        out.print(f"  test: {escape(chk.test)}")
        for name in chk.figures:
            out.print(f"  {escape(name)} = {escape(chk.shown(name))}")
        if chk.finding:
            out.print(f"  [red]{escape(chk.finding)}[/]")
        if chk.missing:
            out.print(f"  [magenta]no data:[/] {escape(chk.missing)}")
    out.print(f"\nverdict: {escape(c.reason)}")
    for name, summary in c.summaries.items():
        out.print(f"\n[bold]{escape(name)}[/]: {escape(summary)}")
    if c.provenance:
        table = _table("provenance")
        for col in ("series", "vintage", "fetched", "data to", "real-time", "released"):
            table.add_column(col, overflow="fold")
        for p in c.provenance[:40]:
            table.add_row(escape(str(p.get("series_id"))), str(p.get("vintage_id", "")),
                          str(p.get("fetched_at", ""))[:16], str(p.get("last_date", "")),
                          _real_time_label(p),
                          escape(str(p.get("release_rule", ""))))  # fmt: skip
        out.print(table)
        if len(c.provenance) > 40:
            out.print(f"... and {len(c.provenance) - 40} more series (--json lists all)")


def _real_time_label(p: dict[str, Any]) -> str:
    if p.get("real_time", True):
        return "yes"
    if p.get("extended_from") is not None:
        return f"no (extended from vintage {p['extended_from']})"
    return "no (read back)"


@app.command()
def measure(
    name: Annotated[str, typer.Argument(help="A measurement, e.g. size.cycles.")] = "",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Measure with what was published by this date.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="k=v, repeatable; see --list.")
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the measurements and their parameters.")
    ] = False,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a named measurement on the store, as of a date, and print its result."""
    from smallcaps import registry
    from smallcaps.store import Store
    from smallcaps.study import RunCache, Study

    if list_ or not name:
        known = sorted(registry.load_all().values(), key=lambda m: m.name)
        if as_json:
            listed: list[dict[str, Any]] = [{"name": m.name, "description": m.description,
                    "params": {k: {"type": p.type_name, "default": p.default}
                               for k, p in m.params.items()}} for m in known]  # fmt: skip
            out.print_json(json.dumps(listed, default=list))
            return
        table = _table("measurements")
        for col in ("name", "parameters (defaults)", "what"):
            table.add_column(col)
        for m in known:
            params = ", ".join(p.describe() for p in m.params.values())
            table.add_row(m.name, escape(params), escape(m.description))
        out.print(table)
        return
    given: dict[str, str] = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not k=v", param_hint="--param")
        given[key.strip()] = value.strip()
    config = Config.resolve(home=home, use_mirror=False)
    when = _end_of(as_of) if as_of else None
    with (
        Store.open(config.store_path, config.archive_path) as store,
        store.session(),
        console.status(f"measuring {escape(name)}"),
    ):
        _not_future(store, when)
        run = Study(store, as_of=when, cache=RunCache(config.cache_path)).run(name, **given)
    result = run.unwrap()
    if as_json:
        doc = {
            "measurement": name, "as_of": None if when is None else when.isoformat(),
            "params": given, "result": result.to_dict(), "provenance": list(run.provenance),
        }  # fmt: skip
        out.print_json(json.dumps(doc, default=str))
        return
    out.print(escape(result.summary()))
    frame = result.to_frame()
    if len(frame):
        shown = frame.reset_index() if frame.index.name else frame
        _print_measure_frame(shown.tail(30), title=f"{name} (last {min(30, len(frame))} rows)")
    records = run.provenance
    for line in records[:PROVENANCE_LINES]:
        flag = "" if line["real_time"] else " (not real-time: read back before our first fetch)"
        console.print(
            f"[dim]{escape(str(line['series_id']))}: vintage {line['vintage_id']} fetched "
            f"{line['fetched_at']}, data to {line['last_date']}{flag}[/]"
        )
    if len(records) > PROVENANCE_LINES:
        console.print(
            f"[dim]... and {len(records) - PROVENANCE_LINES} more series (--json lists all)[/]"
        )


@app.command()
def report(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Use only what was published by this date.")
    ] = None,
    thesis: Annotated[
        str | None,
        typer.Option(
            "--thesis", help="A thesis TOML or a shipped thesis's name (default: the seed)."
        ),
    ] = None,
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules", help="Rules TOML or a shipped name, e.g. rotation-daily (default: rotation)."
        ),
    ] = None,
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="Output file (default: smallcaps-report.html or .json)."),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="html (one offline page), json (every result) or pdf (needs Chromium).",
        ),
    ] = "html",
    no_fetch: Annotated[
        bool, typer.Option("--no-fetch", help="Do not refresh the store; use what is stored.")
    ] = False,
    mirror: MirrorOpt = None,
    home: HomeOpt = None,
) -> None:
    """Fetch what is stale, measure, check the thesis, backtest; write one HTML report.

    A source that cannot be reached does not stop the report: the sections it feeds say what
    is missing and how to supply it, and data already stored is used with its age shown.
    """
    from smallcaps.backtest import load_rules
    from smallcaps.backtest.engine import find_rules
    from smallcaps.report import build_report, refresh, stages, write_html, write_json
    from smallcaps.report.html import check_out
    from smallcaps.report.pdf import find_chromium, write_pdf
    from smallcaps.store import Store
    from smallcaps.study import RunCache, Study
    from smallcaps.thesis import find_thesis
    from smallcaps.thesis import load as load_thesis

    if fmt not in ("html", "json", "pdf"):
        raise typer.BadParameter(f"{fmt!r} is not html, json or pdf", param_hint="--format")
    # mistakes stop the command before anything runs: a missing or invalid thesis or rules
    # file, an --out folder that does not exist, no Chromium for a PDF
    thesis_path = rules_path = None
    if thesis is not None:
        thesis_path = find_thesis(thesis)
        load_thesis(thesis_path)
    if rules is not None:
        rules_path = find_rules(rules)
        load_rules(rules_path)
    target = check_out(out_path or Path(f"smallcaps-report.{fmt}"))
    chromium = find_chromium() if fmt == "pdf" else None
    config = Config.resolve(home=home, mirror=mirror)
    when = _end_of(as_of) if as_of else None
    started = time.perf_counter()
    refreshed: list[Outcome] = []
    with Store.open(config.store_path, config.archive_path) as store, _progress() as progress:
        _not_future(store, when)
        if not no_fetch:
            where = "mirror" if config.mirror is not None else "live sources"
            task = progress.add_task(f"refreshing from {where}", total=None)

            def step(spec: Spec) -> None:
                progress.update(task, description=f"refreshing {escape(str(spec))}")

            refreshed = refresh(store, config, on_spec=step)
            progress.update(task, total=1, completed=1, description="refreshed the store")
        names = stages()
        task = progress.add_task("measuring", total=len(names) + 1)

        def stage(name: str) -> None:
            progress.update(task, completed=names.index(name), description=escape(name))

        with store.session():  # one connection for every read (not held while fetching)
            study = Study(store, as_of=when, cache=RunCache(config.cache_path))
            result = build_report(store, as_of=when, thesis_path=thesis_path, rules_path=rules_path,
                                  refreshed=refreshed, on_stage=stage, study=study)  # fmt: skip
        progress.update(task, completed=len(names), description=f"writing {fmt}")
        result.seconds = time.perf_counter() - started
        if fmt == "json":
            path = write_json(result, target)
        elif fmt == "pdf":
            path = write_pdf(result, target, chromium=chromium)
        else:
            path = write_html(result, target)
        progress.update(task, completed=len(names) + 1, description="done")
    _print_failures(refreshed)  # first: what could not be fetched, why, and the fix, once
    shown = [*result.sections, result.backtest_section]
    for s in (s for s in shown if s is not None):
        for line in s.missing:
            console.print(f"[yellow]{escape(s.title)}:[/] {escape(line)}")
    if result.thesis_error:
        console.print(f"[yellow]thesis:[/] {escape(result.thesis_error)}")
    size = path.stat().st_size / 1e6
    out.print(f"{escape(str(path.resolve()))}")
    console.print(
        f"wrote {escape(str(path))} ({size:.1f} MB) in {time.perf_counter() - started:.1f} s"
    )
    claims = result.thesis.claims if result.thesis is not None else ()
    judged = [c for c in claims if c.verdict not in ("insufficient data", "not testable")]
    if claims and not judged and any(o.failed for o in refreshed):
        console.print("[red]nothing could be judged:[/] no claim had the data it needs; "
                      "fix what could not be fetched (above) and run the report again")  # fmt: skip
        raise typer.Exit(InsufficientDataError.exit_code)
    _report_judged(result)


def _report_judged(result: Any) -> None:
    """A report that could not read the store, or measured and judged nothing, exits non-zero."""
    from smallcaps.errors import InsufficientDataError, StoreError

    runs = [m for s in result.sections for m in s.measurements]
    store_error = next((m.error for m in runs if isinstance(m.error, StoreError)), None)
    if store_error is not None:
        raise StoreError(f"the report could not read the store: {store_error}")
    judged = result.thesis is not None and result.thesis.score is not None
    if runs and all(m.error is not None for m in runs) and not judged:
        raise InsufficientDataError(
            f"the report measured nothing and judged no claim (first reason: {runs[0].error}); "
            "run 'smallcaps fetch' (or pass --mirror DIR) first"
        )


@app.command()
def backtest(
    rules: Annotated[
        str | None,
        typer.Argument(
            help="A rules file (TOML) or a shipped name: rotation (default), rotation-daily."
        ),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First date evaluated (YYYY-MM-DD).")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last date evaluated.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Use only vintages fetched by this date.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Run the chunks on this Dask scheduler (tcp://...)."),
    ] = None,
    top: Annotated[int, typer.Option(help="Variants shown in the table.")] = 10,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate every variant of a rules file and judge the best (DSR, PBO, SPA, walk-forward)."""
    from smallcaps.access import StoreView
    from smallcaps.backtest import default_rules_path, load_rules, make_scheduler, run_rules
    from smallcaps.backtest.engine import find_rules
    from smallcaps.store import Store

    path = find_rules(rules) if rules is not None else default_rules_path()
    ruleset = load_rules(path)  # a bad file fails before the store is opened
    start = _parse_day(from_, "--from") if from_ else None
    end = _parse_day(to, "--to") if to else None
    when = _end_of(as_of) if as_of else None
    config = Config.resolve(home=home, use_mirror=False)
    sched = make_scheduler(scheduler)
    try:
        with (
            Store.open(config.store_path, config.archive_path) as store,
            store.session(),  # one connection for every read
            _progress() as bar,
        ):
            _not_future(store, when)
            task = bar.add_task(f"backtesting {escape(path.name)}", total=None)

            def step(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            view = StoreView(store, when)  # the backtest reads only through the as-of door
            result = run_rules(ruleset, view, start=start, end=end, scheduler=sched, progress=step)
    finally:
        close = getattr(sched, "close", None)
        if close is not None:
            close()
    if as_json:
        out.print_json(json.dumps(result.to_dict(), default=str))
        return
    _print_backtest(result, top)


def _print_backtest(r: BacktestResult, top: int) -> None:
    costs = r.ruleset.costs
    out.print(
        f"[bold]{escape(r.ruleset.title)}[/]: {len(r.variants):,} variants, "
        f"{'monthly' if r.frequency == 'M' else 'daily'} {r.dates[0]:%Y-%m-%d}.."
        f"{r.dates[-1]:%Y-%m-%d}; {costs.bps:g} bps a leg, expenses "
        f"{costs.expense_small:.3%}/{costs.expense_large:.4%} a year, lag {costs.lag}"
    )
    benches = list(r.benchmarks.index)
    title = f"best {min(top, len(r.top))} variants by Sharpe"
    table = _table(title)
    for col in ("rule", "params", "CAGR", "Sharpe", "max DD", "turnover/yr", "in small"):
        table.add_column(col, justify="left" if col in ("rule", "params") else "right")
    for name in benches:
        table.add_column(f"vs {name}", justify="right")
    for row in r.top[:top]:  # the rows the result holds by name (a sweep may have millions)
        params = ", ".join(f"{k}={v}" for k, v in row.params.items())
        table.add_row(
            escape(row.rule), escape(params), f"{row.cagr:.2%}", f"{row.sharpe:.2f}",
            f"{row.max_dd:.1%}", f"{row.turnover:.2f}", f"{row.time_small:.0%}",
            *(f"{row.excess[n]:+.2%}" for n in benches),
        )  # fmt: skip
    out.print(table)
    bt = _table("benchmarks")
    for col in ("benchmark", "CAGR", "Sharpe", "max DD", "in small"):
        bt.add_column(col, justify="left" if col == "benchmark" else "right")
    for name, row in r.benchmarks.iterrows():
        bt.add_row(
            escape(str(name)), f"{row['cagr']:.2%}", f"{row['sharpe']:.2f}",
            f"{row['max_dd']:.1%}", f"{row['time_small']:.0%}",
        )  # fmt: skip
    out.print(bt)
    rob = r.robustness
    if rob is None:
        out.print("verdict: the best variant was not judged (no robustness tests)")
    else:
        name = escape(r.variants[r.best].name)
        out.print(f"[bold]robustness of the best variant[/] ({name}):")
        for line in rob.figures():
            out.print(f"  {escape(line)}")
        verdict = "[green]survives[/]" if rob.survives else "[red]does not survive[/]"
        out.print(f"verdict: the best variant {verdict}")
        for reason in rob.reasons:
            out.print(f"  - {escape(reason)}")
    for note in r.notes:
        console.print(f"[dim]{escape(note)}[/]")


def _print_frame(frame: pd.DataFrame, as_json: bool, *, title: str) -> None:
    if as_json:
        out.print_json(frame.to_json(orient="records", date_format="iso"))
        return
    table = _table(escape(title))
    for col in frame.columns:
        table.add_column(escape(str(col)))
    for row in frame.itertuples(index=False):
        table.add_row(*(escape(_cell(v)) for v in row))
    out.print(table)


# How each measure column reads, by its name: an explicit table rather than a guess from the
# values (a return of 0.5 and a rate of 0.5 look alike). Raw values stay in --json.
#   pct: decimal share/return shown as percent; pct_rate: a level already in percent (rates);
#   pp: a change already in percentage points; bp: a percent level shown in basis points;
#   num2: t-statistics and ratios, 2 decimals; p: p-values, 3 decimals; int: counts;
#   num1: 1 decimal. Unlisted float columns get 4 significant digits.
MEASURE_UNITS: dict[str, str] = {
    **dict.fromkeys(
        ("return", "peak_return", "from_high", "move", "share", "share_up", "positive",
         "discount", "discount_updated", "percentile", "placebo_percentile", "weight_start",
         "weight_end", "contribution", "mean", "median", "ci_low", "ci_high", "placebo_mean",
         "placebo_p05", "placebo_p95", "placebo_low", "placebo_high", "vol", "coef", "se",
         "sml_mean", "sml_annual", "small_mean", "large_mean", "fund_total", "index",
         "tracking_difference", "fund_price", "distributions", "expense_ratio", "dividends_est",
         "residual"),
        "pct",
    ),
    **dict.fromkeys(("old", "new", "target_before", "target_after"), "pct_rate"),
    **dict.fromkeys(("change", "first_cut_size", "depth"), "pp"),
    "spread_mean": "bp",
    **dict.fromkeys(("t", "t_nw", "sml_t", "z", "r2", "gap", "gap_updated", "pe", "cape"),
                    "num2"),
    "p": "p",
    **dict.fromkeys(("n", "days", "n_cuts", "lags", "length_days", "days_since_change",
                     "offset", "year"), "int"),
    "months": "num1",
}  # fmt: skip


def _print_measure_frame(frame: pd.DataFrame, *, title: str) -> None:
    table = _table(escape(title))
    for col in frame.columns:
        table.add_column(escape(str(col)), justify="right" if str(col) in MEASURE_UNITS else "left")
    for row in frame.itertuples(index=False):
        table.add_row(
            *(escape(format_value(v, str(c))) for c, v in zip(frame.columns, row, strict=True))
        )
    out.print(table)


def format_value(value: object, column: str) -> str:
    """``value`` as people read it, by what ``column`` is (see MEASURE_UNITS); never raises."""
    import math

    import pandas as pd

    if value is None or isinstance(value, bool | str):
        return "" if value is None else str(value)
    if isinstance(value, pd.Timestamp):
        return _cell(value)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _cell(value)
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    unit = MEASURE_UNITS.get(column)
    if unit == "pct":
        return f"{100 * x:+.1f}%" if abs(x) >= 0.1 else f"{100 * x:+.2f}%"
    if unit == "pct_rate":
        return f"{x:.2f}%"
    if unit == "pp":
        return f"{x:+.2f} pp"
    if unit == "bp":
        return f"{100 * x:,.0f} bp"
    if unit == "num2":
        return f"{x:,.2f}"
    if unit == "p":
        return f"{x:.3f}"
    if unit == "int" and x.is_integer():
        return f"{int(x):d}" if column == "year" else f"{int(x):,d}"
    if unit == "num1":
        return f"{x:,.1f}"
    if x.is_integer() and not isinstance(value, float):
        return f"{int(x):,d}"
    return f"{x:,.4g}"


def _cell(value: object) -> str:
    import pandas as pd

    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d}" if value == value.normalize() else f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:,.6g}"
    return "" if value is None else str(value)


@store_app.command("verify")
def store_verify(home: HomeOpt = None, as_json: JsonOpt = False) -> None:
    """Read every table and archived payload; list what is damaged (exit 7 if anything)."""
    from smallcaps.errors import StoreError
    from smallcaps.store.repair import verify

    config = Config.resolve(home=home, use_mirror=False)
    result = verify(config.store_path, config.archive_path)
    if as_json:
        out.print_json(json.dumps({"ok": result.ok, "summary": result.summary(),
                                   "problems": result.problems}))  # fmt: skip
    else:
        for problem in result.problems:
            out.print(f"[red]problem:[/] {escape(problem)}")
        out.print(escape(result.summary()), highlight=False)
    if not result.ok:
        console.print("run 'smallcaps store rebuild' to rebuild the store from its archive")
        raise typer.Exit(StoreError.exit_code)


@store_app.command("rebuild")
def store_rebuild(home: HomeOpt = None) -> None:
    """Re-ingest the payload archive into a fresh store (same vintages) and swap it in."""
    from smallcaps.store.repair import rebuild

    config = Config.resolve(home=home, use_mirror=False)
    with console.status("rebuilding the store from its archive"):
        result = rebuild(config.store_path, config.archive_path)
    out.print(escape(result.summary()), highlight=False)


def main() -> None:
    """Entry point: run the app, printing our errors as one line without a traceback."""
    try:
        app()  # standalone: usage errors and typer.Exit end here as SystemExit
    except SmallcapsError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}")
        if exc.hint:
            console.print(f"  [dim]hint:[/] {escape(exc.hint)}")
        raise SystemExit(exc.exit_code) from None


if __name__ == "__main__":
    main()
