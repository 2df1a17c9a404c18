"""One canonical scope table (`resource:action`) and the alias table that maps every dialect's
scope names onto it.

Endpoints declare canonical scopes only (`require_scope("activity:read")`). Clients ask for
whatever names their API family uses (Smashrun `read_activity`, Strava `read,activity:read`,
SweatStack `openid profile activities:read`, Runalyze `activity_push`); the token keeps the
names as requested (so the token response can echo them, which oauthlib insists on) and the
canonical expansion used for every check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# canonical scope -> what the consent page says
CANONICAL: dict[str, str] = {
    "activity:read": "Read your activities",
    "activity:read_all": "Read all your activities, including private ones",
    "activity:write": "Upload and replace activities",
    "activity:patch": "Edit your activities (notes, names, times)",
    "activity:delete": "Delete your activities",
    "body:read": "Read your body measurements (weight)",
    "body:write": "Record body measurements (weight)",
    "health:read": "Read your health metrics (heart rate variability, sleep, resting heart rate)",
    "health:write": "Record health metrics",
    "profile:read": "Read your profile (name, units, settings)",
    "profile:read_all": "Read your whole profile, including private fields",
    "profile:write": "Change your profile and settings",
    "profile:email": "See your email address",
    "openid": "Know who you are (your user id)",
    "offline_access": "Keep access while you are away (refresh tokens)",
}

# A wider canonical scope includes narrower ones.
IMPLIES: dict[str, frozenset[str]] = {
    "activity:read_all": frozenset({"activity:read"}),
    "activity:write": frozenset({"activity:patch"}),
    "profile:read_all": frozenset({"profile:read"}),
}

_SMASHRUN_READ = frozenset({"activity:read", "activity:read_all", "body:read", "profile:read"})
_SMASHRUN_WRITE = frozenset({"activity:write", "activity:patch", "activity:delete", "body:write"})

# dialect name -> canonical scopes. Names equal to a canonical scope mean exactly that scope.
ALIASES: dict[str, frozenset[str]] = {
    # Smashrun (seeds/smashrun-api.txt): two scopes; blank means both (see DEFAULT_SCOPE)
    "read_activity": _SMASHRUN_READ,
    "write_activity": _SMASHRUN_WRITE,
    # Strava (clients.md 1.3); activity:read, activity:read_all, activity:write, profile:write,
    # profile:read_all are canonical names already
    "read": frozenset({"profile:read"}),
    "read_all": frozenset({"profile:read"}),
    # SweatStack (clients.md 3.2)
    "data:read": frozenset({"activity:read", "activity:read_all", "body:read", "health:read", "profile:read"}),
    "data:write": frozenset({"activity:write", "activity:patch", "activity:delete", "body:write", "health:write"}),
    "activities:read": frozenset({"activity:read", "activity:read_all"}),
    "activities:write": frozenset({"activity:write", "activity:patch", "activity:delete"}),
    "wellness:read": frozenset({"body:read", "health:read"}),
    "wellness:write": frozenset({"body:write", "health:write"}),
    "profile": frozenset({"profile:read"}),
    "email": frozenset({"profile:email"}),
    # Runalyze (seeds/runalyze-new-api.txt): the old third-party names stay valid
    "activity_push": frozenset({"activity:write"}),
    "health_metrics_write": frozenset({"body:write", "health:write"}),
}

# What an empty scope parameter grants ("If you leave this field blank, we'll ask for
# permission to do everything" -- Smashrun). Clients may override it.
DEFAULT_SCOPE = "read_activity write_activity"

_SPLIT = re.compile(r"[\s,]+")


class UnknownScope(ValueError):
    """A requested scope name is in neither table."""


def split(scope: str | None) -> list[str]:
    """Scope names from a space- or comma-separated string, in order, without duplicates."""
    seen: dict[str, None] = {}
    for name in _SPLIT.split(scope or ""):
        if name:
            seen.setdefault(name, None)
    return list(seen)


def normalize(scope: str | None) -> str:
    """The space-separated form that RFC 6749 and oauthlib use."""
    return " ".join(split(scope))


def is_known(name: str) -> bool:
    return name in ALIASES or name in CANONICAL


def closure(canonical: Iterable[str]) -> frozenset[str]:
    out = set(canonical)
    for name in list(out):
        out |= IMPLIES.get(name, frozenset())
    return frozenset(out)


def expand(names: Iterable[str] | str | None) -> frozenset[str]:
    """Canonical scopes for the given dialect/canonical names; raises UnknownScope."""
    if names is None or isinstance(names, str):
        names = split(names)
    out: set[str] = set()
    for name in names:
        if name in ALIASES:
            out |= ALIASES[name]
        elif name in CANONICAL:
            out.add(name)
        else:
            raise UnknownScope(name)
    return closure(out)


def satisfies(granted: Iterable[str], needed: str) -> bool:
    return needed in closure(granted)


def describe(canonical: Iterable[str]) -> list[str]:
    """Plain words for the consent and connected-apps pages, widest first."""
    scopes = closure(canonical)
    implied = set().union(*(IMPLIES.get(s, frozenset()) for s in scopes)) if scopes else set()
    return [CANONICAL[s] for s in CANONICAL if s in scopes and s not in implied]


def supported() -> list[str]:
    """Every name a client may ask for (server metadata `scopes_supported`)."""
    return sorted(set(CANONICAL) | set(ALIASES))
