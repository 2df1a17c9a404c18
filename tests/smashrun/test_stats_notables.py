"""Stats (all time, year, month, and smashrun-client's /stats/{year}/{year}) and notables, with
expected values computed by hand from the runs below (local dates and times)."""

from __future__ import annotations

import pytest
from tests.smashrun.conftest import manual_run

MAY = [  # local start, km, seconds: speeds 12, 12, 10, 12, 12 km/h
    ("2024-05-01T07:00:00+02:00", 10, 3000),  # Wednesday AM
    ("2024-05-02T18:00:00+02:00", 5, 1500),  # Thursday PM
    ("2024-05-03T08:00:00-07:00", 5, 1800),  # Friday AM (15:00 UTC)
    ("2024-05-03T19:00:00-07:00", 2, 600),  # Friday PM (4 May in UTC, still 3 May locally)
    ("2024-05-10T07:00:00+02:00", 8, 2400),  # Friday AM
]
JUNE = ("2024-06-01T09:00:00+02:00", 12, 3600)


@pytest.fixture
def runner(api):
    for start, km, sec in [*MAY, JUNE]:
        api.upload(manual_run(start, km=km, seconds=sec))
    return api


def test_month_stats(runner) -> None:
    s = runner.get("/v1/my/stats/2024/5").json()
    assert s["runCount"] == 5 and s["totalDistance"] == pytest.approx(30)
    assert s["averageSpeed"] == pytest.approx(350 / 30)  # distance-weighted km/h
    assert s["averagePace"] == "5:09"  # 3600 / 11.667 = 308.6 s per km
    assert s["longestRun"] == 10 and s["longestRunWhen"] == "2024-05-01"
    assert s["longestStreak"] == 3 and s["longestStreakDate"] == "2024-05-01"
    assert s["longestBreakBetweenRuns"] == 6 and s["longestBreakBetweenRunsDate"] == "2024-05-04"
    assert (s["daysRunAM"], s["daysRunPM"], s["daysRunBoth"]) == (3, 2, 1)
    assert s["averageRunLength"] == pytest.approx(6)
    assert s["averageDistancePerDay"] == pytest.approx(30 / 31)
    assert s["averageDaysRunPerWeek"] == pytest.approx(4 / 31 * 7)
    assert (s["mostOftenRunOnDay"], s["mostOftenRunOnCount"]) == ("Friday", 3)
    assert s["mostOftenRunOnAverageDistance"] == pytest.approx(5)
    assert (s["leastOftenRunOnDay"], s["leastOftenRunOnCount"]) == ("Monday", 0)


def test_year_and_all_time_stats(runner) -> None:
    year = runner.get("/v1/my/stats/2024").json()
    assert year["runCount"] == 6 and year["totalDistance"] == pytest.approx(42)
    assert year["longestRun"] == 12 and year["longestRunWhen"] == "2024-06-01"
    everything = runner.get("/v1/my/stats").json()
    assert everything["runCount"] == 6 and everything["totalDistance"] == pytest.approx(42)
    assert list(everything)[:4] == ["runCount", "totalDistance", "averageSpeed", "averagePace"]
    empty = runner.get("/v1/my/stats/2019").json()
    assert empty["runCount"] == 0 and empty["totalDistance"] == 0 and empty["longestRun"] is None


def test_smashrun_client_year_year_path(runner, new_api) -> None:
    r = runner.get("/v1/my/stats/2024/2024")  # runs in May and June: which month is meant?
    assert r.status_code == 400 and r.json()["error"] == "ambiguous_month"
    assert "/stats/2024/<month" in r.json()["message"]
    one_month = new_api()
    for start, km, sec in MAY:
        one_month.upload(manual_run(start, km=km, seconds=sec))
    assert one_month.get("/v1/my/stats/2024/2024").json() == one_month.get("/v1/my/stats/2024/5").json()
    assert runner.get("/v1/my/stats/2024/13").status_code == 400


def test_notables_longest_run_ever(api) -> None:
    for day, km in (("01", 5), ("03", 6), ("05", 7)):
        api.upload(manual_run(f"2024-04-{day}T07:00:00+00:00", km=km, seconds=km * 300))
    aid = api.upload(manual_run("2024-04-07T07:00:00+00:00", km=10, seconds=3000))
    notables = api.get(f"/v1/my/activities/{aid}/notables").json()
    by_code = {n["reasonCode"]: n for n in notables}
    longest = by_code["distance"]
    assert longest["period"] == 99 and longest["value"] == 10 and longest["previousBest"] == 7
    assert longest["description"] and set(longest) == {
        "description",
        "reasonCode",
        "period",
        "supportingValue",
        "isImperial",
        "value",
        "previousBest",
    }
    first = api.get("/v1/my/activities/search/ids").json()[-1]
    assert api.get(f"/v1/my/activities/{first}/notables").json() == []  # nothing before it
