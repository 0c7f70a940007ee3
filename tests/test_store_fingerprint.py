"""The store's fingerprint: a batch hashes only the tables it brings, reusing the manifest's
``table_digests`` for the others, and still equals a full re-hash of the stored tables."""

from __future__ import annotations

import json

import pytest
from store_helpers import short_snapshot

import kpilib
from kpilib.loading import load_dataset
from kpilib.refresh import refresh
from kpilib.store import create, open_store
from kpilib.store.replay import write_batch


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A snapshot batch folder of a short omnichannel run, plus the dataset."""
    return short_snapshot(tmp_path_factory.mktemp("fp"))


@pytest.fixture
def hashed(monkeypatch):
    """The table names ``table_digest`` is called for, in order."""
    names: list[str] = []
    real = kpilib.dataset.table_digest
    monkeypatch.setattr(kpilib.dataset, "table_digest",
                        lambda name, frame: names.append(name) or real(name, frame))
    return names


def _store_with_batch(tmp_path, small):
    root, ds = small
    st = tmp_path / "st"
    create(st, [{"kpis": ["cancellation_rate_pre_ship"], "by": [], "freq": "D"}],
           early_warning={"enabled": False})
    refresh(st, root / "full")
    orders = ds.orders.iloc[[0]].copy()
    orders["channel"] = "b2b" if orders["channel"].iloc[0] != "b2b" else "web"
    write_batch(tmp_path / "b1", {"orders": orders}, False)
    return st, ds


def _assert_equals_full_rehash(st):
    manifest = open_store(st).manifest
    fresh = load_dataset(open_store(st).dir / "tables")
    assert manifest["table_digests"] == fresh.table_digests()
    assert manifest["fingerprint"] == fresh.fingerprint() == open_store(st).dataset().fingerprint()
    results = open_store(st).results(["cancellation_rate_pre_ship"], freq="D",
                                     banded=True)
    assert set(results["fingerprint"]) == {manifest["fingerprint"]}


def test_a_batch_hashes_only_its_tables_and_matches_a_full_rehash(tmp_path, small, hashed):
    st, ds = _store_with_batch(tmp_path, small)
    before = open_store(st).manifest
    assert sorted(before["table_digests"]) == sorted(ds.tables)
    assert before["fingerprint"] == ds.fingerprint()
    hashed.clear()
    assert refresh(st, tmp_path / "b1").status == "applied"
    assert hashed == ["orders"]
    after = open_store(st).manifest
    assert after["fingerprint"] != before["fingerprint"]
    assert {n for n, d in after["table_digests"].items()
            if d != before["table_digests"][n]} == {"orders"}
    _assert_equals_full_rehash(st)


def test_a_manifest_without_table_digests_hashes_every_table(tmp_path, small, hashed):
    """A store written before ``table_digests`` existed: the batch hashes everything, and the
    manifest it writes has the digests again."""
    st, ds = _store_with_batch(tmp_path, small)
    path = open_store(st).dir / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["table_digests"]
    path.write_text(json.dumps(manifest))
    hashed.clear()
    assert refresh(st, tmp_path / "b1").status == "applied"
    assert sorted(hashed) == sorted(ds.tables)
    _assert_equals_full_rehash(st)
