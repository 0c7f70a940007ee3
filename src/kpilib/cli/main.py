"""Entry point of the `kpilib` console script.

Each sub-command lives in its own module under ``kpilib.cli`` and exposes ``register(app)``;
this file only lists them. Heavy imports (pandas, papermill) happen inside the commands so
``kpilib --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="kpilib",
    help=(
        "Ecommerce ERP KPIs: generate or import data, validate it against the contract, "
        "compute KPIs, and run the HTML report suite once or on a schedule.\n\n"
        "Typical start: `kpilib generate --out data/sample`, then `kpilib validate data/sample`, "
        "then `kpilib reports run --data data/sample --out reports`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that define `register(app: typer.Typer) -> None`.
COMMAND_MODULES = (
    "generate",
    "validate",
    "compute",
    "reports",
    "alerts",
    "importer",
    "template",
    "refresh",
    "watch",
    "config",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"kpilib.cli.{_name}").register(app)


def main() -> None:
    """Run the CLI (console-script target)."""
    app()
