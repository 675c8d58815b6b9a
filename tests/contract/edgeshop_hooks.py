"""schemathesis hooks for scripts/contract (loaded through SCHEMATHESIS_HOOKS).

Every request comes from its own client address, as the API's traffic would:
from one fixed address the edge's per-client rate limits (20 carts a minute,
10 checkouts) answered most requests 429 and left the logic behind them
untested. The limits themselves are tested in tests/hardening.rs. Addresses
are from the documentation ranges of RFC 5737.

Staff routes (`/admin/...`, the document's `adminToken`) get the local stack's
admin token (ADMIN_TOKEN in .local/secrets.env, which scripts/dev writes), so
the fuzzer reaches what the routes do behind the token (the body's rules, the
order's state) instead of a 403 for every request. It cannot do harm: it
only ever names orders it made up or placed itself, none of them paid.
Without the file (no local stack) the routes get no token and answer 401.

A signed-in shopper's routes (`/customers/me...`) get a session of their
own: the hooks sign up a fresh customer once per run through the API, take
the verify link from the notify fake's mailbox, verify and log in, so the
fuzzer reaches the profile, history, wishlist and export behind the session.
`DELETE /customers/me` gets no session (401): erasing the account would leave
every later case of the run unauthenticated.
"""
import itertools
import json
import os
import random
import re
import secrets
import time
import urllib.request
from pathlib import Path

import schemathesis

_RANGES = ("192.0.2", "198.51.100", "203.0.113")
_addresses = itertools.cycle(
    f"{net}.{host}" for net in _RANGES for host in random.sample(range(1, 255), 254)
)
_SECRETS = Path(__file__).resolve().parents[2] / ".local" / "secrets.env"


@schemathesis.hook
def before_call(context, case, kwargs):
    case.headers = {**(case.headers or {}), "CF-Connecting-IP": next(_addresses)}


def _admin_token():
    try:
        lines = _SECRETS.read_text().splitlines()
    except OSError:
        return None
    return next((line.split("=", 1)[1].strip() for line in lines if line.startswith("ADMIN_TOKEN=")), None)


# retry_on=[]: a 401 means the token was left out on purpose (a negative case),
# not that it expired.
@schemathesis.auth(retry_on=[]).apply_to(path_regex="^/admin/")
class AdminToken:
    def get(self, case, context):
        return _admin_token()

    def set(self, case, data, context):
        if data:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


_PORTS = Path(__file__).resolve().parents[2] / ".local" / "ports.env"
_session = {}


def _port(name, default):
    try:
        for line in _PORTS.read_text().splitlines():
            if line.startswith(name + "="):
                return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return default


def _post(base, path, body, headers=None):
    req = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "CF-Connecting-IP": next(_addresses), **(headers or {})},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.loads(resp.read() or b"null")


def _customer_session():
    """A verified customer's session token, made once per run (None if the
    stack cannot make one: the routes then answer 401, as documented)."""
    if "token" in _session:
        return _session["token"]
    _session["token"] = None
    base = os.environ.get("EDGESHOP_BASE_URL", "http://127.0.0.1:8787").rstrip("/")
    notify = f"http://127.0.0.1:{_port('NOTIFY_FAKE_PORT', '25343')}"
    email = f"contract-{secrets.token_hex(6)}@example.com"
    password = "contract-" + secrets.token_hex(8)
    try:
        _post(base, "/customers/signup", {"email": email, "password": password, "name": "Contract"})
        token = None
        for _ in range(50):
            with urllib.request.urlopen(f"{notify}/_fake/mail?to={email}", timeout=10) as resp:
                found = re.findall(r"token=([A-Za-z0-9._~-]+)", resp.read().decode())
            if found:
                token = found[-1]
                break
            time.sleep(0.1)
        _post(base, "/customers/verify", {"token": token})
        _session["token"] = _post(base, "/customers/login", {"email": email, "password": password})["token"]
    except Exception:  # noqa: BLE001 - no session: the routes answer 401
        pass
    return _session["token"]


@schemathesis.auth(retry_on=[]).apply_to(path_regex="^/customers/me").skip_for(method="DELETE", path="/customers/me")
class CustomerSession:
    def get(self, case, context):
        return _customer_session()

    def set(self, case, data, context):
        if data:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
