"""``chipclear lists``: import the Consolidated Screening List and show what is screened."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from chipclear.tui.cli import common as cli

lists_app = typer.Typer(
    help="Screening lists: import the US Consolidated Screening List (trade.gov) so every "
         "later decision screens against it offline.",
    no_args_is_help=True,
)

StoreOpt = Annotated[Path | None, typer.Option(
    "--store", help="Data directory (default: $CHIPCLEAR_DATA, else ~/.local/share/chipclear).")]


@lists_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="consolidated.json or consolidated.csv.")],
    store: StoreOpt = None,
    today: Annotated[str | None, typer.Option(
        help="Import date to record (default: today).")] = None,
) -> None:
    """Read a bulk CSL file (JSON or CSV) into the local list decisions screen against."""
    from chipclear.errors import UserInputError
    from chipclear.screening import store as list_store
    from chipclear.screening.csl import read_csl

    if not file.is_file():
        cli.fail(f"{file}: file not found (pass the downloaded consolidated.json or .csv)")
    on = cli.parse_date(today, "--today") or dt.date.today()
    try:
        snapshot = read_csl(file)
    except UserInputError as exc:
        cli.fail(exc.line())
    if not snapshot.parties:
        cli.fail(f"{file}: no parties in the file (is it the bulk CSL download?)")
    path = list_store.save(snapshot, file, on, store)
    typer.echo(f"imported {len(snapshot.parties)} parties from {file.name} "
               f"({snapshot.format}, sha256 {snapshot.sha256[:16]}…) into {path}")
    if snapshot.duplicates:
        typer.echo(f"  {snapshot.duplicates} rows repeated a (source, id) already read: kept "
                   "the first")
    for source, updated in snapshot.last_updated.items():
        count = sum(1 for p in snapshot.parties if p.source == source)
        stamp = updated.isoformat() if updated else "last-updated date not stated in the file"
        typer.echo(f"  {source}: {count} parties, {stamp}")


@lists_app.command("show")
def show(store: StoreOpt = None) -> None:
    """Say which lists decisions screen against: the shipped sample and any import."""
    from chipclear.screening import store as list_store

    pack = cli.load_rules(None)
    typer.echo(f"{pack.entity_list.list.id}: shipped sample, {len(pack.entity_list.entries)} "
               f"entries (rule pack {pack.manifest.version})")
    imported = list_store.load(store)
    if imported is None:
        typer.echo("no imported list: only the shipped sample is screened "
                   "(run `chipclear lists import consolidated.json`)")
        return
    typer.echo(f"us-csl: imported {imported.imported_on} from {imported.source_file}, "
               f"{len(imported.parties)} parties, sha256 {imported.sha256}")
    for s in imported.sources:
        typer.echo(f"  {s.source}: {s.entries} parties, last updated "
                   f"{s.last_updated or 'not stated'}")
