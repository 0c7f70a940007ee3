"""A PostgreSQL source (kpilib.mapping.database): a real server, an ERP-like schema, same KPIs.

The fixture starts Debian's PostgreSQL on a temporary data directory, listening only on a unix
socket inside it (no TCP port), and loads a generated omnichannel sample (the default
sample's scenario and seed, 8 weeks at 10 % volume) into schema ``erp`` under the names of
``tests/data/erp_postgres.yaml`` (``sales_order.so_no``, ``shipment_header.manifest_ts``,
statuses as codes such as ``dlv_stat_cd = 'D'``). ``kpilib import db`` then reads it back
through that mapping and every KPI, weekly, must equal the sample's exactly.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

import kpilib
from kpilib import schema
from kpilib.cli.main import app
from kpilib.errors import ParameterError
from kpilib.mapping.database import import_db, redact

MAPPING = Path(__file__).parent / "data" / "erp_postgres.yaml"
PORT = "5432"  # only names the socket file inside the private directory


def _server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).resolve().parent if pg_ctl else None


def _install_server() -> Path | None:
    """Debian's postgresql package via apt-get (as root), or None when that is not possible."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "postgresql"]
    if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        subprocess.run(cmd, env=env, capture_output=True)
    return _server_bin()


@pytest.fixture(scope="module")
def pg_url():
    """URL of a fresh PostgreSQL server on a unix socket; stopped and removed afterwards."""
    pytest.importorskip("adbc_driver_postgresql", reason="adbc-driver-postgresql not installed")
    bindir = _server_bin() or _install_server()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found, and apt-get install "
                    "postgresql needs root: install Debian's postgresql package to run this")
    root = os.geteuid() == 0  # the server refuses to run as root: run it as 'postgres'
    user = "postgres" if root else None
    home = Path(tempfile.mkdtemp(prefix="kpilib-pg-"))
    if root:
        entry = pwd.getpwnam("postgres")
        os.chown(home, entry.pw_uid, entry.pw_gid)
    run = dict(user=user, check=True, capture_output=True, text=True)
    data = home / "data"
    subprocess.run([bindir / "initdb", "-D", data, "-U", "kpilib", "--auth=trust", "-E",
                    "UTF8", "--locale=C", "--no-sync"], **run)
    subprocess.run([bindir / "pg_ctl", "-D", data, "-l", home / "server.log", "-w", "-o",
                    f"-c listen_addresses='' -k {home} -p {PORT} -c fsync=off", "start"], **run)
    try:
        yield f"postgresql://kpilib@/postgres?host={home}&port={PORT}"
    finally:
        subprocess.run([bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
                       user=user, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The default sample's scenario and seed (omnichannel, 42), 8 weeks at 10 % volume."""
    from kpilib.synth import generate

    out = tmp_path_factory.mktemp("db") / "sample"
    generate("omnichannel", seed=42, start="2024-01-01", days=56, scale=0.1, out=out)
    return out


ARROW_TYPES = {"text": "string", "int": "int64", "num": "float64", "bool": "bool",
               "date": "date32", "ts": "timestamp[us, tz=UTC]"}


def _erp_table(source: dict) -> str:
    """The ERP table behind a mapping source (a ``table:``, or the first FROM of a query)."""
    if "table" in source:
        return source["table"].split(".")[-1]
    return re.search(r"\bFROM\s+erp\.(\w+)", source["query"]).group(1)


def load_erp(url: str, ds) -> None:
    """Write ``ds`` into schema ``erp`` under the mapping's names, statuses as its codes
    (the inverse of tests/data/erp_postgres.yaml's plain columns and value maps)."""
    import adbc_driver_postgresql.dbapi as pg
    import pyarrow as pa

    doc = yaml.safe_load(MAPPING.read_text())
    with pg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA erp")
        for name, spec in doc["tables"].items():
            frame = ds.tables[name]
            arrays, names = [], []
            for col, how in spec["columns"].items():
                values = frame[col]
                if isinstance(how, dict):  # {column: ERP name, map: {code: contract value}}
                    codes = {v: k for k, v in how["map"].items()}
                    values = values.map(codes).where(values.notna(), None)
                    how = how["column"]
                kind = ARROW_TYPES[schema.TABLES[name].column(col).dtype]
                values = values.astype(object).where(values.notna(), None)
                arrays.append(pa.array(values.tolist(), type=pa.type_for_alias(kind)
                                       if "timestamp" not in kind else pa.timestamp("us", "UTC")))
                names.append(how)
            cur.adbc_ingest(_erp_table(doc["sources"][spec["from"]]),
                            pa.Table.from_arrays(arrays, names), mode="create",
                            db_schema_name="erp")
        conn.commit()


@pytest.fixture(scope="module")
def erp(pg_url, sample):
    load_erp(pg_url, kpilib.load_dataset(sample))
    return pg_url


def _query(url: str, sql: str) -> pd.DataFrame:
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_df()


def weekly(ds, kpis="all") -> pd.DataFrame:
    return kpilib.compute(ds, kpis, freq="W", as_of="2024-02-26", allow_future_as_of=True)


@pytest.fixture(scope="module")
def expected(sample):
    """Every KPI of the sample itself, weekly."""
    return weekly(kpilib.load_dataset(sample))


def test_the_database_holds_an_erp_schema_not_the_contract(erp):
    tables = set(_query(erp, "SELECT table_name FROM information_schema.tables WHERE "
                             "table_schema = 'erp'")["table_name"])
    assert {"sales_order", "sales_order_line", "shipment_header", "so_event_log"} <= tables
    assert not tables & set(schema.TABLE_NAMES)
    codes = _query(erp, "SELECT DISTINCT dlv_stat_cd FROM erp.shipment_header")["dlv_stat_cd"]
    assert set(codes) <= set("PTDFRL") and "D" in set(codes)
    events = _query(erp, "SELECT DISTINCT evt_cd FROM erp.so_event_log")["evt_cd"]
    assert all(re.fullmatch(r"E\d{3}", e) for e in events)


def test_load_dataset_from_postgres_gives_the_sample_kpis(erp, sample, expected):
    direct = kpilib.load_dataset(sample)
    via_db = kpilib.load_dataset(erp, mapping=MAPPING)
    for name in schema.TABLE_NAMES:
        assert len(via_db.tables[name]) == len(direct.tables[name]), name
    assert expected["value"].notna().sum() > 300  # most KPIs have weekly values here
    assert_frame_equal(weekly(via_db), expected, check_exact=True)


def test_a_wrong_column_changes_the_kpis(erp, expected, tmp_path):
    # the comparison above can fail: read the label time as the ship time and every shipment
    # leaves at once, so more of them are on time for their ship-by deadline
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(MAPPING.read_text().replace("shipped_at: manifest_ts",
                                                 "shipped_at: label_ts"))
    kpi = "on_time_shipment_rate"
    got = weekly(kpilib.load_dataset(erp, mapping=wrong), [kpi])
    want = expected.loc[expected["kpi"] == kpi].reset_index(drop=True)
    both = want["value"].notna()
    assert both.sum() >= 4 and got["value"].notna().equals(both)
    new, old = got.loc[both, "value"], want.loc[both, "value"]
    assert (new >= old).all() and (new > old).any()


def test_import_db_cli_round_trip_in_small_chunks(erp, sample, expected, tmp_path):
    seen: dict[str, list[int]] = {}
    result = import_db(erp, MAPPING, chunk_bytes=4096,
                       progress=lambda name, rows: seen.setdefault(name, []).append(rows))
    assert not result.report  # nothing set aside: the sample keeps the contract
    lines = seen["sales_order_line"]
    assert len(lines) > 1 and lines == sorted(lines)  # several chunks, rows growing
    assert lines[-1] == len(kpilib.load_dataset(sample).tables["order_lines"])

    out = tmp_path / "imported"
    res = CliRunner().invoke(app, ["import", "db", erp, "--mapping", str(MAPPING), "--out",
                                   str(out), "--no-backtest"])
    assert res.exit_code == 0, res.output
    assert_frame_equal(weekly(kpilib.load_dataset(out)), expected, check_exact=True)


def _one_line(output: str) -> str:
    assert "Traceback" not in output
    return " ".join(output.split())


def test_unreachable_server_bad_url_and_missing_table_are_one_line_errors(erp, tmp_path):
    runner = CliRunner()
    out = str(tmp_path / "o")
    gone = re.sub(r"port=\d+", "port=1", erp)  # no server on that socket
    res = runner.invoke(app, ["import", "db", gone, "--mapping", str(MAPPING), "--out", out])
    assert res.exit_code == 1
    assert "cannot connect to postgresql://kpilib@" in _one_line(res.output)

    res = runner.invoke(app, ["import", "db", "mysql://x/y", "--mapping", str(MAPPING),
                              "--out", out])
    assert res.exit_code == 2 and "not a database URL" in _one_line(res.output)

    broken = tmp_path / "broken.yaml"
    broken.write_text(MAPPING.read_text().replace("{table: erp.rma_line}",
                                                  "{table: erp.rma_lines}"))
    res = runner.invoke(app, ["import", "db", erp, "--mapping", str(broken), "--out", out])
    text = _one_line(res.output)
    assert res.exit_code == 2
    assert "sources.rma_line: table 'erp.rma_lines' fails:" in text
    assert 'relation "erp.rma_lines" does not exist' in text

    with pytest.raises(ParameterError, match="needs mapping="):
        kpilib.load_dataset(erp)
    with pytest.raises(ParameterError, match="exactly one of 'table:'"):
        broken.write_text(MAPPING.read_text().replace("{table: erp.rma_line}",
                                                      "{file: rma.csv}"))
        kpilib.load_dataset(erp, mapping=broken)


def test_redact_hides_only_the_password():
    assert redact("postgresql://me:s3cr%40t@db:5432/erp") == "postgresql://me:***@db:5432/erp"
    assert redact("postgresql://me@db/erp") == "postgresql://me@db/erp"
    assert redact("postgresql:///erp?host=/run/pg") == "postgresql:///erp?host=/run/pg"
