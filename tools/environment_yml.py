"""Write ``environment.yml`` (conda) from ``requirements.lock`` so both pin the same packages.

Rule: every ``name==version`` line of the lock becomes one entry of the conda file's ``pip:``
section, in the lock's order; conda itself only provides ``python`` and ``pip``. (conda-forge
names differ from PyPI names, so the PyPI pins are the single source of truth.) The last pip
entry installs kpilib itself from the checkout.

Usage: ``python tools/environment_yml.py [LOCK] [OUT]`` (defaults: requirements.lock,
environment.yml). ``make lock`` runs it; ``tests/test_environment.py`` checks the result.
"""

from __future__ import annotations

import sys
from pathlib import Path

PYTHON = "3.11"

HEADER = f"""\
# Conda environment for kpilib. GENERATED from requirements.lock by tools/environment_yml.py
# (`make lock`); do not edit by hand. tests/test_environment.py fails if the two drift apart.
#   conda env create -f environment.yml && conda activate kpilib
name: kpilib
channels:
  - conda-forge
dependencies:
  - python={PYTHON}
  - pip
  - pip:
"""


def lock_pins(lock_text: str) -> list[str]:
    """Return the ``name==version`` lines of a lock file, skipping comments and blank lines."""
    pins = []
    for raw in lock_text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "==" not in line or line.startswith("-"):
            raise ValueError(f"requirements.lock line is not an exact pin: {raw!r}")
        pins.append(line)
    return pins


def render(lock_text: str) -> str:
    """Return the text of environment.yml for the given lock file text."""
    lines = [f"      - {pin}" for pin in lock_pins(lock_text)]
    lines.append("      - -e .")
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    lock = Path(argv[0] if argv else "requirements.lock")
    out = Path(argv[1] if len(argv) > 1 else "environment.yml")
    out.write_text(render(lock.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {out} ({len(lock_pins(lock.read_text(encoding='utf-8')))} pins from {lock})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
