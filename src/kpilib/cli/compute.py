"""`kpilib compute` and `kpilib kpis`: compute KPIs to a file, list the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = """Compute KPIs on a dataset folder and write the tidy result (one row per KPI, period and
segment: value, numerator, denominator, n, p50, p90, status, unit) to CSV, parquet or JSON.

Examples:

  kpilib compute data/sample --kpi perfect_order_rate --kpi order --by channel --freq W

  kpilib compute data/sample --kpi all --freq M --out kpis.parquet

  kpilib compute data/sample --kpi forecast_bias_ratio --by product_class --param forecast_lag=2

KPI ids, domain names (order, fulfillment, inventory, forecast, leading) and 'all' are
accepted; `kpilib kpis` lists them. Rates are fractions (0.95 = 95%). A KPI whose tables are
absent is reported with status 'unavailable', an empty population with 'undefined'."""


def _parse_params(items: list[str]) -> dict:
    import yaml

    out = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--param takes NAME=VALUE, got {item!r}")
        out[name.strip()] = yaml.safe_load(raw)
    return out


def compute_cmd(
    data: Annotated[Path, typer.Argument(help="Dataset folder (<table>.parquet or .csv).")],
    kpi: Annotated[list[str], typer.Option("--kpi", "-k", help="KPI id, domain or 'all' "
                                           "(repeatable).")] = None,
    by: Annotated[list[str], typer.Option("--by", help="Segment dimension (repeatable): "
                                          "channel, node, supplier, product_class, "
                                          "fulfillment_model, carrier, service_level, sku, "
                                          "abc_class, xyz_class.")] = None,
    freq: Annotated[str | None, typer.Option(help="Period: D, W, M, Q; omit for one value "
                                             "over the window.")] = None,
    start: Annotated[str | None, typer.Option(help="Window start (inclusive), e.g. "
                                              "2024-01-01.")] = None,
    end: Annotated[str | None, typer.Option(help="Window end (exclusive).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Evaluation time; later events "
                                              "are ignored. Default: the data's latest "
                                              "timestamp.")] = None,
    tz: Annotated[str, typer.Option(help="Reporting time zone for periods.")] = "UTC",
    role: Annotated[str | None, typer.Option(help="Only this role's KPIs "
                                             "(packaged roles.yaml).")] = None,
    param: Annotated[list[str], typer.Option("--param", "-p", help="KPI option NAME=VALUE "
                                             "(see docs/kpis.md), repeatable.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file: .csv, .parquet "
                                             "or .json. Default: print a table.")] = None,
    assume_tz: Annotated[str | None, typer.Option("--assume-tz", help="Read naive timestamps "
                                                  "in this IANA zone.")] = None,
    allow_future_as_of: Annotated[bool, typer.Option(
        "--allow-future-as-of", help="Accept an --as-of after the data's end (refused by "
        "default: open orders would age into the future); the result's note says so.")
    ] = False,
) -> None:
    """Compute KPIs on a dataset folder."""
    from rich.console import Console
    from rich.markup import escape

    import kpilib
    from kpilib.errors import KpiLibError

    console = Console(stderr=True)
    try:
        ds = kpilib.load_dataset(data, assume_tz=assume_tz)
        res = kpilib.compute(ds, kpi or "all", by=by or None, freq=freq, start=start, end=end,
                             as_of=as_of, params=_parse_params(param or []), tz=tz, role=role,
                             allow_future_as_of=allow_future_as_of)
    except (KpiLibError, OSError) as err:
        console.print(f"[red]error:[/red] {escape(str(err))}")
        raise typer.Exit(1) from err
    if out is None:
        import pandas as pd

        with pd.option_context("display.width", 200, "display.max_rows", 500):
            print(res.drop(columns=["excluded", "note"]).to_string(index=False))
        return
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet", ".json"):
        console.print(f"[red]error:[/red] --out must end in .csv, .parquet or .json: "
                      f"{escape(str(out))}")
        raise typer.Exit(2)
    # the evaluation time travels with the file: `kpilib alerts` leaves the running period
    # (not ended at this time) unjudged
    res = res.assign(data_as_of=evaluation_time(as_of, ds))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            res.to_csv(out, index=False)
        elif suffix == ".parquet":
            res.to_parquet(out, index=False)
        else:
            res.to_json(out, orient="records", date_format="iso", indent=1)
    except OSError as err:
        console.print(f"[red]error:[/red] cannot write {escape(str(out))} "
                      f"({escape(err.strerror or str(err))}); choose a writable --out path")
        raise typer.Exit(2) from err
    console.print(f"wrote {len(res)} rows to {escape(str(out))}")


def evaluation_time(as_of: str | None, ds) -> str:
    """The evaluation time of a compute run (``--as-of`` or the data's), ISO in UTC."""
    from kpilib.periods import to_utc

    return (to_utc(as_of, "as_of") if as_of else to_utc(ds.data_as_of)).isoformat()


def kpis_cmd(
    domain: Annotated[str | None, typer.Option(help="Only this domain.")] = None,
) -> None:
    """List the registered KPIs: id, code, domain, unit, direction, formula in words."""
    import kpilib

    table = kpilib.list_kpis()
    if domain:
        table = table[table["domain"] == domain]
    from rich.console import Console
    from rich.table import Table

    t = Table("id", "code", "domain", "unit", "direction", "description", show_lines=False)
    for r in table.itertuples():
        t.add_row(r.id, r.code, r.domain, r.unit, r.direction, r.description[:110])
    Console().print(t)


def register(app: typer.Typer) -> None:
    app.command("compute", help=HELP)(compute_cmd)
    app.command("kpis")(kpis_cmd)
