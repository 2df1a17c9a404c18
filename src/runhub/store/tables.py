"""The tables. Metadata and summaries live in columns (indexed for the queries the APIs make);
samples live in one compressed columnar blob per activity (blob.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# 64-bit ids everywhere; SQLite only autoincrements a column declared INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("email", String(254)),
    Column("password_hash", String(255)),
    Column("first_name", String(100), nullable=False, server_default=""),
    Column("last_name", String(100), nullable=False, server_default=""),
    Column("is_admin", Boolean, nullable=False, server_default=text("false")),
    Column("settings", JSON, nullable=False),  # units, language, hemisphere, heart rates, FTP, zone
    Column("created_at", UTCDateTime, nullable=False),
    Column("data_updated_at", UTCDateTime),  # last time any run changed (Smashrun userinfo)
)

activities = Table(
    "activities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("owner_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("client_id", String(128)),
    Column("client_key", String(128), nullable=False, server_default=""),  # client_id or '' (NULL-safe)
    Column("external_id", String(255)),
    Column("content_hash", String(64)),
    Column("start_utc", UTCDateTime, nullable=False),
    Column("utc_offset", Integer, nullable=False, server_default="0"),
    Column("timezone", String(64)),
    Column("sport", String(64), nullable=False),
    Column("name", String(255)),
    Column("distance", Float),
    Column("elapsed_time", Float),
    Column("timer_time", Float),
    Column("moving_time", Float),
    Column("n_samples", Integer, nullable=False, server_default="0"),
    Column("has_gps", Boolean, nullable=False, server_default=text("false")),
    Column("summary", JSON, nullable=False),
    Column("meta", JSON, nullable=False),  # every other Activity field: notes, laps, pauses, extras ...
    Column("possible_duplicate_of", Id),
    Column("multisport_group", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
    Index("ix_activities_owner_start", "owner_id", "start_utc"),
    Index("ix_activities_owner_updated", "owner_id", "updated_at"),
    Index("ix_activities_owner_external", "owner_id", "client_key", "external_id", unique=True),
    Index("ix_activities_owner_content", "owner_id", "client_key", "content_hash", unique=True),
    Index("ix_activities_owner_hash", "owner_id", "content_hash"),  # a file import's "seen these bytes?"
    Index("ix_activities_sport", "sport"),
)

# The bytes of files an activity was stored from before a newer file of the same recorder
# overwrote it (a watch's FIT and Garmin Connect's re-save of it, both in a lifetime's folder): a
# file import holds them too, so importing the folder again changes nothing rather than swapping
# the run back to the older file and forth again.
superseded_files = Table(
    "superseded_files",
    metadata,
    Column("activity_id", Id, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("content_hash", String(64), primary_key=True),
    Column("owner_id", Id, nullable=False),
    Index("ix_superseded_owner_hash", "owner_id", "content_hash"),
)

activity_streams = Table(
    "activity_streams",
    metadata,
    Column("activity_id", Id, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

activity_originals = Table(
    "activity_originals",
    metadata,
    Column("activity_id", Id, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("filename", Text),
    Column("format", String(16), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),  # zstd-compressed upload, byte for byte
)

activity_products = Table(
    "activity_products",
    metadata,
    Column("activity_id", Id, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(64), primary_key=True),
    # denormalised so longitudinal queries read one table through one index
    Column("owner_id", Id, nullable=False),
    Column("start_utc", UTCDateTime, nullable=False),
    Column("sport", String(64), nullable=False),
    Column("encoding", String(8), nullable=False),  # 'json' or 'f8' (raw little-endian float64)
    Column("data", LargeBinary, nullable=False),
    Index("ix_products_owner_kind_start", "owner_id", "kind", "start_utc"),
)

activity_curves = Table(
    "activity_curves",
    metadata,
    # mean-max curves (analysis.mean_max.GRID), one row per activity and metric, laid out so a
    # longitudinal query reads one fixed-width binary column for thousands of activities at once
    Column("activity_id", Id, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("metric", String(16), primary_key=True),  # power, speed, heart_rate, cadence
    Column("owner_id", Id, nullable=False),
    Column("start_utc", UTCDateTime, nullable=False),
    Column("sport", String(64), nullable=False),
    Column("n", Integer, nullable=False),  # grid durations the activity reaches
    # little-endian float32 best averages, NaN-padded to at least the 6 h grid (CURVE_MIN_LEN)
    Column("vals", LargeBinary, nullable=False),
    Column("starts", LargeBinary, nullable=False),  # float32 s from the activity start, n of them
    Index("ix_curves_owner_metric_start", "owner_id", "metric", "start_utc"),
)

body_weights = Table(
    "body_weights",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("owner_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("date", String(10), nullable=False),  # local date YYYY-MM-DD, as the athlete sees it
    Column("weight_kg", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_body_weights_owner_date", "owner_id", "date"),
)

goals = Table(
    "goals",
    metadata,
    Column("owner_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("month", Integer, primary_key=True),  # 0: the goal for the whole year
    Column("text", Text),
    Column("distance", Float),  # m
    Column("updated_at", UTCDateTime, nullable=False),
)

# --- identity and access (auth/): OAuth clients, codes, tokens, consents, sessions, rate limits ---

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(128), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64)),  # sha256 of the secret; NULL for public clients
    Column("is_public", Boolean, nullable=False, server_default=text("false")),
    Column("redirect_uris", JSON, nullable=False),
    Column("dialect", String(32), nullable=False, server_default="generic"),  # smashrun: 12-week tokens
    Column("default_scope", String(500)),  # granted when a request asks for no scope
    Column("token_seconds", Integer),  # access token lifetime; NULL: by dialect / settings
    Column("refresh_without_secret", Boolean, nullable=False, server_default=text("false")),
    Column("owner_id", Id, ForeignKey("users.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(128), ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("redirect_uri", Text),  # as sent at authorize (NULL: none sent)
    Column("scope", Text, nullable=False),  # requested names, space-separated
    Column("code_challenge", String(128)),
    Column("code_challenge_method", String(10)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),  # kept after use to detect replay (RFC 6749 4.1.2)
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", String(32), primary_key=True),  # the access JWT's jti
    Column("kind", String(16), nullable=False),  # oauth | personal
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("client_id", String(128), ForeignKey("oauth_clients.client_id", ondelete="CASCADE")),
    Column("name", String(200)),  # personal tokens: the user's label
    Column("scope", Text, nullable=False),  # requested names, space-separated
    Column("canonical", Text, nullable=False),  # canonical scopes, space-separated
    Column("access_expires_at", UTCDateTime),  # NULL: personal token without expiry
    Column("refresh_hash", String(64), unique=True),
    Column("refresh_expires_at", UTCDateTime),  # NULL: until revoked (Smashrun)
    Column("secret_hash", String(64), unique=True),  # personal tokens: sha256 of the token
    Column("code_hash", String(64)),  # the authorization code it came from
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Index("ix_oauth_tokens_user_client", "user_id", "client_id"),
    Index("ix_oauth_tokens_code", "code_hash"),
)

oauth_consents = Table(
    "oauth_consents",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("client_id", String(128), ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), primary_key=True),
    Column("canonical", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

rate_limit_counters = Table(
    "rate_limit_counters",
    metadata,
    Column("key", String(200), primary_key=True),  # e.g. token:<jti>:15m:<window start>
    Column("count", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
