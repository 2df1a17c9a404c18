"""FIT writer: Activity -> bytes with the Garmin FIT SDK's Encoder (definitions, CRCs, scaling).

What FIT can hold, per channel (the resolution is the FIT profile's scale for the field):

    channel           FIT record field                 resolution
    latitude/longitude position_lat/long (sint32)      180/2^31 deg (semicircles)
    distance          distance (uint32, scale 100)     0.01 m
    altitude          enhanced_altitude (scale 5, -500) 0.2 m
    speed             enhanced_speed (scale 1000)      0.001 m/s
    heart_rate        heart_rate (uint8)               1 bpm
    cadence           cadence + fractional_cadence     1/128 rpm
    power             power (uint16)                   1 W
    temperature       temperature (sint8)              1 degC
    gps_accuracy      gps_accuracy (uint8)             1 m
    smo2              saturated_hemoglobin_percent     0.1 %
    core_temperature  core_temperature (scale 100)     0.01 degC
    respiration_rate  enhanced_respiration_rate        0.01 /min
    time              timestamp (uint32)               1 s
    rr_intervals      hrv time (uint16[5], scale 1000) 0.001 s (not a channel: its own series)
    pool_lengths      length messages                  1 s start/end, 0.001 s times, 0.001 m/s

Record timestamps are whole seconds: the start is written truncated to its second, each sample
at its time rounded to the nearest second, and a sample landing on a second already written is
dropped (the first sample of each second is kept), so sub-second sampling comes back at 1 Hz.
A channel named after another FIT record field (vertical_oscillation, stance_time, grade...) is
written to that field at its profile resolution; every other channel (form_power, satellites,
Stryd and other developer channels) goes as a float64 developer field under its own name, which
is lossless. A value a field cannot hold (a heart rate of 255 bpm or more, a cadence of 255 rpm
or more) is written as missing rather than wrapped. The `timer` channel is not written: FIT has
no such record field; it follows from the timer start/stop events written at each pause, whose
stop is placed, to the second, where the channel says the timer stopped within the interval.
Sessions: one per file (a multisport group is written as one file per activity).
"""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

from runhub import sports
from runhub.activity import Activity, Lap, timer_seconds
from runhub.formats import FIT_APPLICATION_ID, FormatError

FIT_EPOCH = 631065600
HRV_PER_MESSAGE = 5  # RR intervals in one hrv message (its time field: uint16[5], ms)
SEMICIRCLES_PER_DEG = 2**31 / 180.0

# canonical channel -> FIT record field (the decoder maps them back: fit.RECORD_CHANNELS, fit.ENHANCED)
RECORD_FIELDS: dict[str, str] = {
    "distance": "distance",
    "altitude": "enhanced_altitude",
    "speed": "enhanced_speed",
    "heart_rate": "heart_rate",
    "power": "power",
    "temperature": "temperature",
    "gps_accuracy": "gps_accuracy",
    "smo2": "saturated_hemoglobin_percent",
    "core_temperature": "core_temperature",
    "respiration_rate": "enhanced_respiration_rate",
}
# record fields a channel of the same name may not be written to: they are the canonical
# channels' own fields, or FIT components/arrays whose encoding is not one value per sample
_RESERVED = {"timestamp", "position_lat", "position_long", "altitude", "speed", "cadence", "fractional_cadence",
             "respiration_rate", "compressed_speed_distance", "speed_1s", "cycles", "compressed_accumulated_power",
             "left_power_phase", "left_power_phase_peak", "right_power_phase", "right_power_phase_peak",
             "left_right_balance", "activity_type", "stroke_type", "device_index"} | set(RECORD_FIELDS.values())
LAP_INTENSITY = {"general": "active", "work": "interval", "recovery": "recovery", "warmup": "warmup",
                 "cooldown": "cooldown"}
_DEV_FLOAT64 = 0x89  # FIT base type float64
_DEV_UINT32 = 0x86  # FIT base type uint32
_DEV_STRING = 0x07  # FIT base type string (UTF-8, NUL-terminated)
# the runhub activity a file is the export of, a developer field of the session (formats.EXPORT_OF)
EXPORT_FIELD = "runhub_activity_id"
# the run's title, a developer field of the session (FIT has no title of its own), which a field
# holds up to 254 bytes of UTF-8 (its size is one byte, the NUL included): a longer title is cut
# there, at a character
TITLE_FIELD = "runhub_title"
TITLE_BYTES = 254
# FIT length message field -> Activity.pool_lengths column (fit.py reads them so)
LENGTH_FIELDS = {"start_time": "start", "timestamp": "end", "total_elapsed_time": "elapsed",
                 "total_timer_time": "timer", "total_strokes": "strokes", "swim_stroke": "stroke",
                 "length_type": "active", "avg_swimming_cadence": "cadence", "avg_speed": "speed",
                 "total_calories": "calories"}
_LENGTH_INTEGERS = frozenset(("total_strokes", "swim_stroke", "length_type", "avg_swimming_cadence", "total_calories"))


def _profile() -> tuple[dict[str, int], dict[str, dict[str, Any]], dict[str, dict[int, str]]]:
    from garmin_fit_sdk import Profile

    nums = {v: k for k, v in Profile["types"]["mesg_num"].items()}
    record = {f["name"]: f for f in Profile["messages"][nums["record"]]["fields"].values()}
    return nums, record, Profile["types"]


def _enum(types: dict[str, dict[int, str]], type_name: str, value: Any) -> str | None:
    """`value` as a name of the FIT enum `type_name`, or None when the profile does not know it."""
    if value is None:
        return None
    name = str(value).strip().lower().replace(" ", "_")
    return name if name in types.get(type_name, {}).values() else None


def _device_fields(a: Activity, types: dict[str, dict[int, str]]) -> dict[str, Any]:
    """manufacturer/product from the decoded device fields ('garmin fenix5'), else `development`."""
    manu = _enum(types, "manufacturer", a.device_type)
    out: dict[str, Any] = {"manufacturer": manu or "development"}
    if manu is None and a.device_type and a.device_type.isdigit() and int(a.device_type) < 0xFFFF:
        out["manufacturer"] = int(a.device_type)  # a maker the profile has no name for, kept by number
    prod = None
    if a.device_name:
        prod = a.device_name
        if a.device_type and prod.lower().startswith(a.device_type.lower()):
            prod = prod[len(a.device_type):].strip()
    if prod:
        if prod.isdigit():
            out["product"] = int(prod)
        elif manu == "garmin" and _enum(types, "garmin_product", prod):
            # the SDK writes `product` as its uint16 base type, so the garmin_product name goes as its number
            name = _enum(types, "garmin_product", prod)
            out["product"] = next(k for k, v in types["garmin_product"].items() if v == name)
        else:
            out["product"] = 0
            out["product_name"] = prod[:60]
    else:
        out["product"] = 0
    serial = a.extras.get("fit_serial_number")
    if isinstance(serial, int) and 0 < serial < 2**32 - 1:
        out["serial_number"] = serial
    return out


def _software_version(v: str | None) -> float | None:
    try:
        x = float(v) if v is not None else None
    except ValueError:
        return None
    return x if x is not None and 0 <= x < 655 else None


_INT_RANGES = {"sint8": (-128, 126), "uint8": (0, 254), "sint16": (-32768, 32766), "uint16": (0, 65534),
               "sint32": (-2**31, 2**31 - 2), "uint32": (0, 2**32 - 2)}  # the top value is FIT's "invalid"


def _field_range(fp: dict[str, Any]) -> tuple[int, int, float, float] | None:
    """(lowest, highest raw value, scale, offset) of an integer field; None for any other."""
    rng = _INT_RANGES.get(fp["base_type"])
    if rng is None:
        return None
    one = len(fp["components"]) <= 1
    return rng[0], rng[1], fp["scale"][0] if one else 1, fp["offset"][0] if one else 0


def _representable(arr: np.ndarray, fp: dict[str, Any]) -> np.ndarray:
    """`arr` with values the field cannot hold (past its base type once scaled) made missing:
    writing them would wrap or turn into FIT's invalid value, and a wrong number is worse than none."""
    rng = _field_range(fp)
    if rng is None:
        return arr
    lo, hi, scale, offset = rng
    with np.errstate(invalid="ignore"):
        raw = np.round((arr + offset) * scale)
        bad = (raw < lo) | (raw > hi)
    return np.where(bad, np.nan, arr) if bad.any() else arr


def _written(arr: np.ndarray, fp: dict[str, Any]) -> np.ndarray:
    """`arr` as a record field takes it: `_representable`, and rounded to whole numbers where the
    field is an integer without a scale (heart_rate, power, temperature...): the Encoder takes
    int() of such a value, which would cut 99.99 bpm to 99 (a scaled field it rounds itself)."""
    arr = _representable(arr, fp)
    rng = _field_range(fp)
    return np.round(arr) if rng is not None and rng[2] == 1 and rng[3] == 0 else arr


def _held(msg: dict[str, Any], mesg_num: int) -> dict[str, Any]:
    """A lap or session message without the numbers its fields cannot hold, as `_representable`
    does for records: the Encoder masks an integer to its type's width, so a session of 75,949
    kcal (runhub accepts up to CALORIES_MAX) would read back as 10,413."""
    from garmin_fit_sdk import Profile

    fields = {f["name"]: f for f in Profile["messages"][mesg_num]["fields"].values()}
    out = {}
    for key, v in msg.items():
        fp = fields.get(key)
        rng = _field_range(fp) if fp is not None and type(v) in (int, float) else None
        if rng is not None:
            raw = (v + rng[3]) * rng[2]  # inf for a value past any float once scaled: not held either
            if math.isfinite(v) and not (math.isfinite(raw) and rng[0] <= round(raw) <= rng[1]):
                continue
        out[key] = v
    return out


def _whole_seconds(t: np.ndarray) -> np.ndarray:
    """Indexes of the samples kept: the first sample of each whole (rounded) second."""
    sec = np.round(t).astype(np.int64)
    keep = np.ones(len(sec), dtype=bool)
    if len(sec) > 1:
        # times increase, so a repeat is a run of equal seconds: keep its first
        keep[1:] = sec[1:] > np.maximum.accumulate(sec)[:-1]
    return np.flatnonzero(keep)


def _encoder() -> Any:
    """The SDK's Encoder, made fast where a lifetime export spends its time, with the same bytes
    (tests/formats/test_fit_encoder.py compares them with the plain Encoder's):

    * message definitions reused: it builds one from the profile for every message (a scan of
      ~100 record fields each); a definition depends only on the message number and which fields
      hold a scalar;
    * a message of numbers (scalars, or arrays such as hrv's intervals) packed in one struct.pack
      with the Encoder's own arithmetic (`_packer`), instead of the per-value transform and write
      calls (~50 us a record; the Bloemendaal ride's 1,084 hrv messages took 19 ms, its records 29);
    * the file CRC by the compiled CRC of fit_walk instead of a Python loop over every byte.

    Measured on the corpus's FIT activities (bench/export.py): see that file for the figures."""
    from garmin_fit_sdk import Encoder
    from garmin_fit_sdk import fit as sdk

    class FastEncoder(Encoder):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self._definitions: dict[tuple[Any, ...], Any] = {}

        def _create_mesg_definition(self, mesg_num: int, mesg: dict[str, Any]) -> Any:
            if any(isinstance(v, str | bytes) for v in mesg.values()):
                return super()._create_mesg_definition(mesg_num, mesg)
            # an array's length is part of its definition (an hrv message of 5 intervals, or fewer)
            key = (mesg_num, *((k, len(v)) if isinstance(v, list) else k for k, v in mesg.items() if v is not None),
                   *sorted(mesg.get("developer_fields") or ()))
            found = self._definitions.get(key)
            if found is None:
                found = self._definitions[key] = super()._create_mesg_definition(mesg_num, mesg)
                found.runhub_packer = _packer(found, sdk)
            return found

        def _find_local_mesg_definition(self, mesg_definition: Any) -> Any:
            for local in self._local_mesg_definitions:
                if local is mesg_definition:
                    return local
            return super()._find_local_mesg_definition(mesg_definition)

        def on_mesg(self, mesg_num: int, mesg: dict[str, Any]) -> Any:
            definition = self._create_mesg_definition(mesg_num, mesg)
            packer = getattr(definition, "runhub_packer", None)
            try:
                body = packer(mesg) if packer is not None else None
            except (struct.error, OverflowError):  # a value its type cannot hold: the Encoder's error
                body = None
            if body is None:  # not scalar numbers: the Encoder's own path (and its errors)
                return super().on_mesg(mesg_num, mesg)
            local = self._find_local_mesg_definition(definition)
            if local is None:  # as Encoder.on_mesg: the next local number, its definition first
                local = definition
                local.local_mesg_num = self._next_local_mesg_num & sdk.LOCAL_MESG_NUM_MASK
                self._next_local_mesg_num += 1
                self._write_mesg_definition(local)
            out = self._output_stream
            out.set_bytes(bytes((local.local_mesg_num,)) + body, out.length)
            return self

        def _write_file_crc(self) -> None:
            from runhub.formats.fit_walk import crc16

            data = np.frombuffer(self._output_stream.data, dtype=np.uint8)
            self._output_stream.write_uint16(crc16(data, 0, len(data), 0))

    return FastEncoder()


def _packer(definition: Any, sdk: Any) -> Any:
    """A function mesg -> the message's field bytes, or None where the Encoder's own path must
    write it (a value that is not a finite int or float). The Encoder's arithmetic, step by step:
    a numeric field with a scale or offset is (value + offset) * scale, rounded (Python's round)
    unless the field's type is a float; any other value goes as it is; an integer base type takes
    int(value) masked to its width, as a signed number where the type is signed; an array field, each
    of its values so. None when the definition holds a string field."""
    # (name, developer field?, scaled?, scale, offset, rounded?, bits of an integer type or 0, signed?,
    # values: 0 for a scalar, else the array's length)
    steps: list[tuple[str, bool, bool, float, float, bool, int, bool, int]] = []
    codes = "<"
    for dev, fds in ((False, definition.field_definitions), (True, definition.developer_field_definitions)):
        for fd in fds:
            base = sdk.BASE_TYPE_DEFINITIONS[fd["base_type"]]
            code = base["type_code"]
            count, rest = divmod(fd["size"], base["size"])
            if rest or not count or code == "s":
                return None
            scale, offset = fd["scale"], fd["offset"]
            scaled = fd["type"] in sdk.NUMERIC_FIELD_TYPES and (
                scale != sdk.FIELD_DEFAULT_SCALE or offset != sdk.FIELD_DEFAULT_OFFSET)
            rounded = scaled and fd["type"] not in ("float32", "float64")
            bits = 0 if code in ("f", "d") else base["size"] * 8
            array = count if count > 1 else 0
            steps.append((fd["key"] if dev else fd["name"], dev, scaled, scale, offset, rounded, bits, base["signed"],
                          array))
            codes += code * count
    fmt = struct.Struct(codes)

    def value(v: Any, scaled: bool, scale: float, offset: float, rounded: bool, bits: int, signed: bool) -> Any:
        tv = type(v)
        if tv is float:
            if not math.isfinite(v):
                return None
        elif tv is not int:
            return None
        if scaled:
            v = (v + offset) * scale
            if rounded:
                v = round(v)
        if bits:
            v = int(v) & ((1 << bits) - 1)
            if signed and v >= 1 << (bits - 1):
                v -= 1 << bits
        return v

    def pack(mesg: dict[str, Any]) -> bytes | None:
        dev_values = mesg.get("developer_fields") or {}
        out = []
        for name, dev, scaled, scale, offset, rounded, bits, signed, array in steps:
            given = dev_values.get(name) if dev else mesg.get(name)
            if array:
                if type(given) is not list or len(given) != array:
                    return None
                items = given
            else:
                items = [given]
            for v in items:
                v = value(v, scaled, scale, offset, rounded, bits, signed)
                if v is None:
                    return None
                out.append(v)
        return fmt.pack(*out)

    return pack


def encode(a: Activity) -> bytes:
    """Activity -> FIT activity file (file_id, device_info, events, records, laps, session, activity)."""
    nums, record_profile, types = _profile()
    ch = a.channels
    start_s = math.floor(a.start.timestamp())  # FIT start_time is whole seconds
    if start_s < FIT_EPOCH + 0x10000000:
        # FIT reads a date_time below 0x10000000 as seconds since device power-on, not a date
        raise FormatError(f"FIT cannot date an activity before 1998-07-27 (start {a.start.isoformat()})",
                          format="fit", field="start")
    t_all = ch.get("time", np.zeros(0))
    kept = _whole_seconds(t_all)
    n = len(kept)
    stamps = start_s + np.round(t_all[kept]).astype(np.int64)  # Unix seconds per written record
    fit_t = (stamps - FIT_EPOCH).tolist()
    pauses = sorted({int(np.searchsorted(kept, p)) for p in a.pauses} - {0, n}) if n else []

    # --- developer fields for channels FIT has no record field for
    units = a.extras.get("channel_units") or {}
    dev_names = [name for name in ch if name not in ("time", "timer", "latitude", "longitude", "cadence")
                 and name not in RECORD_FIELDS and (name in _RESERVED or name not in record_profile)]
    native = [name for name in ch if name not in _RESERVED and name in record_profile and name not in dev_names]
    enc = _encoder()
    dev_keys: dict[str, int] = {}
    descs: list[dict[str, Any]] = []
    dev_id = {"mesg_num": nums["developer_data_id"], "developer_data_index": 0, "application_version": 1,
              "application_id": list(FIT_APPLICATION_ID)}
    for k, name in enumerate(dev_names[:255]):
        desc = {"mesg_num": nums["field_description"], "developer_data_index": 0, "field_definition_number": k,
                "fit_base_type_id": _DEV_FLOAT64, "field_name": name[:60]}
        if units.get(name):
            desc["units"] = str(units[name])[:30]
        enc.add_developer_field(k, dev_id, desc)
        descs.append(desc)
        dev_keys[name] = k
    # runhub's own fields of the session: the activity the file is the export of, and its title
    title = a.name.encode("utf-8")[:TITLE_BYTES].decode("utf-8", "ignore") if a.name else ""
    session_fields: list[tuple[str, int, Any]] = []
    if a.id is not None and 0 <= a.id < 0xFFFFFFFF:
        session_fields.append((EXPORT_FIELD, _DEV_UINT32, int(a.id)))
    if title:
        session_fields.append((TITLE_FIELD, _DEV_STRING, title))
    own: dict[int, Any] = {}
    for field_name, base_type, value in session_fields:
        if len(descs) == 255:
            break
        desc = {"mesg_num": nums["field_description"], "developer_data_index": 0,
                "field_definition_number": len(descs), "fit_base_type_id": base_type, "field_name": field_name,
                "native_mesg_num": nums["session"]}
        enc.add_developer_field(len(descs), dev_id, desc)
        own[len(descs)] = value
        descs.append(desc)

    t0 = start_s - FIT_EPOCH  # session start: the activity's start, which may precede the first record
    t_end = fit_t[-1] if n else t0
    dev = _device_fields(a, types)
    enc.write_mesg({"mesg_num": nums["file_id"], "type": "activity", "time_created": t0, **dev})
    enc.write_mesg(dev_id)  # with or without developer fields: it says runhub wrote the file
    for desc in descs:
        enc.write_mesg(desc)
    info = {"mesg_num": nums["device_info"], "timestamp": t0, "device_index": "creator",
            "manufacturer": dev["manufacturer"], "product": dev["product"]}
    if dev.get("serial_number"):
        info["serial_number"] = dev["serial_number"]
    if dev.get("product_name"):
        info["product_name"] = dev["product_name"]
    sw = _software_version(a.app_version)
    if sw is not None:
        info["software_version"] = sw
    enc.write_mesg(info)
    event = nums["event"]
    # the timer starts with the session, unless a recorded timer channel says it started later
    # (a watch whose first record comes after its timer start: timer 1 s at a record 98 s in)
    timer_start = t0
    if n and "timer" in ch and math.isfinite(ch["timer"][kept[0]]):
        timer_start += _seconds_within(fit_t[0] - t0 - float(ch["timer"][kept[0]]), fit_t[0] - t0)
    enc.write_mesg({"mesg_num": event, "timestamp": timer_start, "event": "timer", "event_type": "start",
                    "event_group": 0})

    # --- records, with a timer stop/start pair around each pause
    cols: list[tuple[str, np.ndarray, bool]] = []  # (field, values, developer?)
    for name, fld in RECORD_FIELDS.items():
        if name in ch:
            cols.append((fld, _written(ch[name][kept], record_profile[fld]), False))
    for name in native:
        cols.append((name, _written(ch[name][kept], record_profile[name]), False))
    for name in dev_keys:
        cols.append((name, ch[name][kept], True))
    lat = ch.get("latitude")
    lon = ch.get("longitude")
    if lat is not None and lon is not None:
        cols.append(("position_lat", np.round(lat[kept] * SEMICIRCLES_PER_DEG), False))
        cols.append(("position_long", np.round(lon[kept] * SEMICIRCLES_PER_DEG), False))
    if "cadence" in ch:
        cad = _representable(ch["cadence"][kept], record_profile["cadence"])
        whole = np.floor(cad)
        frac = np.round((cad - whole) * 128.0)
        whole = np.where(frac >= 128, whole + 1, whole)  # 0.999 rounds up to the next whole rpm
        frac = np.where(frac >= 128, 0.0, frac)
        cols.append(("cadence", whole, False))
        cols.append(("fractional_cadence", np.where(np.isnan(cad), np.nan, frac / 128.0), False))
    # lists of Python floats/None, one pass per column (cheaper than per-element numpy access)
    values = [(fld, [None if math.isnan(x) else x for x in arr.tolist()], dv) for fld, arr, dv in cols]
    pause_set = set(pauses)
    rec_num = nums["record"]
    recorded_timer = ch["timer"][kept] if "timer" in ch else None
    for i in range(n):
        resume_at = None
        if i in pause_set:
            stop, resume_at = fit_t[i - 1], fit_t[i]
            if recorded_timer is not None:
                # the timer ran part of this interval before it stopped, and (after the last sample
                # logged while stopped) stood part of the next one before it resumed; both to the
                # second, the stop before the next sample and the resume at the latest on the one
                # after, so that the pause indexes come back unchanged
                dt = fit_t[i] - fit_t[i - 1]
                stop += _seconds_within(recorded_timer[i] - recorded_timer[i - 1], dt - 1)
                if i + 1 < n and i + 1 not in pause_set:
                    dt = fit_t[i + 1] - fit_t[i]
                    resume_at += _seconds_within(dt - (recorded_timer[i + 1] - recorded_timer[i]), dt)
            enc.write_mesg({"mesg_num": event, "timestamp": stop, "event": "timer",
                            "event_type": "stop_all", "event_group": 0})
            if resume_at == fit_t[i]:
                enc.write_mesg({"mesg_num": event, "timestamp": resume_at, "event": "timer", "event_type": "start",
                                "event_group": 0})
                resume_at = None
        msg: dict[str, Any] = {"mesg_num": rec_num, "timestamp": fit_t[i]}
        devf: dict[int, float] = {}
        for fld, vals, dv in values:
            v = vals[i]
            if v is None:
                continue
            if dv:
                devf[dev_keys[fld]] = v
            else:
                msg[fld] = int(v) if fld in ("position_lat", "position_long") else v
        if devf:
            msg["developer_fields"] = devf
        enc.write_mesg(msg)
        if resume_at is not None:
            enc.write_mesg({"mesg_num": event, "timestamp": resume_at, "event": "timer", "event_type": "start",
                            "event_group": 0})
    enc.write_mesg({"mesg_num": event, "timestamp": t_end, "event": "timer", "event_type": "stop_all",
                    "event_group": 0})
    if a.rr_intervals is not None and n:
        # the RR intervals, five to an hrv message as Garmin's watches write them (no timestamp: in order)
        rr = a.rr_intervals.tolist()
        for k in range(0, len(rr), HRV_PER_MESSAGE):
            enc.write_mesg({"mesg_num": nums["hrv"], "time": rr[k:k + HRV_PER_MESSAGE]})
    if a.pool_lengths and n:
        for k, length in enumerate(_lengths(a, start_s)):
            enc.write_mesg({"mesg_num": nums["length"], "message_index": k, "event": "length", "event_type": "stop",
                            **length})

    # --- laps, session, activity
    timer = timer_seconds(a)[kept] if n else np.zeros(0)
    laps = _laps(a, kept, stamps, timer, start_s)
    for k, lap in enumerate(laps):
        enc.write_mesg(_held({"mesg_num": nums["lap"], "message_index": k, "event": "lap", "event_type": "stop",
                              **lap}, nums["lap"]))
    session = _held({"mesg_num": nums["session"], **_session(a, laps, t0, t_end, timer, kept)}, nums["session"])
    if own:
        session["developer_fields"] = own
    enc.write_mesg(session)
    local = t_end + int(a.utc_offset)
    enc.write_mesg({"mesg_num": nums["activity"], "timestamp": t_end, "num_sessions": 1, "type": "manual",
                    "event": "activity", "event_type": "stop", "local_timestamp": local,
                    "total_timer_time": float(timer[-1] - timer[0]) if n else 0.0})
    return bytes(enc.close())


def _lengths(a: Activity, start_s: int) -> list[dict[str, Any]]:
    """The length messages of a pool swim (fit.LENGTH_FIELDS read back): its clock columns as FIT
    times (whole seconds, as the watch wrote them), the rest at their fields' resolution; NaN left
    out. The enums are the codes fit.py read (FIT's own numbers)."""
    cols = {fld: a.pool_lengths[name].tolist() for fld, name in LENGTH_FIELDS.items() if name in a.pool_lengths}
    out = []
    for i in range(len(a.pool_lengths["start"])):
        msg: dict[str, Any] = {}
        for fld, values in cols.items():
            v = values[i]
            if math.isnan(v):
                continue
            if fld in ("start_time", "timestamp"):
                msg[fld] = start_s + round(v) - FIT_EPOCH
            elif fld in _LENGTH_INTEGERS:
                msg[fld] = int(round(v))
            else:
                msg[fld] = v
        out.append(msg)
    return out


def _seconds_within(x: float, most: int) -> int:
    """`x` seconds rounded to whole seconds, kept in [0, most]."""
    if not math.isfinite(x):
        return 0
    return int(min(max(round(x), 0), max(most, 0)))


def _stats(a: Activity, kept: np.ndarray, i0: int, i1: int) -> dict[str, Any]:
    """Averages and maxima over samples i0..i1 (written indexes) for a lap or session message."""
    out: dict[str, Any] = {}
    for name, avg, mx in (("heart_rate", "avg_heart_rate", "max_heart_rate"), ("power", "avg_power", "max_power"),
                          ("speed", "enhanced_avg_speed", "enhanced_max_speed")):
        arr = a.channels.get(name)
        if arr is None or i1 < i0:
            continue
        seg = arr[kept[i0:i1 + 1]]
        seg = seg[~np.isnan(seg)]
        if len(seg):
            out[avg] = round(float(seg.mean()), 3) if name == "speed" else int(round(float(seg.mean())))
            out[mx] = round(float(seg.max()), 3) if name == "speed" else int(round(float(seg.max())))
    return out


def _laps(a: Activity, kept: np.ndarray, stamps: np.ndarray, timer: np.ndarray, start_s: int) -> list[dict[str, Any]]:
    """Lap messages. Totals are differences of the rounded cumulative ends, so their sums (what a
    reader adds up) land on the activity's own lap ends without drift."""
    n = len(kept)
    dist = a.channels.get("distance")
    src = list(a.laps) or [Lap(end_index=a.n_samples - 1 if a.n_samples else None,
                               end_time=float(a.channels["time"][-1]) if a.n_samples else 0.0,
                               trigger="session_end")]
    out = []
    prev_stamp = int(stamps[0]) if n else start_s
    prev_ms = 0
    prev_cm = 0
    first_i = 0
    from garmin_fit_sdk import Profile

    types = Profile["types"]
    for lap in src:
        idx = int(np.searchsorted(kept, lap.end_index, side="right")) - 1 if lap.end_index is not None and n else None
        if lap.end_time is not None:
            end = start_s + int(round(lap.end_time))
        elif idx is not None and idx >= 0:
            end = int(stamps[idx])
        else:
            end = prev_stamp
        end = max(end, prev_stamp)
        if idx is None and n:
            idx = int(np.searchsorted(stamps, end, side="right")) - 1
        end_timer = lap.end_timer
        if end_timer is None:
            end_timer = float(timer[idx] - timer[0]) if idx is not None and idx >= 0 else prev_ms / 1000.0
        end_dist = lap.end_distance
        if end_dist is None and dist is not None and idx is not None and idx >= 0:
            d = dist[kept[: idx + 1]]
            d = d[~np.isnan(d)]
            end_dist = float(d[-1]) if len(d) else None
        ms = max(int(round(end_timer * 1000)), prev_ms)
        msg: dict[str, Any] = {
            "timestamp": end - FIT_EPOCH,
            "start_time": prev_stamp - FIT_EPOCH,
            "total_elapsed_time": float(end - prev_stamp),
            "total_timer_time": (ms - prev_ms) / 1000.0,
            "intensity": LAP_INTENSITY.get(lap.lap_type, "active"),
        }
        if end_dist is not None:
            cm = max(int(round(end_dist * 100)), prev_cm)
            msg["total_distance"] = (cm - prev_cm) / 100.0
            prev_cm = cm
        trig = _enum(types, "lap_trigger", lap.trigger)
        if trig:
            msg["lap_trigger"] = trig
        if idx is not None and idx >= first_i:
            msg.update(_stats(a, kept, first_i, idx))
            first_i = idx + 1
        out.append(msg)
        prev_stamp, prev_ms = end, ms
    return out


def _session(a: Activity, laps: list[dict[str, Any]], t0: int, t_end: int, timer: np.ndarray,
             kept: np.ndarray) -> dict[str, Any]:
    row = sports.get(a.sport)
    s = a.summary
    msg: dict[str, Any] = {
        "timestamp": t_end, "start_time": t0, "event": "session", "event_type": "stop", "trigger": "activity_end",
        "sport": row.fit_sport, "sub_sport": row.fit_sub_sport or "generic", "first_lap_index": 0,
        "num_laps": len(laps), "message_index": 0,
        "total_elapsed_time": s.elapsed_time if s.elapsed_time is not None else float(t_end - t0),
        "total_timer_time": s.timer_time if s.timer_time is not None else (
            float(timer[-1] - timer[0]) if len(timer) else 0.0),
    }
    dist = s.distance
    if dist is None and "distance" in a.channels:
        d = a.channels["distance"][~np.isnan(a.channels["distance"])]
        dist = float(d[-1]) if len(d) else None
    if dist is not None:
        msg["total_distance"] = dist
    if s.average_speed is not None or s.max_speed is not None or s.heart_rate_average is not None:
        for fld, v in (("enhanced_avg_speed", s.average_speed), ("enhanced_max_speed", s.max_speed),
                       ("avg_heart_rate", s.heart_rate_average), ("max_heart_rate", s.heart_rate_max),
                       ("min_heart_rate", s.heart_rate_min), ("avg_power", s.power_average),
                       ("max_power", s.power_max), ("avg_temperature", s.temperature_average)):
            if v is not None and math.isfinite(v):
                msg[fld] = round(v, 3) if "speed" in fld else int(round(v))
    else:
        msg.update(_stats(a, kept, 0, len(kept) - 1))
    if s.cadence_average is not None:
        msg["avg_cadence"] = int(s.cadence_average)
        msg["avg_fractional_cadence"] = round(s.cadence_average - int(s.cadence_average), 3)
    if s.cadence_max is not None:
        msg["max_cadence"] = int(round(s.cadence_max))
    if s.elevation_gain is not None:
        msg["total_ascent"] = int(round(s.elevation_gain))
    if s.elevation_loss is not None:
        msg["total_descent"] = int(round(s.elevation_loss))
    if a.calories is not None:
        msg["total_calories"] = int(round(a.calories))
    said = a.device_summary or {}
    pool = said.get("pool_length")
    if isinstance(pool, int | float) and not isinstance(pool, bool) and a.pool_lengths:
        msg["pool_length"] = float(pool)  # metres, as the watch's session said (its unit: how it showed them)
        if said.get("pool_length_unit") in ("metric", "statute"):
            msg["pool_length_unit"] = said["pool_length_unit"]
        active = a.pool_lengths.get("active")
        if active is not None:  # (num_lengths is left out: watches count it their own way)
            msg["num_active_lengths"] = int(np.sum(active == 1))
    lat, lon = a.channels.get("latitude"), a.channels.get("longitude")
    if lat is not None and lon is not None:
        ok = np.flatnonzero(~np.isnan(lat))
        if len(ok):
            msg["start_position_lat"] = int(round(lat[ok[0]] * SEMICIRCLES_PER_DEG))
            msg["start_position_long"] = int(round(lon[ok[0]] * SEMICIRCLES_PER_DEG))
            msg["end_position_lat"] = int(round(lat[ok[-1]] * SEMICIRCLES_PER_DEG))
            msg["end_position_long"] = int(round(lon[ok[-1]] * SEMICIRCLES_PER_DEG))
    return msg
