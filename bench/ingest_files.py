"""Import the whole corpus through ingest.py; print files/s, samples/s, and the ratio of runhub's
full ingest time (decode, validate, analyse, store) to the decode-only time of the fastest FIT
decoder (fitfast.records) on the same FIT files in the same run. Also times fitdecode and the
Garmin SDK on those files, and one GPX against FitTrackee's ~0.45 s per upload.

    .venv/bin/python bench/ingest_files.py
"""

from __future__ import annotations

import gzip
import os
import tempfile
import time
import warnings
from pathlib import Path

from runhub.auth.passwords import hash_password
from runhub.ingest import ingest_bytes
from runhub.store import Database, users

CORPUS = Path(os.environ.get("RUNHUB_CORPUS") or Path(__file__).resolve().parents[1].parent / "shared" / "corpus")


def _fit_files() -> list[bytes]:
    out = []
    for p in sorted((CORPUS / "fit").iterdir()):
        data = p.read_bytes()
        out.append(gzip.decompress(data) if p.name.endswith(".gz") else data)
    return out


def _time(fn, items) -> float:
    t0 = time.perf_counter()
    for x in items:
        try:
            fn(x)
        except BaseException as exc:  # fitfast raises a pyo3 PanicException on some broken files
            if isinstance(exc, KeyboardInterrupt):
                raise
    return time.perf_counter() - t0


def main() -> None:
    import fitdecode
    import fitfast
    from garmin_fit_sdk import Decoder, Stream

    warnings.simplefilter("ignore")
    files = [p for k in ("fit", "tcx", "gpx", "csv") for p in sorted((CORPUS / k).iterdir())]
    fits = _fit_files()

    def fd(b):
        with fitdecode.FitReader(b, check_crc=fitdecode.CrcCheck.DISABLED) as r:
            for _ in r:
                pass

    def sdk(b):
        Decoder(Stream.from_byte_array(bytearray(b))).read()

    fast_records = _time(fitfast.records, fits)
    print(f"FIT decode only, {len(fits)} files: fitfast.records {fast_records:.3f} s, "
          f"fitfast.parse {_time(fitfast.parse, fits):.3f} s, fitdecode {_time(fd, fits):.3f} s, "
          f"garmin-fit-sdk {_time(sdk, fits):.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(os.environ.get("RUNHUB_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3")
        db.upgrade()
        with db.begin() as conn:
            uid = users.create_user(conn, f"bench-{time.time_ns()}", hash_password("x"))
        samples = 0
        fit_time = 0.0
        t_all = time.perf_counter()
        status: dict[str, int] = {}
        for p in files:
            data = p.read_bytes()
            t0 = time.perf_counter()
            results = ingest_bytes(db, uid, data, filename=p.name, sport="running")
            dt = time.perf_counter() - t0
            if p.parent.name == "fit":
                fit_time += dt
            for r in results:
                status[r.status] = status.get(r.status, 0) + 1
            from runhub import formats
            try:
                if formats.sniff(data) not in ("gzip", "zip"):
                    samples += sum(a.n_samples for a in formats.decode(data))
            except Exception:
                pass
        total = time.perf_counter() - t_all
        print(f"ingest: {len(files)} files in {total:.2f} s -> {len(files) / total:.1f} files/s; results {status}")
        print(f"samples (decoded again to count, not timed separately): {samples} -> {samples / total:.0f} samples/s")
        print(f"FIT files: full ingest {fit_time:.3f} s / fitfast.records decode {fast_records:.3f} s "
              f"= ratio {fit_time / fast_records:.1f} (target < 2)")
        gpx = CORPUS / "gpx" / "sweatpy_4078723797_strava.gpx"
        t0 = time.perf_counter()
        ingest_bytes(db, uid, gpx.read_bytes(), filename=gpx.name)
        print(f"one 2.3 h GPX ({gpx.stat().st_size / 1e6:.1f} MB, 8357 points): {time.perf_counter() - t0:.3f} s "
              "(FitTrackee: ~0.45 s for a 1 h GPX)")
        db.dispose()


if __name__ == "__main__":
    main()
