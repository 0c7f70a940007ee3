"""`make browser` (a prerequisite of `make test`): chromium present, installed as root, or a
clear stop.

Each case runs the real Makefile target with a PATH holding only stand-ins: a fake ``id``
(root or not), optionally a fake ``apt-get`` that "installs" chromium by writing a script
into the same folder, optionally chromium itself. Nothing is installed on the machine.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _script(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/bash\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def _run(tmp_path: Path, *, uid: int, apt: bool = False, chromium: bool = False):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _script(bin_dir, "id", f"echo {uid}")
    if apt:  # `apt-get install ... chromium` leaves a chromium in PATH, as the real one would
        _script(bin_dir, "apt-get", f'echo "apt-get $*" >> {tmp_path}/apt.log\n'
                f'[ "$1" = install ] && printf \'#!/bin/bash\\necho "Chromium 1.0"\\n\' '
                f'> {bin_dir}/chromium && /bin/chmod +x {bin_dir}/chromium\nexit 0')
    if chromium:
        _script(bin_dir, "chromium", 'echo "Chromium 1.0"')
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    return subprocess.run([MAKE, "-s", "-C", str(ROOT), "browser"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_chromium_present_does_nothing(tmp_path):
    res = _run(tmp_path, uid=1000, chromium=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""


def test_not_root_without_chromium_stops_with_one_sentence(tmp_path):
    res = _run(tmp_path, uid=1000)
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("error:")]
    assert lines == ["error: make test needs chromium for the browser test of the HTML "
                     "reports; install it (Debian/Ubuntu: sudo apt-get install chromium) and "
                     "run make test again."]


def test_root_with_apt_installs_chromium(tmp_path):
    res = _run(tmp_path, uid=0, apt=True)
    assert res.returncode == 0, res.stderr
    log = (tmp_path / "apt.log").read_text(encoding="utf-8").splitlines()
    assert log[0] == "apt-get update -qq"
    assert log[1].startswith("apt-get install -y") and "chromium" in log[1].split()
    assert "Chromium 1.0" in res.stdout


def test_root_without_apt_stops_too(tmp_path):
    res = _run(tmp_path, uid=0)
    assert res.returncode != 0 and "install it" in res.stderr


def test_make_test_runs_browser_first():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\ntest: browser " in text
