"""SQLite WAL checkpoints off the writer's path.

SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages, and
with it the database file's fsync: on this machine one commit in about twenty took 6-8 ms
instead of 0.12 ms, two thirds of all commit time in an import (bench/ingest_files.py). So the
engine's connections turn it off (`wal_autocheckpoint=0`) and, after a write transaction, a
short-lived thread runs a PASSIVE checkpoint on its own connection once the WAL file is past
the same size. PASSIVE never waits for readers or writers; what it cannot copy yet, the next
one does. The writer goes on while the disk syncs.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

# SQLite's own default: 1,000 pages of 4 KiB
WAL_BYTES = 1000 * 4096
# at most this often: the WAL file keeps its size after a checkpoint (SQLite rewinds it at the
# next write instead of truncating), so its size alone would ask for one after every commit
MIN_INTERVAL_S = 0.5


class Checkpointer:
    def __init__(self, path: str) -> None:
        self._wal = path + "-wal"
        # read-write, never create: a database removed meanwhile is not made again, empty
        self._uri = Path(path).absolute().as_uri() + "?mode=rw"
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last = 0.0

    def after_write(self) -> None:
        """Start a checkpoint in the background when the WAL is big and none ran lately."""
        now = time.monotonic()
        if now - self._last < MIN_INTERVAL_S:
            return
        try:
            if os.stat(self._wal).st_size < WAL_BYTES:
                return
        except OSError:
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._last = now
            self._thread = threading.Thread(target=self._run, name="runhub-wal-checkpoint", daemon=True)
            self._thread.start()

    def checkpoint(self) -> tuple[int, int, int]:
        """(busy, frames in the WAL, frames checkpointed), SQLite's answer."""
        conn = sqlite3.connect(self._uri, uri=True, timeout=30)
        try:
            return conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()

    def _run(self) -> None:
        try:
            self.checkpoint()
        except sqlite3.Error as exc:  # another checkpoint at work, say: the next one copies the rest
            log.warning("WAL checkpoint of %s skipped: %s", self._wal, exc)

    def join(self) -> None:
        thread = self._thread
        if thread is not None:
            thread.join()
