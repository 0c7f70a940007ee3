"""The README documents only what exists.

Rule: the quickstart is exactly `make reports` and `make test`; every `make TARGET` the README
names is a Makefile target; every `kpilib ...` command line it shows resolves to a registered
sub-command with the options it uses; every `kpilib.NAME` its Python examples use exists, and
the examples run (on a small generated dataset in place of data/sample).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import kpilib
from kpilib.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def code_blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(README) if kind == lang]


def shell_lines() -> list[str]:
    """Command lines of bash blocks and inline `...` spans, comments stripped."""
    blocks = code_blocks("bash")
    lines = [ln.split("#", 1)[0].strip() for block in blocks for ln in block.split("\n")]
    prose = FENCE.sub("", README)
    lines += [span.strip() for span in re.findall(r"`([^`\n]+)`", prose)]
    return [ln for ln in lines if ln]


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z0-9_.-]+):(?!=)", text, re.M))


def root_command() -> Any:
    root = typer.main.get_group(app)
    root.name = "kpilib"
    return root


def unknown_cli_words(line: str, root: Any) -> list[str]:
    """Sub-commands and --options of a `kpilib ...` line that the CLI does not have.

    Words in capitals (DIR, COMMAND) are placeholders and end the sub-command walk.
    """
    cmd, problems = root, []
    for word in line.split()[1:]:
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            opts = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
            if name not in opts:
                problems.append(f"{line!r}: {cmd.name} has no option {name}")
        elif hasattr(cmd, "commands") and not word.isupper():
            if word not in cmd.commands:
                return [*problems, f"{line!r}: {cmd.name} has no sub-command {word!r}"]
            cmd = cmd.commands[word]
    return problems


def test_quickstart_is_the_two_commands():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    first_block = FENCE.findall(quickstart)[0][1]
    commands = [ln.split("#", 1)[0].strip() for ln in first_block.splitlines() if ln.strip()]
    assert commands == ["make reports", "make test"]


def test_every_make_target_named_exists():
    targets = makefile_targets()
    named = {m for ln in shell_lines() for m in re.findall(r"\bmake ([a-z][a-z0-9-]*)", ln)}
    assert named, "the README names no make target"
    assert not sorted(named - targets), f"README names missing targets: {sorted(named - targets)}"


def test_unknown_cli_words_catches_a_missing_command_and_option():
    root = root_command()
    assert unknown_cli_words("kpilib no-such-command", root) == [
        "'kpilib no-such-command': kpilib has no sub-command 'no-such-command'"
    ]
    assert unknown_cli_words("kpilib --no-such-option", root) == [
        "'kpilib --no-such-option': kpilib has no option --no-such-option"
    ]


def test_every_kpilib_command_line_exists():
    root = root_command()
    lines = [ln for ln in shell_lines() if ln.startswith("kpilib ")]
    assert lines, "the README shows no kpilib command"
    problems = [p for ln in lines for p in unknown_cli_words(ln, root)]
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def tiny_sample(tmp_path_factory):
    """A 4-week omnichannel dataset at 2 % of the default volume, standing in for data/sample."""
    from kpilib.synth import generate

    out = tmp_path_factory.mktemp("readme") / "sample"
    generate("omnichannel", seed=7, start="2024-01-01", days=28, scale=0.02, out=out)
    return out


@pytest.mark.parametrize("index", range(len(code_blocks("python"))))
def test_python_examples_run(index, tiny_sample):
    source = code_blocks("python")[index]
    missing = [n for n in set(re.findall(r"\bkpilib\.(\w+)", source)) if not hasattr(kpilib, n)]
    assert not missing, f"README uses kpilib.{missing} which does not exist"
    source = source.replace('"data/sample"', repr(str(tiny_sample)))
    exec(compile(source, f"README python block {index}", "exec"), {})


# README command lines not run here, each with the reason; every other `kpilib ...` line of a
# bash block is run by test_readme_commands_run_from_a_clone.
NOT_RUN = {
    "kpilib generate --scenario omnichannel --seed 42 --start 2024-01-01 --days 365 "
    "--out data/sample": "the full-size sample `make data` builds (minutes); the generator "
                         "is tested on small sizes in test_synth",
    'kpilib reports schedule --cron "0 6 * * 1" --data data/sample --out reports':
        "runs until stopped; tested in test_reports_*",
    "kpilib reports run --data data/mine --out reports/mine": "needs your own filled data",
}
NEEDS_DOWNLOAD = ("data/raw/", "data/olist", "data/online_retail", "data/superstore")


def bash_kpilib_lines() -> list[str]:
    lines = [ln.split("#", 1)[0].strip() for block in code_blocks("bash")
             for ln in block.split("\n")]
    return [ln for ln in lines if ln.startswith("kpilib ")]


def test_readme_commands_run_from_a_clone(tiny_sample, tmp_path, monkeypatch):
    """Every README `kpilib` line that needs no download runs, in a clone-like folder where
    data/sample is the small generated dataset; plus the compute -> alerts chain of the
    command table."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(tiny_sample, tmp_path / "data" / "sample")
    lines = [ln for ln in bash_kpilib_lines()
             if ln not in NOT_RUN and not any(p in ln for p in NEEDS_DOWNLOAD)]
    assert "kpilib template data/mine" in lines and "kpilib validate data/sample" in lines
    lines += ["kpilib compute data/sample --kpi perfect_order_rate --by channel --freq W "
              "--out kpis.parquet", "kpilib alerts --results kpis.parquet --store alerts"]
    runner = CliRunner()
    for line in lines:
        result = runner.invoke(app, shlex.split(line)[1:], env={"COLUMNS": "200"})
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            line, result.output)
        # validating the untouched template lists its two empty required tables: exit 1
        expected = 1 if line.startswith("kpilib validate data/mine") else 0
        assert result.exit_code == expected, (line, result.output)
    assert (tmp_path / "data" / "mine" / "COLUMNS.md").is_file()


def test_every_readme_command_is_run_or_explained():
    lines = set(bash_kpilib_lines())
    assert set(NOT_RUN) <= lines, f"stale NOT_RUN entries: {sorted(set(NOT_RUN) - lines)}"
