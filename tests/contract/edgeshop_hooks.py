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
"""
import itertools
import random
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
