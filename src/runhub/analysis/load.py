"""Runalyze's calculations panel (algorithms.md sections 9-11): effective VO2max, VDOT, marathon
shape, TRIMP, ATL/CTL/TSB, monotony and strain, race predictions, CP/W' and CS/D'.

Choices, stated once:
* TRIMP is integrated per bpm over the stored heart-rate time histogram (Runalyze), never from
  the average HR (GoldenCheetah's Jensen-biased form). Sex factors: male A 0.64 B 1.92, female
  A 0.86 B 1.67 (the classic Banister constants; Runalyze's own 0.821776 is offered as
  `female_runalyze`), unknown A 0.725215 B 1.795.
* ATL/CTL: X_d = X_{d-1} + lambda (L_d - X_{d-1}) with lambda = 2 / (N + 1), N = 7 (ATL) and
  42 (CTL) days, Runalyze's TsbModel; TSB = CTL - ATL on the same day.
* The athlete's VO2max ("VO2max form", Runalyze Shape.php): the duration-weighted mean of the
  per-run values from heart rate and pace over the last 30 days, times the corrector (the best
  by-time / by-HR ratio among the 3 fastest races, LegacyEffectiveVO2maxCorrector); elevation
  correction off by default (Runalyze's VO2MAX_USE_CORRECTION_FOR_ELEVATION), 2 / -1 when on.
* Race predictions: Jack Daniels' VDOT model (solve VDOT(d, t) = V by bisection), with V the
  athlete's VO2max shape; Cameron and Riegel (exponent 1.06) offered as alternatives.
* CP/W' (and CS/D'): the 2-parameter model fitted by linear regression of work on time over
  the 2-20 min mean-max points (closed form, no optimiser). W' balance: Skiba 2012 integral
  (O(n) recurrence) or the Froncioni/Skiba/Clarke differential form.
* Banister impulse-response: Runalyze's defaults (tau 42/7 days, k 1/2, p0 0), decay e^(-1/tau).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

from runhub.jit import kernel

TRIMP_FACTORS = {
    "male": (0.64, 1.92),
    "female": (0.86, 1.67),
    "female_runalyze": (0.821776, 1.67),
    None: (0.725215, 1.795),
}
ATL_DAYS, CTL_DAYS = 7, 42
VO2MAX_SHAPE_DAYS = 30


# ---- TRIMP ----------------------------------------------------------------------------


def trimp(hr_hist: np.ndarray, hr_max: float, hr_rest: float, sex: str | None = None) -> float:
    """Banister TRIMP summed over a time-per-bpm histogram (index = bpm, value = seconds)."""
    a, b = TRIMP_FACTORS.get(sex, TRIMP_FACTORS[None])
    bpm = np.arange(len(hr_hist), dtype=float)
    x = np.clip((bpm - hr_rest) / (hr_max - hr_rest), 0.0, None)
    return float((np.asarray(hr_hist) / 60.0 * x * a * np.exp(b * x)).sum())


# ---- VO2max / VDOT --------------------------------------------------------------------


def vo2_cost(v: float, b: float = 0.182258) -> float:
    """Oxygen cost (ml/kg/min) of running at v m/min (Daniels & Gilbert)."""
    return -4.60 + b * v + 0.000104 * v * v


def fraction_sustainable(minutes: float) -> float:
    return 0.8 + 0.1894393 * math.exp(-0.012778 * minutes) + 0.2989558 * math.exp(-0.1932605 * minutes)


def vdot(distance_m: float, seconds: float) -> float:
    """Daniels' VDOT of a race result."""
    minutes = seconds / 60.0
    return vo2_cost(distance_m / minutes) / fraction_sustainable(minutes)


def vo2max_from_hr(distance_m: float, seconds: float, hr_avg: float, hr_max: float) -> float:
    """Runalyze's effective VO2max from pace and heart rate (VO2maxCalculator)."""
    v = distance_m / (seconds / 60.0)
    pct = math.exp((hr_avg / hr_max - 1.00466) / 0.68725)
    v100 = v / pct
    return max(0.0, vo2_cost(v100, 0.182253))


def vo2max_shape(values: Sequence[tuple[float, float]], corrector: float = 1.0) -> float | None:
    """Duration-weighted mean of (vo2max, duration s) of the last 30 days' runs, times corrector."""
    vs = [(v, d) for v, d in values if v > 0 and d > 0]
    if not vs:
        return None
    return corrector * sum(v * d for v, d in vs) / sum(d for _, d in vs)


# ---- the athlete's rolling VO2max (Runalyze "VO2max form") ------------------------------

VO2MAX_CORRECTOR_RACES = 3  # LegacyEffectiveVO2maxCorrector::DB_LOOKUP_LIMIT
ELEVATION_UP_FACTOR, ELEVATION_DOWN_FACTOR = 2.0, -1.0  # Peter Greif, Runalyze's defaults


@dataclass
class Vo2maxRun:
    """What the rolling VO2max needs of one run: all of it is in the stored `facts` product."""

    when: datetime  # start (local or UTC, but the same for every run and for `on`)
    distance: float  # m
    duration: float  # s, timer time (pauses excluded: Runalyze's duration)
    heart_rate_average: float | None
    is_race: bool = False
    elevation_up: float = 0.0  # m
    elevation_down: float = 0.0  # m


def run_from_facts(facts: dict[str, Any]) -> Vo2maxRun | None:
    """A Vo2maxRun out of an activity's stored `facts` product (None without distance/time)."""
    distance, duration = facts.get("distance"), facts.get("timer_time") or facts.get("elapsed_time")
    if not distance or not duration or not facts.get("local_start"):
        return None
    return Vo2maxRun(
        when=datetime.fromisoformat(facts["local_start"]),
        distance=float(distance),
        duration=float(duration),
        heart_rate_average=facts.get("heart_rate_average"),
        is_race=bool(facts.get("is_race")),
        elevation_up=float(facts.get("elevation_gain") or 0.0),
        elevation_down=float(facts.get("elevation_loss") or 0.0),
    )


def run_vo2max_by_hr(run: Vo2maxRun, hr_max: float, *, elevation: bool = False) -> float | None:
    """Effective VO2max of one run from pace and average heart rate (Runalyze), optionally with
    the elevation correction: distance + 2 x ascent - 1 x descent."""
    if not run.heart_rate_average or run.heart_rate_average <= 0 or run.duration <= 0 or run.distance <= 0:
        return None
    d = run.distance
    if elevation:
        d += ELEVATION_UP_FACTOR * run.elevation_up + ELEVATION_DOWN_FACTOR * run.elevation_down
    return vo2max_from_hr(d, run.duration, run.heart_rate_average, hr_max)


def run_vo2max_by_time(run: Vo2maxRun) -> float | None:
    """Daniels' VDOT of the run as a race (Runalyze: only for 50 <= v <= 1000 m/min)."""
    if run.duration <= 0:
        return None
    v = run.distance / (run.duration / 60.0)
    return vdot(run.distance, run.duration) if 50.0 <= v <= 1000.0 else None


def vo2max_corrector(runs: Sequence[Vo2maxRun], hr_max: float, limit: int = VO2MAX_CORRECTOR_RACES) -> float:
    """Runalyze's correction factor: among the races with a heart-rate value, the `limit` best by
    time; the largest ratio VO2max-by-time / VO2max-by-heart-rate (no elevation correction);
    1.0 without races."""
    pairs = []
    for r in runs:
        if not r.is_race:
            continue
        by_hr, by_time = run_vo2max_by_hr(r, hr_max), run_vo2max_by_time(r)
        if by_hr and by_hr > 0 and by_time:
            pairs.append((by_time, by_time / by_hr))
    pairs.sort(key=lambda p: p[0], reverse=True)
    best = [ratio for _, ratio in pairs[:limit]]
    return max(best) if best and max(best) > 0 else 1.0


def athlete_vo2max(
    runs: Sequence[Vo2maxRun],
    hr_max: float,
    on: datetime,
    *,
    days: int = VO2MAX_SHAPE_DAYS,
    corrector: float | None = None,
    elevation: bool = False,
) -> float | None:
    """The athlete's VO2max on `on`: the duration-weighted mean of the per-run heart-rate values
    of the runs in (on - days, on], times the corrector (by default `vo2max_corrector` of the
    races up to `on`, so a historical value never uses a later race). None without such runs."""
    start = on - timedelta(days=days)
    window = [r for r in runs if start < r.when <= on]
    values = [(run_vo2max_by_hr(r, hr_max, elevation=elevation) or 0.0, r.duration) for r in window]
    if corrector is None:
        corrector = vo2max_corrector([r for r in runs if r.when <= on], hr_max)
    return vo2max_shape(values, corrector)


def rolling_vo2max(
    runs: Sequence[Vo2maxRun], hr_max: float, dates: Sequence[date], **kwargs: Any
) -> list[float | None]:
    """athlete_vo2max at the end of each date (a chart's series)."""
    return [athlete_vo2max(runs, hr_max, datetime.combine(d, time.max), **kwargs) for d in dates]


def predict_daniels(distance_m: float, v: float) -> float:
    """Race time (s) at which VDOT(distance, t) = v, by bisection on [2, 10] min/km."""
    km = distance_m / 1000.0
    lo, hi = 2 * 60 * km, 10 * 60 * km
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if vdot(distance_m, mid) > v:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def predict_cameron(d1: float, t1: float, d2: float) -> float:
    def f(m: float) -> float:
        return 13.49681 - 0.000030363 * m + 835.7114 / m**0.7905

    return t1 * (d2 / d1) * f(d1) / f(d2)


def predict_riegel(d1: float, t1: float, d2: float, exponent: float = 1.06) -> float:
    return t1 * (d2 / d1) ** exponent


# ---- marathon shape ---------------------------------------------------------------------


def marathon_targets(v: float, days: float = 7.0) -> tuple[float, float]:
    """(target km per `days`, target long run km) for a VO2max shape V (Runalyze MarathonShape)."""
    v = max(v, 25.0)
    return v**1.135 * days / 7.0, 12.0 * math.log(v / 4.0)


def marathon_shape(
    v: float,
    km_last_days: float,
    long_runs: Sequence[tuple[float, float]],
    days_since_first: float,
    weekly_weight: float = 0.67,
    long_weight: float = 0.33,
) -> int:
    """Marathon shape in percent. `long_runs`: (distance km, days ago) of runs in the last 70 days."""
    target_week, target_long = marathon_targets(v)
    n = min(max(days_since_first, 70.0), 182.0)
    weekly = km_last_days * 7.0 / n / target_week
    points = 0.0
    for d, ago in long_runs:
        if d > 13 and ago < 70:
            points += (2 - (2 / 70) * math.floor(ago)) * ((d - 13) / (target_long - 13)) ** 2
    long_part = points * 7.0 / 70.0
    return round(100 * (weekly_weight * weekly + long_weight * long_part))


def shape_from_parts(weekly_part: float, long_part: float, weekly_weight: float, long_weight: float) -> int:
    return round(100 * (weekly_weight * weekly_part + long_weight * long_part))


# ---- ATL / CTL / TSB, monotony ----------------------------------------------------------


@dataclass
class Performance:
    atl: np.ndarray
    ctl: np.ndarray
    tsb: np.ndarray


def ewma(loads: Sequence[float], days: int, start: float = 0.0) -> np.ndarray:
    lam = 2.0 / (days + 1.0)
    out = np.empty(len(loads))
    x = start
    for i, load in enumerate(loads):
        x = x + lam * (load - x)
        out[i] = x
    return out


def tsb_model(daily_loads: Sequence[float], atl_days: int = ATL_DAYS, ctl_days: int = CTL_DAYS) -> Performance:
    """ATL, CTL and TSB (= CTL - ATL) for consecutive daily loads (missing days are 0)."""
    atl = ewma(daily_loads, atl_days)
    ctl = ewma(daily_loads, ctl_days)
    return Performance(atl, ctl, ctl - atl)


def rest_days(
    atl: float, ctl: float, atl_days: int = ATL_DAYS, ctl_days: int = CTL_DAYS, rounded: bool = True
) -> float:
    """Days without training until TSB reaches 0 (Runalyze TsbModel). Runalyze works on the
    whole-number ATL/CTL it displays (`rounded`), which its reference values reflect."""
    la, lc = 2.0 / (atl_days + 1), 2.0 / (ctl_days + 1)
    if rounded:
        atl, ctl = float(round(atl)), float(round(ctl))
    if atl <= 0 or ctl >= atl:
        return 0.0
    return max(0.0, math.log(max(ctl, 1.0) / atl) / math.log((1 - la) / (1 - lc)))


def monotony(last7: Sequence[float]) -> float:
    """Mean / population std of the last 7 daily loads, capped at 10 (10 when constant)."""
    x = np.zeros(7)
    vals = np.asarray(list(last7)[-7:], dtype=float)
    x[7 - len(vals) :] = vals
    sd = x.std()
    if sd == 0:
        return 10.0
    return float(min(x.mean() / sd, 10.0))


def training_strain(last7: Sequence[float]) -> float:
    return float(sum(list(last7)[-7:]) * monotony(last7))


# ---- critical power / speed -------------------------------------------------------------


def critical_power(durations: np.ndarray, values: np.ndarray, lo: float = 120, hi: float = 1200) -> dict | None:
    """CP and W' (or CS and D') by linear regression of work (value x t) on t over [lo, hi] s."""
    d = np.asarray(durations, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = (d >= lo) & (d <= hi) & np.isfinite(v)
    if ok.sum() < 2 or len(np.unique(d[ok])) < 2:
        return None
    t, work = d[ok], v[ok] * d[ok]
    slope, intercept = np.polyfit(t, work, 1)
    pred = slope * t + intercept
    ss = ((work - work.mean()) ** 2).sum()
    r2 = 1 - ((work - pred) ** 2).sum() / ss if ss > 0 else 1.0
    return {"cp": float(slope), "w_prime": float(intercept), "r2": float(r2), "points": int(ok.sum())}


# ---- W' balance -------------------------------------------------------------------------


def _intervals(t: np.ndarray | None, n: int) -> np.ndarray:
    """Seconds each sample stands for (project convention: backward, the first sample none);
    without a time axis every sample is one second after a virtual start."""
    if t is None:
        return np.ones(n)
    t = np.asarray(t, dtype=float)
    return np.concatenate(([0.0], np.diff(t)))


def skiba_tau(power: np.ndarray, cp: float, t: np.ndarray | None = None, until: int | None = None) -> float:
    """Skiba (2012) recovery time constant: 546 e^(-0.01 D_CP) + 316 s, where D_CP = CP minus
    the time-weighted mean of the power below CP (over the first `until` samples if given)."""
    p = np.nan_to_num(np.asarray(power, dtype=float), nan=0.0)
    w = _intervals(t, len(p))
    if until is not None:
        p, w = p[:until], w[:until]
    below = (p < cp) & (w > 0)
    if not below.any():
        return 546.0 + 316.0
    d_cp = cp - float((p[below] * w[below]).sum() / w[below].sum())
    return 546.0 * math.exp(-0.01 * d_cp) + 316.0


def w_prime_balance(
    power: np.ndarray,
    cp: float,
    w_prime: float,
    t: np.ndarray | None = None,
    *,
    method: str = "skiba",
    tau: float | None = None,
) -> np.ndarray:
    """W' balance (J) after each sample (algorithms.md 9.4). NaN power counts as 0 W.

    * "skiba": Skiba 2012 integral, W'bal(t) = W' - sum_u W'exp(u) e^(-(t-u)/tau) with
      W'exp(u) = max(0, P(u) - CP) dt_u, evaluated as the first-order recurrence
      I_t = I_{t-1} e^(-dt/tau) + W'exp(t): O(n), no e^(t/tau) overflow on long rides (the
      Waterworth form). `tau` defaults to `skiba_tau` of the whole series. A pause is time at
      0 W: the balance recovers across it.
    * "froncioni": the differential form of Froncioni, Skiba and Clarke (2015): below CP
      W += (CP - P) dt (W' - W) / W', else W += (CP - P) dt; the recovery step is capped at
      the remaining deficit so a long pause cannot overshoot W'.

    `t` is the clock of each sample (backward convention: sample i covers (t_{i-1}, t_i]); without
    it each sample is one second."""
    p = np.nan_to_num(np.asarray(power, dtype=float), nan=0.0)
    dt = _intervals(t, len(p))
    if method == "froncioni":
        out = np.empty(len(p))
        w = w_prime
        for i, (pi, di) in enumerate(zip(p.tolist(), dt.tolist(), strict=True)):
            if pi < cp:
                w += min(1.0, (cp - pi) * di / w_prime) * (w_prime - w)
            else:
                w += (cp - pi) * di
            out[i] = w
        return out
    if method != "skiba":
        raise ValueError(f"unknown W' balance method {method!r} (skiba, froncioni)")
    tau = skiba_tau(p, cp, t) if tau is None else tau
    spent = np.maximum(p - cp, 0.0) * dt
    return w_prime - _decayed_sums(spent, dt, float(tau))  # the decay into sample i uses dt_i


@kernel
def _decayed_sums(x: np.ndarray, dt: np.ndarray, tau: float) -> np.ndarray:
    """y_i = x_i + e^(-dt_i / tau) y_(i-1), from y = 0: the first-order recurrence of Skiba's W'
    balance and of Banister's model. The arithmetic of scipy.signal.lfilter([1], [1, -e^(-dt/tau)])
    for a constant dt (the same bits), compiled here: lfilter was runhub's only use of scipy, and
    numba imports scipy.linalg wherever scipy is installed: 0.27 s more for the first kernel of every
    process (1.09 -> 0.82 s), `runhub import` of one file included."""
    out = np.empty(len(x))
    acc = 0.0
    for i in range(len(x)):
        acc = x[i] + math.exp(-dt[i] / tau) * acc
        out[i] = acc
    return out


# ---- Banister impulse-response ----------------------------------------------------------


@dataclass
class Banister:
    fitness: np.ndarray
    fatigue: np.ndarray
    performance: np.ndarray


def banister(
    daily_loads: Sequence[float],
    tau1: float = 42.0,
    tau2: float = 7.0,
    k1: float = 1.0,
    k2: float = 2.0,
    p0: float = 0.0,
) -> Banister:
    """Banister impulse-response model on consecutive daily loads (missing days 0):
    fitness_d = L_d + e^(-1/tau1) fitness_{d-1}, fatigue likewise with tau2, performance =
    p0 + k1 fitness - k2 fatigue. Defaults are Runalyze's BanisterModel (42, 7, 1, 2, 0);
    GoldenCheetah uses tau 50/11 and fits k1, k2, p0 to tests."""
    loads = np.asarray(list(daily_loads), dtype=float)
    days = np.ones(len(loads))
    fit = _decayed_sums(loads, days, float(tau1))
    fat = _decayed_sums(loads, days, float(tau2))
    return Banister(fit, fat, p0 + k1 * fit - k2 * fat)
