"""How much of the FIT ratio (bench/ingest_files.py: full ingest / fitfast.records, target < 2) the
two largest single pieces of the ingest hold: the FIT ingest of the corpus timed as it is, and again
with each piece made free, against fitfast.records on the same files in the same run:

- the mean-max curves (analysis.mean_max's compiled search: four curves of each run on the
  storage grid) replaced by an empty curve;
- zstd (the channel blob and the original file) replaced by a plain copy of the bytes.

Neither replacement is something runhub could ship (the curves are a stored product, DESIGN.md 4;
the compression halves what the database holds): each prints what the ratio would be if that
piece cost nothing, the most that making it faster can give. Rounds are interleaved (this
machine's speed drifts within a run); each figure is the fastest of its rounds.

    .venv/bin/python bench/ingest_levers.py [rounds]
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from runhub.auth.passwords import hash_password
from runhub.formats.fit import fitfast_input
from runhub.ingest import ingest_bytes
from runhub.store import Database, users


class _Copy:
    def compress(self, data: bytes) -> bytes:
        return bytes(data)


@contextmanager
def _free(piece: str) -> Iterator[None]:
    """The ingest with `piece` ('mean-max', 'zstd' or 'none') costing nothing."""
    import runhub.analysis.mean_max as mm
    import runhub.store.blob as blob

    saved = mm._mean_max, blob._compressor
    if piece == "mean-max":
        mm._mean_max = lambda *args: (0, np.zeros(0), np.zeros(0))
    elif piece == "zstd":
        blob._compressor = _Copy
    try:
        yield
    finally:
        mm._mean_max, blob._compressor = saved


def main(rounds: int) -> None:
    import fitfast

    from ingest_files import CORPUS  # bench/ingest_files.py: RUNHUB_CORPUS, or the shared corpus
    from store import quiet_stderr  # bench/store.py

    paths = sorted((CORPUS / "fit").iterdir())
    files = [(p.name, p.read_bytes()) for p in paths]
    refs = [fitfast_input(gzip.decompress(d) if n.endswith(".gz") else d) for n, d in files]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/levers.sqlite3")
        db.upgrade()
        password = hash_password("x")

        def ingest() -> float:
            with db.begin() as conn:
                owner = users.create_user(conn, f"levers-{time.time_ns()}", password)
            t0 = time.perf_counter()
            for name, data in files:
                ingest_bytes(db, owner, data, filename=name, client_id="runhub-cli", by_recorder=True)
            return time.perf_counter() - t0

        def reference() -> float:
            t0 = time.perf_counter()
            for data in refs:
                try:
                    fitfast.records(data)
                except BaseException as exc:  # a pyo3 PanicException on some broken files
                    if isinstance(exc, KeyboardInterrupt):
                        raise
            return time.perf_counter() - t0

        pieces = ("none", "mean-max", "zstd")
        runs: dict[str, list[float]] = {name: [] for name in ("fitfast.records", *pieces)}
        with quiet_stderr():
            ingest()  # numba's start-up and the kernels' loading, once
            for _ in range(rounds):
                runs["fitfast.records"].append(reference())
                for piece in pieces:
                    with _free(piece):
                        runs[piece].append(ingest())
        db.dispose()
    ref = min(runs["fitfast.records"])
    base = min(runs["none"])
    print(f"{len(files)} FIT files, {rounds} interleaved rounds, the fastest of each: fitfast.records {ref:.3f} s")
    print(f"  full ingest as it is: {base:.3f} s = ratio {base / ref:.2f} (target < 2)")
    for piece, what in (("mean-max", "the mean-max curves"), ("zstd", "zstd compression")):
        t = min(runs[piece])
        print(f"  with {what} free: {t:.3f} s = ratio {t / ref:.2f}; that piece holds {(base - t) / ref:.2f}x of "
              f"fitfast.records, {(base - t) / base:.0%} of the ingest")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
