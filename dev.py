#!/usr/bin/env python3
"""Set up and run runhub with nothing but python3: `python3 dev.py serve` or `python3 dev.py test`.

Creates .venv beside this file, installs the pinned dependencies (requirements.lock) and runhub
itself, then serves (SQLite in the data directory, demo user, sample runs) or runs the tests.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".runhub-installed"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def setup() -> None:
    """Install only when the lock or pyproject changed since the last install."""
    inputs = (ROOT / "requirements.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    want = hashlib.sha256(inputs).hexdigest()
    if STAMP.exists() and STAMP.read_text() == want:
        return
    if not (BIN / "python").exists():
        print("creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [BIN / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    print("installing pinned dependencies (requirements.lock)", flush=True)
    run(*pip, "-r", ROOT / "requirements.lock")
    run(*pip, "--no-deps", "-e", ROOT)
    print("compiling the numba kernels (once; cached on disk)", flush=True)
    run(BIN / "runhub", "warm")
    STAMP.write_text(want)


def serve(args: list[str]) -> None:
    runhub = BIN / "runhub"
    run(runhub, "db", "upgrade")
    run(runhub, "demo")
    os.execv(runhub, [str(runhub), "serve", *args])


def test(args: list[str]) -> None:
    run(BIN / "ruff", "check", "src", "tests", "bench")
    run(BIN / "python", "-m", "pytest", *args)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test", "setup"):
        sys.exit("usage: python3 dev.py serve [--host H --port P] | test [pytest args] | setup")
    setup()
    {"serve": serve, "test": test, "setup": lambda _: None}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
