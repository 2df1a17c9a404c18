"""Corpus location: shared/corpus next to the repo, or RUNHUB_CORPUS. Files are read in place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS = Path(os.environ.get("RUNHUB_CORPUS") or Path(__file__).resolve().parents[2].parent / "shared" / "corpus")


def corpus_files(kind: str) -> list[Path]:
    d = CORPUS / kind
    return sorted(p for p in d.iterdir() if p.is_file()) if d.is_dir() else []


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"activity corpus not found at {CORPUS} (set RUNHUB_CORPUS)")
    return CORPUS
