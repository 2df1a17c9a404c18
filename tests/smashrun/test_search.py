"""Search and its variants: paging (0-based page, count 1 / 100 / past the end), no paging = all,
fromDate (UTC unix seconds) for added, modified and deleted runs, the four shapes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tests.smashrun.conftest import manual_run


def _seed(api, n: int) -> list[int]:
    """n manual runs one day apart, distance k+1 km for run k; returns ids newest first."""
    base = datetime(2023, 1, 1, 7, 0, tzinfo=UTC)
    ids = []
    for k in range(n):
        start = (base + timedelta(days=k)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        ids.append(api.upload(manual_run(start, km=k + 1, seconds=300 * (k + 1))))
    return ids[::-1]


def test_paging_count_1_100_and_past_the_end(api) -> None:
    newest_first = _seed(api, 105)
    for style in ("", "/ids", "/briefs", "/extended"):
        first = api.get(f"/v1/my/activities/search{style}", params={"page": 0, "count": 1}).json()
        assert len(first) == 1
        ids = api.get("/v1/my/activities/search/ids", params={"page": 0, "count": 1}).json()
        assert ids == [newest_first[0]]
    page0 = api.get("/v1/my/activities/search/ids", params={"page": 0, "count": 100}).json()
    page1 = api.get("/v1/my/activities/search/ids", params={"page": 1, "count": 100}).json()
    assert page0 == newest_first[:100] and page1 == newest_first[100:]
    assert api.get("/v1/my/activities/search/ids", params={"page": 2, "count": 100}).json() == []
    r = api.get("/v1/my/activities/search", params={"page": 5000, "count": 10})
    assert r.status_code == 200 and r.json() == []
    # SEED: page=5&count=10 is the 6th page of 10
    assert api.get("/v1/my/activities/search/ids", params={"page": 5, "count": 10}).json() == newest_first[50:60]
    # count without page: page 0; neither: every run
    assert api.get("/v1/my/activities/search/ids", params={"count": 3}).json() == newest_first[:3]
    assert api.get("/v1/my/activities/search/ids").json() == newest_first


def test_shapes_of_briefs_summaries_and_extended(api) -> None:
    aid = api.upload(manual_run("2024-02-03T06:05:04-03:00", km=12.345, seconds=3725))
    brief = api.get("/v1/my/activities/search/briefs").json()
    assert brief == [
        {"activityId": aid, "startDateTimeLocal": "2024-02-03T06:05:04-03:00", "distance": 12.345, "duration": 3725}
    ]
    summary = api.get("/v1/my/activities/search").json()[0]
    assert summary == api.get("/v1/my/activities").json()[0]
    extended = api.get("/v1/my/activities/search/extended").json()[0]
    assert {k: extended[k] for k in summary} == summary
    for key in (
        "speedVariability",
        "isCooperTest",
        "sunriseLocal",
        "sunsetLocal",
        "moonPhase",
        "countryCode",
        "country",
        "city",
        "state",
        "elevationGain",
        "elevationLoss",
        "elevationAscent",
        "elevationDescent",
        "elevationMax",
        "elevationMin",
        "elevationNet",
        "powerMax",
    ):
        assert key in extended
    # a manual run has no recordings: nothing to know about elevation or the sun's position
    assert extended["elevationGain"] is None and extended["sunriseLocal"] is None


def _wait_next_second() -> int:
    """A fromDate strictly after everything written so far (server timestamps have ms)."""
    time.sleep(1.05)
    return int(time.time())


def test_from_date_added_modified_and_deleted(api) -> None:
    old_keep, old_edit, old_gone = (
        api.upload(manual_run(f"2023-0{m}-01T07:00:00+00:00", km=m, seconds=600)) for m in (1, 2, 3)
    )
    cutoff = _wait_next_second()
    assert api.get("/v1/my/activities/search/ids", params={"fromDate": cutoff}).json() == []
    new = api.upload(manual_run("2022-06-01T07:00:00+00:00", km=9, seconds=900))  # old start, added now
    assert api.patch_json(f"/v1/my/activities/{old_edit}", {"notes": "edited"}).status_code == 200
    assert api.delete(f"/v1/my/activities/{old_gone}").status_code == 204

    changed = api.get("/v1/my/activities/search/ids", params={"fromDate": cutoff}).json()
    assert changed == [old_edit, new]  # newest start first; the deleted run is not listed
    assert api.get("/v1/my/activities/search/ids", params={"fromDateUTC": cutoff}).json() == changed
    briefs = api.get("/v1/my/activities/search/briefs", params={"fromDate": cutoff, "count": 1}).json()
    assert [b["activityId"] for b in briefs] == [old_edit]
    assert api.get("/v1/my/activities/search/deleted", params={"fromDate": cutoff}).json() == [old_gone]
    assert old_keep not in changed
    everything = api.get("/v1/my/activities/search/ids", params={"fromDate": 0}).json()
    assert set(everything) == {old_keep, old_edit, new}


def test_bad_paging_parameters_are_400(api) -> None:
    for params in ({"page": -1}, {"count": 0}, {"count": "ten"}, {"fromDate": "yesterday"}, {"count": 100000}):
        r = api.get("/v1/my/activities/search", params=params)
        assert r.status_code == 400, params
        assert r.json()["error"] == "invalid_request"
