"""The local Stripe: localstripe (PyPI, a stateful fake of Stripe's API) run
in-process, with what it lacks and our payment code relies on. Started by
scripts/fakes with the venv scripts/setup makes (.local/payfakes):

    python tests/fakes/stripe_fake.py --port 25340 [--api-key sk_test_...]

Always starts empty (localstripe's pickle in /tmp is neither read nor written)
and listens on 127.0.0.1 only. Webhook endpoints are registered as with plain
localstripe: POST /_config/webhooks/{name} with form or JSON `url`, `secret`.

Added to localstripe's behaviour (/v1):
  * Idempotency-Key on a POST: the first answer (status and body) is returned
    again, with `Idempotent-Replayed: true`; the same key with other
    parameters (or another path) is a 400 `idempotency_error`; while the first
    request is still running, a 409 `idempotency_error`. Injected faults are
    not stored.
  * --api-key: only that secret key is accepted (401 otherwise), so a test
    sees a worker sending the wrong one; without it any sk_... passes.
  * A PaymentIntent whose last charge failed goes back to
    `requires_confirmation` once it is given another payment_method (POST
    /v1/payment_intents/{id}, or confirm with `payment_method`), as on Stripe.
    Confirm also accepts (and ignores) `return_url`; create also accepts
    `description`, `receipt_email`, `statement_descriptor`,
    `automatic_payment_methods`.
  * PaymentIntent JSON: `latest_charge` is the charge's id (localstripe
    inlined the object; `expand[]=latest_charge` still inlines it),
    `amount_received` is added (the amount once succeeded, else 0), and the
    charge carries the PaymentIntent's metadata. A declined card answers 402
    with `type: card_error`, `decline_code`, `payment_intent`, like Stripe,
    and `last_payment_error` has `type` and `decline_code` too.
  * POST /v1/refunds: refuses more than the charge's unrefunded amount (400),
    refunds what is left when no amount is given, and sends `charge.refunded`
    (data.object = the charge: `amount_refunded` so far, `refunded`,
    `payment_intent`, `metadata`).
  * Lists (GET /v1/payment_intents, /v1/events, ...) are newest first.
  * Webhooks are sent 0.2 s after the event (--webhook-delay; localstripe
    waited 1 s), signed exactly as localstripe signs them (Stripe's scheme),
    and each delivery is recorded. Failed ones are not retried.

Test controls (no API key needed), all JSON; faults and the request log are
tests/fakes/fakekit.py's, shared with the other fakes:
  POST   /_fake/faults     {"path_prefix": "/v1/payment_intents", "method": "POST",
                            "status": 500, "count": 2, "always": false, "delay_ms": 0,
                            "retry_after": null, "contains": null}
         the next `count` matching requests (path_prefix default /v1/; method
         null = any; contains: only requests whose path, Idempotency-Key or
         body contains that text, for tests that run in parallel; "always":
         true = every matching one until cleared) get `status` with
         {"error":{"type":"api_error", "message":"injected"}} (and Retry-After
         if given), without reaching localstripe; delay_ms > 0 waits first;
         delay_ms without status = a slow answer that then proceeds normally
         (the request is carried out even if the client gave up meanwhile).
  GET    /_fake/faults     the pending faults;  DELETE /_fake/faults  clears them
  GET    /_fake/requests   [{method, path, idempotency_key, status, fault, replayed}]
                           for every /v1 request, oldest first (status null while
                           running; ?contains=TEXT keeps those whose path,
                           Idempotency-Key or body contains TEXT);  DELETE clears it
  POST   /_fake/disputes   {"payment_intent": "pi_..."} (optional "amount",
                           "reason"): sends charge.dispute.created; answers the dispute
  GET    /_fake/deliveries [{event_id, event_type, url, status}] (status null if
                           the endpoint could not be reached);  DELETE clears them
  POST   /_fake/events/{evt_id}/resend  sends a stored event again, now, with a
                           fresh signature; answers {"deliveries": [...]}
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import random
import string
import time
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from localstripe import resources, server, webhooks
from localstripe.errors import UserError
from localstripe.resources import (Charge, Event, PaymentIntent, PaymentMethod,
                                   Refund, schedule_webhook)

from fakekit import FakeKit

WEBHOOK_DELAY = 0.2
IDEMPOTENT = {}    # Idempotency-Key -> {"fingerprint", "status", "body"} or IN_PROGRESS
IN_PROGRESS = object()
DELIVERIES = []    # webhook deliveries
API_KEY = None

log = logging.getLogger('aiohttp.access')


def rand(n):
    return ''.join(random.choice(string.ascii_letters + string.digits) for _ in range(n))


def stripe_error(status, type_, message, headers=None, **extra):
    return web.json_response({'error': {'type': type_, 'message': message, **extra}},
                             status=status, headers=headers)


# --- localstripe patches ----------------------------------------------------

# Always from scratch, and no shared /tmp/localstripe.pickle between instances.
resources.Store.dump_to_disk = lambda self: None


# Lists newest first, as Stripe's (localstripe's were oldest first, so that
# `limit` cut off the newest objects).
_list_all = resources.StripeObject._api_list_all.__func__


def _list_all_newest_first(cls, url, limit=None, starting_after=None, **kwargs):
    li = _list_all(cls, url, limit=limit, starting_after=starting_after, **kwargs)
    li._list.reverse()
    return li


resources.StripeObject._api_list_all = classmethod(_list_all_newest_first)


class Raw:
    """A plain dict as an event's data.object (for objects localstripe lacks)."""

    def __init__(self, obj):
        self.obj = obj

    def _export(self, expand=None):
        return json.loads(json.dumps(self.obj))


_status = PaymentIntent.status.fget


def _pi_status(self):
    # Retry with another card: Stripe lets a PaymentIntent whose charge failed
    # be confirmed again once it has a new payment method.
    charge = self.latest_charge
    if (not self._canceled and self.payment_method and not self.next_action
            and charge is not None and charge.status == 'failed'
            and charge._pi_payment_method != self.payment_method):
        return 'requires_confirmation'
    return _status(self)


PaymentIntent.status = property(_pi_status)
PaymentIntent.amount_received = property(
    lambda self: self.amount if self.status == 'succeeded' else 0)

_last_payment_error = PaymentIntent.last_payment_error.fget


def _pi_last_payment_error(self):
    error = _last_payment_error(self)
    if error and self.latest_charge and error.get('charge'):
        error.update(type='card_error', decline_code='generic_decline',
                     payment_method={'id': self.latest_charge.payment_method})
    return error


PaymentIntent.last_payment_error = property(_pi_last_payment_error)

_pi_init = PaymentIntent.__init__
PI_EXTRA_FIELDS = ('description', 'receipt_email', 'statement_descriptor',
                   'automatic_payment_methods')


def _pi_new(self, **data):
    extra = {k: data.pop(k) for k in PI_EXTRA_FIELDS if k in data}
    _pi_init(self, **data)
    for k in PI_EXTRA_FIELDS:
        setattr(self, k, extra.get(k))
    if isinstance(self.automatic_payment_methods, dict):
        enabled = str(self.automatic_payment_methods.get('enabled')).lower() == 'true'
        self.automatic_payment_methods = {'enabled': enabled}


PaymentIntent.__init__ = _pi_new

_pi_export = PaymentIntent._export


def _pi_export_ids(self, expand=None):
    obj = _pi_export(self, expand=expand)
    expanded = any(p.split('.')[0] == 'latest_charge' for p in expand or [])
    if isinstance(obj.get('latest_charge'), dict) and not expanded:
        obj['latest_charge'] = obj['latest_charge']['id']
    return obj


PaymentIntent._export = _pi_export_ids

_pi_confirm = PaymentIntent._api_confirm.__func__


def _pi_api_confirm(cls, id, payment_method=None, return_url=None, **kwargs):
    if payment_method is not None:
        obj = cls._api_retrieve(id)
        PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
        if obj.status in ('requires_payment_method', 'requires_confirmation'):
            obj.payment_method = payment_method
    return _pi_confirm(cls, id, **kwargs)  # 400 unless requires_confirmation now


PaymentIntent._api_confirm = classmethod(_pi_api_confirm)

_charge_init_charge = Charge._initialize_charge


def _charge_initialize(self, on_success=None, on_failure_now=None, on_failure_later=None):
    if self.payment_intent:
        pi = PaymentIntent._api_retrieve(self.payment_intent)
        self.metadata = dict(pi.metadata)
        # As the PaymentIntent names it (pm_card_visa becomes a pm_... here).
        self._pi_payment_method = pi.payment_method
    return _charge_init_charge(self, on_success, on_failure_now, on_failure_later)


Charge._initialize_charge = _charge_initialize


def _charge_raise_failure(self):
    err = UserError(402, self.failure_message,
                    {'code': self.failure_code, 'decline_code': 'generic_decline',
                     'charge': self.id})
    err.body['error']['type'] = 'card_error'
    if self.payment_intent:
        err.body['error']['payment_intent'] = \
            PaymentIntent._api_retrieve(self.payment_intent)._export()
    raise err


Charge._raise_failure = _charge_raise_failure

_refund_create = Refund._api_create.__func__


def _refund_api_create(cls, **data):
    charge_id = data.get('charge')
    if charge_id is None and isinstance(data.get('payment_intent'), str):
        pi = PaymentIntent._api_retrieve(data['payment_intent'])
        if pi.latest_charge is None:
            raise UserError(400, 'This PaymentIntent has no charge to refund.')
        charge_id = pi.latest_charge.id
    if isinstance(charge_id, str):
        charge = Charge._api_retrieve(charge_id)
        left = charge.amount - charge.amount_refunded
        if left <= 0:
            raise UserError(400, f'Charge {charge.id} has already been refunded.',
                            {'code': 'charge_already_refunded'})
        amount = resources.try_convert_to_int(data.get('amount', left))
        if isinstance(amount, int) and amount > left:
            raise UserError(400, f'Refund amount ({amount}) is greater than unrefunded '
                            f'amount on charge ({left})',
                            {'code': 'amount_too_large', 'param': 'amount'})
        data['amount'] = amount
    refund = _refund_create(cls, **data)
    schedule_webhook(Event('charge.refunded', Charge._api_retrieve(refund.charge)))
    return refund


Refund._api_create = classmethod(_refund_api_create)


async def _send_webhook(event, delay=None):
    """localstripe's sender (same payload, same signature), minus its fixed
    1 s wait, plus a record of each delivery."""
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode('utf-8')
    signed_payload = b'%d.%s' % (event.created, payload)
    await asyncio.sleep(WEBHOOK_DELAY if delay is None else delay)
    done = []
    for webhook in list(webhooks._webhooks.values()):
        if webhook.events is not None and event.type not in webhook.events:
            continue
        signature = hmac.new(webhook.secret.encode('utf-8'), signed_payload,
                             hashlib.sha256).hexdigest()
        headers = {'Content-Type': 'application/json; charset=utf-8',
                   'Stripe-Signature': 't=%d,v1=%s' % (event.created, signature)}
        record = {'event_id': event.id, 'event_type': event.type, 'url': webhook.url,
                  'status': None}
        DELIVERIES.append(record)
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(webhook.url, data=payload, headers=headers,
                                        timeout=aiohttp.ClientTimeout(total=30)) as r:
                    record['status'] = r.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            record['error'] = str(e) or type(e).__name__
        log.info('webhook %s %s -> %s', event.type, event.id, record['status'])
        done.append(record)
    return done


webhooks._send_webhook = _send_webhook


# --- middleware: test controls, log, faults (fakekit), API key, idempotency ---

def fingerprint(request, body):
    if request.content_type == 'application/x-www-form-urlencoded':
        params = sorted(parse_qsl(body, keep_blank_values=True))
    else:
        params = body
    return json.dumps([request.method, request.path, params])


@web.middleware
async def controls_middleware(request, handler):
    if request.path.startswith('/_fake/'):
        # Test controls: straight to the route, past localstripe's auth.
        try:
            return await request.match_info.handler(request)
        except UserError as e:
            return e.to_response()
    return await handler(request)


def injected(request, fault, headers):
    return stripe_error(fault['status'], 'api_error', 'injected', headers)


async def auth_and_idempotency(request, call):
    """After fakekit's log and faults: the API key, then Idempotency-Key."""
    entry, key, body = call.entry, call.key, call.body
    if API_KEY is not None and server.get_api_key(request) != API_KEY:
        shown = server.get_api_key(request) or ''
        return stripe_error(401, 'invalid_request_error',
                            f'Invalid API Key provided: {shown[:8]}****{shown[-4:]}')

    if key:
        saved = IDEMPOTENT.get(key)
        if saved is IN_PROGRESS:
            return stripe_error(409, 'idempotency_error',
                                'There is currently another in-progress request using '
                                'this Stripe API Key and idempotency key. Please try '
                                'again later.', code='idempotency_key_in_use')
        if saved is not None:
            if saved['fingerprint'] != fingerprint(request, body):
                return stripe_error(400, 'idempotency_error',
                                    'Keys for idempotent requests can only be used with '
                                    'the same parameters they were first used with.')
            entry['replayed'] = True
            return web.Response(status=saved['status'], body=saved['body'],
                                content_type='application/json',
                                headers={'Idempotent-Replayed': 'true'})
        IDEMPOTENT[key] = IN_PROGRESS

    try:
        # A slow-answer fault waits here: Stripe is working on it (the key is taken).
        response = await call.proceed()
    except BaseException:
        if key:
            del IDEMPOTENT[key]
        raise
    response.headers['Request-Id'] = 'req_' + rand(14)
    if key:
        IDEMPOTENT[key] = {'fingerprint': fingerprint(request, body),
                           'status': response.status, 'body': response.body}
    return response


KIT = FakeKit(prefixes=('/v1/',), key_header='Idempotency-Key', key_field='idempotency_key',
              fault_response=injected, inner=auth_and_idempotency)


async def deliveries_list(request):
    return web.json_response(DELIVERIES)


async def deliveries_clear(request):
    DELIVERIES.clear()
    return web.json_response([])


async def dispute_create(request):
    data = await request.json()
    try:
        pi = PaymentIntent._api_retrieve(str(data.get('payment_intent')))
    except UserError as e:
        return e.to_response()
    charge = pi.latest_charge
    if charge is None or charge.status != 'succeeded':
        return web.json_response({'error': 'the PaymentIntent has no successful charge'},
                                 status=400)
    dispute = {'id': 'dp_' + rand(24), 'object': 'dispute', 'charge': charge.id,
               'payment_intent': pi.id, 'amount': int(data.get('amount', charge.amount)),
               'currency': charge.currency, 'reason': data.get('reason', 'fraudulent'),
               'status': 'needs_response', 'created': int(time.time()),
               'livemode': False, 'is_charge_refundable': False, 'metadata': {}}
    event = Event('charge.dispute.created', Raw(dispute))
    schedule_webhook(event)
    return web.json_response({**dispute, 'event': event.id})


async def event_resend(request):
    event = Event._api_retrieve(request.match_info['id'])
    return web.json_response({'deliveries': await _send_webhook(event, delay=0)})


def main():
    global API_KEY, WEBHOOK_DELAY
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--api-key', help='the only secret key accepted (default: any sk_...)')
    parser.add_argument('--webhook-delay', type=float, default=WEBHOOK_DELAY,
                        help='seconds between an event and its webhook (default 0.2)')
    args = parser.parse_args()
    API_KEY, WEBHOOK_DELAY = args.api_key, args.webhook_delay

    app = server.app
    # localstripe's routes hold the functions they were made with: the
    # patched confirm needs its route pointed at it.
    confirm = '/v1/payment_intents/{id}/confirm'
    for route in app.router.routes():
        if route.method == 'POST' and route.resource.canonical == confirm:
            route._handler = server.api_extra(PaymentIntent._api_confirm, confirm)
    app.middlewares[0:0] = [controls_middleware, KIT.middleware]
    KIT.add_routes(app.router)
    app.router.add_get('/_fake/deliveries', deliveries_list)
    app.router.add_delete('/_fake/deliveries', deliveries_clear)
    app.router.add_post('/_fake/disputes', dispute_create)
    app.router.add_post('/_fake/events/{id}/resend', event_resend)

    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    web.run_app(app, host='127.0.0.1', port=args.port, access_log=log,
                shutdown_timeout=1, print=lambda *a: log.info(*a))


if __name__ == '__main__':
    main()
