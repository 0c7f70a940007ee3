"""`kpilib template DIR`: header-only CSVs in schema order, a column reference, and a layout
that `kpilib validate` reads as "orders and order_lines are empty" and nothing else."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

import kpilib
from kpilib import schema
from kpilib.cli.main import app
from kpilib.templates import EXAMPLE, columns_markdown, write_template

runner = CliRunner()


def _header(path):
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows


def _rules(problems):
    return sorted((p.table, p.rule) for p in problems)


def test_untouched_template_validates_to_exactly_two_empty_required_tables(tmp_path):
    write_template(tmp_path)
    assert _rules(kpilib.validate(tmp_path)) == [("order_lines", "empty_table"),
                                                 ("orders", "empty_table")]


def test_every_table_has_a_header_only_csv_in_schema_column_order(tmp_path):
    write_template(tmp_path)
    for name, table in schema.TABLES.items():
        folder = tmp_path if table.required else tmp_path / "optional"
        rows = _header(folder / f"{name}.csv")
        assert rows == [list(table.column_names)], name
    # optional tables stay out of DIR itself, so they are absent (KPIs: unavailable)
    top = sorted(p.stem for p in tmp_path.glob("*.csv"))
    assert top == sorted(schema.REQUIRED_TABLES)


def test_tables_option_places_chosen_optional_tables_in_dir(tmp_path):
    write_template(tmp_path, ("shipments", "nodes"))
    top = sorted(p.stem for p in tmp_path.glob("*.csv"))
    assert top == sorted([*schema.REQUIRED_TABLES, "shipments", "nodes"])
    assert not (tmp_path / "optional" / "shipments.csv").exists()
    # an empty optional table is not a contract problem; only the required ones are
    assert _rules(kpilib.validate(tmp_path)) == [("order_lines", "empty_table"),
                                                 ("orders", "empty_table")]


def test_example_order_is_clean_and_uses_only_schema_columns(tmp_path):
    write_template(tmp_path)
    assert kpilib.validate(tmp_path / "example") == []
    for name, row in EXAMPLE.items():
        assert set(row) <= set(schema.TABLES[name].column_names)
        rows = _header(tmp_path / "example" / f"{name}.csv")
        assert len(rows) == 2  # header + one row


def test_columns_reference_describes_type_null_enum_and_foreign_key():
    text = columns_markdown()
    for name, table in schema.TABLES.items():
        assert f"## {name} (" in text
        for col in table.columns:
            assert f"| `{col.name}` |" in text
    # order_lines.order_id: text, NOT NULL, foreign key to orders.order_id
    assert "| `order_id` | text | yes |  | orders.order_id |" in text
    # orders.order_type enumerates its allowed values
    assert "`standard`, `replacement`, `transfer`, `b2b`" in text
    # a time-order rule in words
    assert "not before shipped_at" in text


def test_every_column_has_a_meaning_in_the_reference():
    missing = [f"{t.name}.{c.name}" for t in schema.TABLES.values() for c in t.columns
               if not c.doc.strip()]
    assert not missing, f"schema.Column.doc is empty for {missing}"
    text = columns_markdown()
    # a column's row ends with its meaning, e.g. order_lines.qty_cancelled_customer
    doc = schema.TABLES["order_lines"].column("qty_cancelled_customer").doc
    assert f"| {doc} |" in text


def test_refuses_to_overwrite_without_force_and_rejects_unknown_tables(tmp_path):
    write_template(tmp_path)
    (tmp_path / "orders.csv").write_text("order_id\nO1\n")
    with pytest.raises(FileExistsError):
        write_template(tmp_path)
    assert (tmp_path / "orders.csv").read_text() == "order_id\nO1\n"
    write_template(tmp_path, force=True)
    assert _header(tmp_path / "orders.csv") == [list(schema.TABLES["orders"].column_names)]
    with pytest.raises(ValueError, match="unknown table"):
        write_template(tmp_path / "x", ("shipment",))


def test_filled_template_with_naive_timestamps_needs_assume_tz(tmp_path):
    """The guide's first step: a naive export is rejected, --assume-tz reads it."""
    write_template(tmp_path)
    for name in ("orders", "order_lines"):
        row = dict(EXAMPLE[name])
        for col, value in row.items():
            if value.startswith("2024-"):
                row[col] = value[:19].replace("T", " ")  # drop the offset: naive local time
        cols = schema.TABLES[name].column_names
        with (tmp_path / f"{name}.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
            writer.writeheader()
            writer.writerow(row)
    rules = {p.rule for p in kpilib.validate(tmp_path)}
    assert rules == {"naive_timestamp"}
    assert kpilib.validate(tmp_path, assume_tz="Europe/Berlin") == []


def test_cli_writes_template_and_explains(tmp_path):
    result = runner.invoke(app, ["template", str(tmp_path / "t")], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "kpilib validate" in result.output
    assert (tmp_path / "t" / "COLUMNS.md").exists()
    assert (tmp_path / "t" / "README.md").read_text().count("--assume-tz") >= 1
    again = runner.invoke(app, ["template", str(tmp_path / "t")])
    assert again.exit_code == 2 and "already exist" in again.output
    bad = runner.invoke(app, ["template", str(tmp_path / "u"), "--format", "xlsx"])
    assert bad.exit_code == 2
    val = runner.invoke(app, ["validate", str(tmp_path / "t")], env={"COLUMNS": "200"})
    assert val.exit_code == 1 and "2 data contract problem(s)" in val.output
    help_text = runner.invoke(app, ["template", "--help"], env={"COLUMNS": "200"}).output
    assert "COLUMNS.md" in help_text and "optional" in help_text
