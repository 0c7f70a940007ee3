"""The pinned environment is one environment: requirements.lock, environment.yml,
requirements.in, pyproject.toml and the running interpreter's packages agree.

Rule: every package is pinned exactly once in requirements.lock; environment.yml lists the same
names with the same versions; every direct dependency (requirements.in, pyproject.toml) is
pinned in the lock at a version its specifier admits; the venv running the tests has exactly the
locked versions installed (otherwise notebook outputs would not be reproducible).
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!_-]+)$")


def parse_pins(lines: list[str], source: str) -> dict[str, str]:
    """Map canonical name -> version for ``name==version`` lines; reject anything looser."""
    pins: dict[str, str] = {}
    for line in lines:
        match = PIN.match(line.strip())
        assert match, f"{source}: {line!r} is not an exact name==version pin"
        name = canonicalize_name(match["name"])
        assert name not in pins, f"{source}: {name} is pinned twice"
        pins[name] = match["version"]
    return pins


def lock_pins(path: Path = ROOT / "requirements.lock") -> dict[str, str]:
    lines = [ln.split("#", 1)[0].strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    return parse_pins([ln for ln in lines if ln], path.name)


def conda_env(path: Path = ROOT / "environment.yml") -> tuple[list[str], dict[str, str]]:
    """Return (conda dependency strings, pip pins) of environment.yml."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    conda = [d for d in doc["dependencies"] if isinstance(d, str)]
    pip_sections = [d["pip"] for d in doc["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml must have exactly one pip: section"
    # The pip section may end with the editable install of kpilib itself (not a pin).
    pip_lines = [ln for ln in pip_sections[0] if not ln.startswith("-e ")]
    return conda, parse_pins(pip_lines, path.name)


def pin_drift(lock: dict[str, str], env: dict[str, str]) -> list[str]:
    """Human-readable differences between two pin maps (empty when they agree)."""
    problems = [f"{n}: only in requirements.lock ({lock[n]})" for n in sorted(lock.keys() - env)]
    problems += [f"{n}: only in environment.yml ({env[n]})" for n in sorted(env.keys() - lock)]
    problems += [
        f"{n}: requirements.lock has {lock[n]}, environment.yml has {env[n]}"
        for n in sorted(lock.keys() & env.keys())
        if lock[n] != env[n]
    ]
    return problems


def direct_requirements() -> list[tuple[str, Requirement]]:
    """(source, requirement) for requirements.in and pyproject's dependencies + extras."""
    reqs = []
    for raw in (ROOT / "requirements.in").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            reqs.append(("requirements.in", Requirement(line)))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for line in project["dependencies"]:
        reqs.append(("pyproject dependencies", Requirement(line)))
    for extra, lines in project.get("optional-dependencies", {}).items():
        reqs.extend((f"pyproject [{extra}]", Requirement(line)) for line in lines)
    return reqs


def test_pin_drift_reports_every_kind_of_difference():
    # Hand-made drift: b differs (2.0 vs 2.1), c only in the lock, d only in the yml, a agrees.
    lock = {"a": "1.0", "b": "2.0", "c": "3.0"}
    env = {"a": "1.0", "b": "2.1", "d": "4.0"}
    assert pin_drift(lock, env) == [
        "c: only in requirements.lock (3.0)",
        "d: only in environment.yml (4.0)",
        "b: requirements.lock has 2.0, environment.yml has 2.1",
    ]


def test_parse_pins_rejects_ranges_and_duplicates():
    with pytest.raises(AssertionError, match="not an exact"):
        parse_pins(["pandas>=2"], "x")
    with pytest.raises(AssertionError, match="pinned twice"):
        parse_pins(["PyYAML==6.0", "pyyaml==6.0"], "x")


def test_environment_yml_pins_the_same_packages_and_versions_as_the_lock():
    _, env = conda_env()
    drift = pin_drift(lock_pins(), env)
    assert not drift, "environment.yml drifted from requirements.lock (run `make lock`):\n" + (
        "\n".join(drift)
    )


def test_environment_yml_python_matches_the_project():
    conda, _ = conda_env()
    pythons = [d for d in conda if re.match(r"python\b", d)]
    assert pythons == ["python=3.11"], pythons
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == ">=3.11"


def test_every_direct_dependency_is_pinned_at_an_admitted_version():
    # the [spark] extra is pinned in its own lock (pyspark, ~500 MB: `make spark`, not `make venv`)
    main, spark = lock_pins(), lock_pins(ROOT / "requirements-spark.lock")
    assert not main.keys() & spark.keys(), "a package is pinned in both locks"
    problems = []
    for source, req in direct_requirements():
        name = canonicalize_name(req.name)
        lock = spark if source == "pyproject [spark]" else main
        if name not in lock:
            problems.append(f"{source}: {req} is not pinned in requirements.lock")
        elif not req.specifier.contains(lock[name], prereleases=True):
            problems.append(f"{source}: {req} does not admit the locked {name}=={lock[name]}")
    assert not problems, "\n".join(problems)


def test_running_environment_has_exactly_the_locked_versions():
    # The venv that runs the tests must be the locked one (make venv installs it), or notebook
    # outputs and KPI numbers may differ from CI's.
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()
    }
    lock = lock_pins()
    wrong = [
        f"{n}: locked {v}, installed {installed.get(n, 'nothing')}"
        for n, v in sorted(lock.items())
        if installed.get(n) != v
    ]
    assert not wrong, f"{sys.prefix} differs from requirements.lock (run `make venv`):\n" + (
        "\n".join(wrong)
    )
