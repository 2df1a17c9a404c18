"""The store half of ingest on the corpus FIT files: everything `ingest.ingest_activity` does after
analysis (dedupe look-ups, the activity row, channel blob, original file, products, the
transaction and its commit), timed through `ingest.store_analysed`.

Every file is decoded, validated and analysed once, untimed; each pass then stores all of them
into a fresh account (so nothing is deduplicated away), N passes (default 8). Prints:

- ms per activity stored: the mean pass over the corpus FIT activities (a mean, not the best,
  because SQLite's WAL checkpoints, on a thread of their own (store/checkpoint.py), fall on some
  passes only and compete for the CPU there), and the fixed cost: the median
  over the activities of <= 40 samples of each one's best time;
- the ratio of the store time to the decode-only time of `fitfast.records` on the same files in
  the same run (the reference of bench/ingest_files.py, whose full ingest must stay under 2x it);
- with --split, the time per store step (function wrappers; they add a little overhead).

Machines here are shared: compare figures from one run, not across runs. SQLite in a temporary
directory by default; --url (or RUNHUB_DATABASE_URL) for another database, which keeps what the
passes stored (for PostgreSQL give it a schema of its own: ...?options=-csearch_path%3Dbench).

    .venv/bin/python bench/store.py [passes] [--split] [--url URL]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import statistics
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TINY_SAMPLES = 40  # activities this short show the store's fixed cost per activity
CORPUS = Path(os.environ.get("RUNHUB_CORPUS") or Path(__file__).resolve().parents[1].parent / "shared" / "corpus")


@dataclass
class Item:
    """One analysed activity, ready to store as ingest_bytes would store it."""

    name: str
    activity: Any
    products: dict[str, Any]
    original: bytes | None
    key: str


def fit_files() -> list[tuple[str, bytes]]:
    out = []
    for p in sorted((CORPUS / "fit").iterdir()):
        data = p.read_bytes()
        if p.name.endswith(".gz"):
            out.append((p.name[:-3], gzip.decompress(data)))
        else:
            out.append((p.name, data))
    return out


def load_items(files: list[tuple[str, bytes]], formats: Any, prepare: Callable[[Any], dict[str, Any]]) -> list[Item]:
    """Decode, validate and analyse every file (as ingest_bytes does, same dedupe keys);
    failures are left out."""
    from runhub.ingest import dedupe_key

    items = []
    for name, data in files:
        try:
            acts = formats.decode(data, "fit", filename=name)
        except Exception:  # noqa: BLE001 - files that fail to decode fail before the store
            continue
        digest = hashlib.sha256(data).hexdigest()
        for k, a in enumerate(acts):
            try:
                a.validate()
                products = prepare(a)
                a.validate()
            except Exception:  # noqa: BLE001
                continue
            key = dedupe_key(digest, k, len(acts))
            items.append(Item(name, a, products, data if k == 0 else None, key))
    return items


def store_pass(db: Any, owner: int, items: list[Item], store: Callable[..., Any]) -> list[float]:
    """Seconds per item to store every item into `owner`'s account."""
    times = []
    for it in items:
        t0 = time.perf_counter()
        r = store(db, owner, it.activity, it.products, original=it.original, fmt="fit", filename=it.name,
                  content_key=it.key)
        times.append(time.perf_counter() - t0)
        # a copy cut short (import_warning) never replaces the whole file's run stored before it
        assert r.status in ("created", "updated") or it.activity.extras.get("import_warning"), r
    return times


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """fitfast's Rust panics print to fd 2 on the broken corpus files; keep the output readable."""
    saved = os.dup(2)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def decode_time(files: list[tuple[str, bytes]]) -> float:
    """Seconds for fitfast.records over every file (the reference of bench/ingest_files.py)."""
    import fitfast

    with quiet_stderr():
        t0 = time.perf_counter()
        for _, data in files:
            try:
                fitfast.records(data)
            except BaseException as exc:  # fitfast raises a pyo3 PanicException on some broken files
                if isinstance(exc, KeyboardInterrupt):
                    raise
        return time.perf_counter() - t0


@contextmanager
def split_timers(db: Any, totals: dict[str, float]) -> Iterator[None]:
    """Wrap the store's steps with timers. Nested: insert_activity includes blob.encode and
    touch_user, save_original includes blob.compress; commit is the database's own commit."""
    from runhub.store import activities as repo
    from runhub.store import blob

    targets: list[tuple[Any, str]] = [(repo, n) for n in ("find_existing", "insert_activity", "replace_activity",
                                                          "save_original", "save_products", "touch_user")]
    targets += [(blob, "encode"), (blob, "compress"), (db.engine.dialect, "do_commit")]
    saved = []
    for obj, name in targets:
        fn = getattr(obj, name)
        saved.append((obj, name, fn))
        key = "commit" if name == "do_commit" else f"{obj.__name__.split('.')[-1]}.{name}"

        def wrapped(*args: Any, _fn: Callable[..., Any] = fn, _key: str = key, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                totals[_key] += time.perf_counter() - t0

        setattr(obj, name, wrapped)
    try:
        yield
    finally:
        for obj, name, fn in saved:
            if obj is db.engine.dialect:
                del obj.do_commit  # back to the class's method
            else:
                setattr(obj, name, fn)


def main() -> None:
    from runhub import formats
    from runhub.auth.passwords import hash_password
    from runhub.ingest import prepare, store_analysed
    from runhub.store import Database, users

    ap = argparse.ArgumentParser()
    ap.add_argument("passes", nargs="?", type=int, default=8)
    ap.add_argument("--split", action="store_true")
    ap.add_argument("--url", default=os.environ.get("RUNHUB_DATABASE_URL"))
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    files = fit_files()
    with quiet_stderr():
        items = load_items(files, formats, prepare)
    tiny = [i for i, it in enumerate(items) if 0 < it.activity.n_samples <= TINY_SAMPLES]
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.url or f"sqlite:///{tmp}/bench.sqlite3")
        db.upgrade()

        def new_user() -> int:
            with db.begin() as conn:
                return users.create_user(conn, f"bench-{time.time_ns()}", hash_password("x"))

        store_pass(db, new_user(), items, store_analysed)  # warm-up: imports, compiled statements
        totals, decodes = [], []
        per_item = [float("inf")] * len(items)
        for _ in range(args.passes):
            decodes.append(decode_time(files))
            times = store_pass(db, new_user(), items, store_analysed)
            totals.append(sum(times))
            per_item = [min(a, b) for a, b in zip(per_item, times, strict=True)]
        n, best, mean, dec = len(items), min(totals), statistics.mean(totals), min(decodes)
        tiny_ms = statistics.median(per_item[i] for i in tiny) * 1000
        why = "; the mean includes the passes a WAL checkpoint thread ran beside"
        why = why if db.dialect == "sqlite" else ""
        print(f"store, {n} activities from {len(files)} FIT files ({db.dialect}), {args.passes} passes: "
              f"mean {mean * 1000:.0f} ms = {mean / n * 1000:.2f} ms per activity "
              f"(best pass {best * 1000:.0f} ms{why})")
        print(f"fixed cost: median of the {len(tiny)} activities of <= {TINY_SAMPLES} samples, each its best "
              f"of {args.passes}: {tiny_ms:.2f} ms")
        print(f"reference fitfast.records decode of the same files (best of {args.passes}): {dec * 1000:.0f} ms; "
              f"store mean / decode = {mean / dec:.2f}")
        if args.split:
            totals: dict[str, float] = defaultdict(float)
            owner = new_user()
            with split_timers(db, totals):
                total = sum(store_pass(db, owner, items, store_analysed))
            print(f"split, one pass ({total * 1000:.0f} ms with the wrappers):")
            for key, v in sorted(totals.items(), key=lambda kv: -kv[1]):
                print(f"  {key:28s} {v * 1000:7.1f} ms")
        db.dispose()


if __name__ == "__main__":
    main()
