"""Fixtures for the auth tests: one user pair and an app per flavour, on the shared server."""

from __future__ import annotations

import os

import pytest

from tests.auth.helpers import make_client
from tests.conftest import make_user

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the test server speaks plain http


@pytest.fixture(scope="session")
def alice(db):
    return make_user(db, "alice")


@pytest.fixture(scope="session")
def bob(db):
    return make_user(db, "bob")


@pytest.fixture(scope="session")
def confidential(db):
    """A confidential web app (Smashrun/Strava style): (client_id, secret, redirect_uri)."""
    redirect = "https://app.example/callback"
    cid, secret = make_client(db, [redirect, "urn:ietf:wg:oauth:2.0:oob"], dialect="smashrun")
    return cid, secret, redirect


@pytest.fixture(scope="session")
def public(db):
    """A public native app with a loopback redirect (SweatStack style)."""
    redirect = "http://localhost/"
    cid, _ = make_client(db, [redirect], public=True)
    return cid, None, redirect
