"""Unit conversions at the edges. Inside runhub everything is SI (m, s, m/s, kg, degC)."""

from __future__ import annotations

from decimal import Decimal

METERS_PER_KM = 1000.0
METERS_PER_MILE = 1609.344
KMH_PER_MS = 3.6
POUNDS_PER_KG = 2.2046226218487757
FEET_PER_METER = 3.280839895013123


def km_to_m(km: float) -> float:
    return km * METERS_PER_KM


def m_to_km(m: float) -> float:
    return m / METERS_PER_KM


def ms_to_kmh(ms: float) -> float:
    return ms * KMH_PER_MS


def kmh_to_ms(kmh: float) -> float:
    return kmh / KMH_PER_MS


def c_to_f(c: float) -> float:
    return c * 9.0 / 5.0 + 32.0


def decimal_shift(value: float | Decimal | str, places: int) -> Decimal:
    """Multiply by 10**places in decimal, exactly: `repr` of a float is its shortest exact
    decimal, and moving the point loses nothing, so m -> km -> m is bit-exact (a binary
    division by 1000 is not: about 1.4 % of values come back one ulp off)."""
    d = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    return d.scaleb(places)


def pace_string(seconds_per_km: float) -> str:
    """'m:ss' with rounding carried into the minutes (never '4:60')."""
    total = int(round(seconds_per_km))
    return f"{total // 60}:{total % 60:02d}"
