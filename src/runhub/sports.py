"""The one sport taxonomy and its mappings to every dialect and file format.

Internal codes follow the Open Sport Taxonomy style (`running.trail`, `cycling.road`); each row
maps to Smashrun's activityType, Strava's type and sport_type, FIT sport/sub_sport and
SweatStack's sport name. Lookups in the other direction fall back to the parent sport.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sport:
    code: str
    strava_type: str
    strava_sport_type: str
    fit_sport: str
    fit_sub_sport: str | None
    smashrun: str | None  # Smashrun accepts running only; None: not representable there
    sweatstack: str


SPORTS: tuple[Sport, ...] = (
    Sport("running", "Run", "Run", "running", None, "running", "running"),
    Sport("running.road", "Run", "Run", "running", "street", "running", "running.road"),
    Sport("running.trail", "Run", "TrailRun", "running", "trail", "running", "running.trail"),
    Sport("running.track", "Run", "Run", "running", "track", "running", "running.track"),
    Sport("running.treadmill", "Run", "Run", "running", "treadmill", "running", "running.treadmill"),
    Sport("running.virtual", "VirtualRun", "VirtualRun", "running", "virtual_activity", "running", "running"),
    Sport("cycling", "Ride", "Ride", "cycling", None, None, "cycling"),
    Sport("cycling.road", "Ride", "Ride", "cycling", "road", None, "cycling.road"),
    Sport("cycling.mountainbike", "Ride", "MountainBikeRide", "cycling", "mountain", None, "cycling.mountainbike"),
    Sport("cycling.gravel", "Ride", "GravelRide", "cycling", "gravel_cycling", None, "cycling.gravel"),
    Sport("cycling.trainer", "Ride", "Ride", "cycling", "indoor_cycling", None, "cycling.trainer"),
    Sport("cycling.virtual", "VirtualRide", "VirtualRide", "cycling", "virtual_activity", None, "cycling.trainer"),
    Sport("cycling.ebike", "EBikeRide", "EBikeRide", "e_biking", None, None, "cycling"),
    Sport("swimming", "Swim", "Swim", "swimming", None, None, "swimming"),
    Sport("swimming.pool", "Swim", "Swim", "swimming", "lap_swimming", None, "swimming.pool"),
    Sport("swimming.open_water", "Swim", "Swim", "swimming", "open_water", None, "swimming.open_water"),
    Sport("walking", "Walk", "Walk", "walking", None, None, "walking"),
    Sport("hiking", "Hike", "Hike", "hiking", None, None, "walking.hiking"),
    Sport("rowing", "Rowing", "Rowing", "rowing", None, None, "rowing"),
    Sport("rowing.indoor", "Rowing", "Rowing", "rowing", "indoor_rowing", None, "rowing.ergometer"),
    Sport("skiing.cross_country", "NordicSki", "NordicSki", "cross_country_skiing", None, None, "cross_country_skiing"),
    Sport("skiing.alpine", "AlpineSki", "AlpineSki", "alpine_skiing", None, None, "generic"),
    Sport("multisport", "Workout", "Workout", "multisport", None, None, "generic"),
    Sport("generic", "Workout", "Workout", "generic", None, None, "generic"),
)

BY_CODE: dict[str, Sport] = {s.code: s for s in SPORTS}
DEFAULT = BY_CODE["generic"]


class UnknownSport(ValueError):
    """A sport name no mapping knows."""


def get(code: str) -> Sport:
    """The row for an internal code; a sub-sport not in the table falls back to its parent."""
    while code:
        if code in BY_CODE:
            return BY_CODE[code]
        code = code.rpartition(".")[0]
    return DEFAULT


# The fastest a body moves in each sport family (m/s): a GPS step faster than this is a jump of
# the fix, not a distance run (algorithms.md section 13: "reject jumps implying > sport max
# speed"). Set above every record so that only glitches pass it: running (and what may hold a
# stretch of it: walking, hiking) Bolt's 12.4 m/s; swimming and rowing far below it; cycling
# and cross-country skiing the fastest road descents (~36 m/s). None: no bound (alpine skiing's
# speed records, a motor, a sport not said). A best effort's average has its own, lower bound
# (best_efforts.SPEED_CEILING): no one holds 12.5 m/s over 400 m.
MAX_SPEEDS: dict[str, float] = {
    "running": 12.5,
    "walking": 12.5,
    "hiking": 12.5,
    "swimming": 12.5,
    "rowing": 12.5,
    "cycling": 40.0,
    "skiing.cross_country": 40.0,
}


def max_speed(code: str) -> float | None:
    """The sport's bound on speed (MAX_SPEEDS), by its own code or its family's; None: no bound."""
    return MAX_SPEEDS.get(code) or MAX_SPEEDS.get(code.split(".")[0])


def is_running(code: str) -> bool:
    return code == "running" or code.startswith("running.")


# FIT sport/sub_sport pairs that name a sport of the table under another FIT sport (read only;
# writing uses the table's own row).
FIT_ALIASES: dict[tuple[str, str | None], str] = {
    ("fitness_equipment", "indoor_rowing"): "rowing.indoor",
    ("fitness_equipment", "indoor_cycling"): "cycling.trainer",
    ("fitness_equipment", "treadmill"): "running.treadmill",
    ("cycling", "spin"): "cycling.trainer",
    ("running", "indoor_running"): "running.treadmill",
    ("walking", "indoor_walking"): "walking",
    ("hiking", None): "hiking",
}


def from_fit(sport: str | None, sub_sport: str | None) -> str:
    sport = (sport or "generic").lower()
    sub = (sub_sport or "").lower() or None
    if (sport, sub) in FIT_ALIASES:
        return FIT_ALIASES[(sport, sub)]
    if sub and sub != "generic":
        for s in SPORTS:
            if s.fit_sport == sport and s.fit_sub_sport == sub:
                return s.code
    for s in SPORTS:
        if s.fit_sport == sport and s.fit_sub_sport is None:
            return s.code
    return "generic"


def from_strava(sport_type: str) -> str:
    for s in SPORTS:
        if s.strava_sport_type.lower() == sport_type.lower():
            return s.code
    for s in SPORTS:
        if s.strava_type.lower() == sport_type.lower():
            return s.code
    raise UnknownSport(f"unknown Strava sport type {sport_type!r}")


def from_smashrun(activity_type: str) -> str:
    if activity_type.lower() == "running":
        return "running"
    raise UnknownSport(f"activityType {activity_type!r}: Smashrun accepts only 'running'")


# other spellings of sports (from_name)
_ALIASES: dict[str, str] = {
    "run": "running",
    "ride": "cycling",
    "bike": "cycling",
    "biking": "cycling",
    "swim": "swimming",
    "walk": "walking",
    "hike": "hiking",
    "row": "rowing",
    "trail_running": "running.trail",
    "treadmill": "running.treadmill",
    "indoor_cycling": "cycling.trainer",
    # the type names GPX files carry: Garmin Connect's activity type keys, Komoot's sports,
    # OpenTracks' categories (spaces read as underscores)
    "jogging": "running",
    "street_running": "running.road",
    "track_running": "running.track",
    "treadmill_running": "running.treadmill",
    "virtual_run": "running.virtual",
    "road_biking": "cycling.road",
    "road_cycling": "cycling.road",
    "racebike": "cycling.road",
    "touringbicycle": "cycling",
    "mountain_biking": "cycling.mountainbike",
    "mtb": "cycling.mountainbike",
    "mtb_easy": "cycling.mountainbike",
    "mtb_advanced": "cycling.mountainbike",
    "gravel_cycling": "cycling.gravel",
    "virtual_ride": "cycling.virtual",
    "e_bike": "cycling.ebike",
    "e_bike_fitness": "cycling.ebike",
    "e_racebike": "cycling.ebike",
    "e_touringbicycle": "cycling.ebike",
    "e_mtb": "cycling.ebike",
    "lap_swimming": "swimming.pool",
    "pool_swimming": "swimming.pool",
    "open_water_swimming": "swimming.open_water",
    "casual_walking": "walking",
    "speed_walking": "walking",
    "indoor_rowing": "rowing.indoor",
}


def from_name(name: str) -> str:
    """Any spelling a user, a CSV column or a SweatStack client may use."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key in BY_CODE:
        return key
    for s in SPORTS:
        if s.sweatstack == key:
            return s.code
    for s in SPORTS:
        if key in (s.strava_sport_type.lower(), s.strava_type.lower()):
            return s.code
    for s in SPORTS:
        if key == s.fit_sport:
            return s.code
    if key in _ALIASES:
        return _ALIASES[key]
    raise UnknownSport(f"unknown sport {name!r}")
