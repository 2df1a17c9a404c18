"""The runs an account holds twice, and which of each to keep.

A lifetime brought from several places holds a run once per place: the watch's FIT in Garmin's
export, Strava's GPX of it in Strava's. Ingest keeps both and marks the later one a possible
duplicate of the first (the Smashrun seed: "that run will simply dupe"), since neither may
overwrite the other. Both then count in every total, so the runner needs to see them and keep
one: the fuller recording, the one with more channels (a watch's heart rate, cadence, power,
which a GPX from another app often lacks), then more samples, then the first stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from runhub.store import Database
from runhub.store import activities as repo
from runhub.store.activities import PairedRun


@dataclass
class Group:
    """One run stored more than once: the recording to keep and the others."""

    keep: PairedRun
    others: list[PairedRun]


def _fullness(run: PairedRun) -> tuple[int, int, int]:
    return len(run.channels), run.n_samples, -run.id


def groups(db: Database, owner_id: int) -> list[Group]:
    """Each run `owner_id` holds more than once (live runs only), oldest first."""
    with db.connect() as conn:
        pairs = repo.duplicate_pairs(conn, owner_id)
    root: dict[int, int] = {}  # run -> the first run of its group (a duplicate may have duplicates)

    def find(k: int) -> int:
        while root.get(k, k) != k:
            k = root[k]
        return k

    runs: dict[int, PairedRun] = {}
    for first, dupe in pairs:
        runs[first.id], runs[dupe.id] = first, dupe
        a, b = find(first.id), find(dupe.id)
        if a != b:
            root[max(a, b)] = min(a, b)
    members: dict[int, list[PairedRun]] = {}
    for k in sorted(runs):
        if not runs[k].deleted:  # a deleted run still links the two stored beside it
            members.setdefault(find(k), []).append(runs[k])
    out = []
    for group in members.values():
        if len(group) > 1:
            keep = max(group, key=_fullness)
            out.append(Group(keep, [r for r in group if r is not keep]))
    return sorted(out, key=lambda g: (g.keep.start_utc, g.keep.id))


def delete_others(db: Database, owner_id: int, found: list[Group]) -> int:
    """Delete every run but the one to keep of each group, as the API deletes a run (a file of it
    imported again stays out); the number deleted."""
    deleted = 0
    with db.begin() as conn:
        for group in found:
            for run in group.others:
                deleted += repo.mark_deleted(conn, run.id, owner_id)
    return deleted
