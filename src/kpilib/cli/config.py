"""`kpilib config init DIR`: editable copies of the packaged bands, roles, targets and playbook."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

FILES = ("bands.yaml", "roles.yaml", "targets.yaml", "playbook.yaml")
HELP = (
    "Band and role settings. The packaged files are the defaults; `kpilib config init DIR` "
    "writes copies to edit."
)
INIT_HELP = "\n\n".join((
    "Write editable copies of the packaged bands.yaml (chart method, guards, hysteresis and "
    "fixed targets per KPI family), roles.yaml (KPIs per role, alert owners and their labels), "
    "targets.yaml (the benchmark targets drawn on the reports) and playbook.yaml (the next "
    "step per KPI family) into DIR.",
    "Use them by passing the folder or a file: `kpilib alerts --config DIR`, "
    "`kpilib reports run --thresholds DIR/bands.yaml`, `kpilib.apply_bands(res, "
    "\"DIR/bands.yaml\")`. `kpilib reports run` also picks up config/bands.yaml and "
    "config/roles.yaml in the working directory, so `kpilib config init config` is the usual "
    "call. A file you pass replaces the packaged one (it is not merged with it). Both files "
    "are checked when loaded: unknown keys, unknown KPI ids and thresholds in the wrong order "
    "are errors naming the file and the key.",
))


def packaged(name: str) -> Path:
    """Path of a packaged configuration file."""
    from importlib import resources

    return Path(str(resources.files("kpilib") / "config" / name))


def init(directory: Path, force: bool) -> list[Path]:
    """Copy the packaged files into ``directory``; FileExistsError when one exists (unless
    ``force``), before anything is written."""
    targets = [directory / name for name in FILES]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{', '.join(map(str, existing))} already exist(s); "
                              "pass --force to overwrite")
    directory.mkdir(parents=True, exist_ok=True)
    for name, target in zip(FILES, targets, strict=True):
        shutil.copyfile(packaged(name), target)
    return targets


def register(app: typer.Typer) -> None:
    """Add the `config` command group to ``app``."""
    group = typer.Typer(help=HELP, no_args_is_help=True)

    @group.command("init", help=INIT_HELP)
    def init_cmd(
        directory: Annotated[Path, typer.Argument(help="Folder to write (created).")],
        force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
    ) -> None:
        from rich.console import Console

        console = Console()
        try:
            written = init(directory, force)
        except FileExistsError as err:
            console.print(f"[red]{err}[/red]")
            raise typer.Exit(2) from err
        console.print(f"Wrote {', '.join(str(p) for p in written)}. Edit them, then pass "
                      f"`--config {directory}` to `kpilib alerts` or `--thresholds "
                      f"{directory / 'bands.yaml'}` to `kpilib reports run`.")

    app.add_typer(group, name="config")
