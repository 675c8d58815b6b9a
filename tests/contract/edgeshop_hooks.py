"""schemathesis hooks for scripts/contract (loaded through SCHEMATHESIS_HOOKS).

Every request comes from its own client address, as the API's traffic would:
from one fixed address the edge's per-client rate limits (20 carts a minute,
10 checkouts) answered most requests 429 and left the logic behind them
untested. The limits themselves are tested in tests/hardening.rs. Addresses
are from the documentation ranges of RFC 5737.
"""
import itertools
import random

import schemathesis

_RANGES = ("192.0.2", "198.51.100", "203.0.113")
_addresses = itertools.cycle(
    f"{net}.{host}" for net in _RANGES for host in random.sample(range(1, 255), 254)
)


@schemathesis.hook
def before_call(context, case, kwargs):
    case.headers = {**(case.headers or {}), "CF-Connecting-IP": next(_addresses)}
