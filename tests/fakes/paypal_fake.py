"""The local PayPal: a small stateful fake of PayPal's REST API (OAuth2 client
credentials, Orders v2 create/get/capture, Payments v2 refunds) that speaks its
JSON shapes and signs its webhooks as PayPal does. Started by scripts/fakes
with the venv scripts/setup makes (.local/payfakes):

    python tests/fakes/paypal_fake.py --port 25341 --client-id ID --client-secret S \
        --webhook-id WH-... --webhook-url http://127.0.0.1:8787/webhooks/paypal \
        [--public-url http://127.0.0.1:25341] [--webhook-delay 0.2]

State lives in memory (every start is empty); listens on 127.0.0.1 only.

API (as PayPal):
  POST /v1/oauth2/token                 HTTP Basic client_id:client_secret, form
                                        grant_type=client_credentials -> a Bearer token
  POST /v2/checkout/orders              intent CAPTURE (AUTHORIZE is accepted, never captured)
  GET  /v2/checkout/orders/{id}
  POST /v2/checkout/orders/{id}/capture -> 201 (capture COMPLETED, or DECLINED when the
                                        approval said so: the order then stays APPROVED),
                                        then PAYMENT.CAPTURE.COMPLETED / .DECLINED
  POST /v2/payments/captures/{id}/refund -> 201, then PAYMENT.CAPTURE.REFUNDED
  GET  /v2/payments/captures/{id}, GET /v2/payments/refunds/{id}
  GET  /v1/notifications/certs/CERT-<hash>   the certificate webhooks are signed with
                                        (its URL changes with the key, at each start)
  GET  /checkoutnow?token=ID            the buyer's page: approves (as the approve
                                        control below; &decline=1 to decline at capture)
                                        and redirects to the order's return_url with
                                        ?token=ID&PayerID=...; &cancel=1 redirects to
                                        cancel_url without approving
Every /v1 and /v2 call but the token one needs a Bearer token the fake issued
(and not expired). Every POST but the token one honours PayPal-Request-Id: a
repeated id (same method and path) returns the first answer; while the first
is still running, 422 PREVIOUS_REQUEST_IN_PROGRESS. Injected faults are not
stored. Webhooks: signed (below), POSTed once to --webhook-url --webhook-delay
seconds after the event; a failed delivery is recorded, never retried.

Signatures, as PayPal: PAYPAL-TRANSMISSION-ID (uuid4), PAYPAL-TRANSMISSION-TIME
(RFC 3339 UTC), PAYPAL-TRANSMISSION-SIG = base64 of RSA-SHA256 (PKCS#1 v1.5)
over "<transmission id>|<transmission time>|<webhook id>|<crc32 of the raw
body, decimal>", PAYPAL-CERT-URL = <public url>/v1/notifications/certs/CERT-<hash>,
PAYPAL-AUTH-ALGO: SHA256withRSA, PAYPAL-AUTH-VERSION: v2. The certificate is a
self-signed RSA-2048 one made at start.

Test controls (no token needed), all JSON:
  POST   /_fake/tokens/expire           every issued token stops working
  POST   /_fake/orders/{id}/approve     {"decline": false} -> the order is APPROVED (a
                                        declining approval makes the capture DECLINED);
                                        sends CHECKOUT.ORDER.APPROVED; answers the order
  POST   /_fake/webhooks/send           {"event_type": "...", "resource": {...},
                                         "resource_type": "capture", "summary"?: "...",
                                         "transmission_time"?: "<RFC 3339>", "forge": false,
                                         "webhook_id"?: "<sign for another id>",
                                         "cert_url"?: "<another PAYPAL-CERT-URL>"}
                                        builds the event, signs it (forge: with a key whose
                                        certificate is served nowhere), POSTs it now ->
                                        {"target_status", "target_body", "event", "headers"}
  POST   /_fake/webhooks/sign           {"body": "<raw>", "transmission_time"?, "forge"?,
                                         "webhook_id"?, "cert_url"?} -> the headers only
  POST   /_fake/events/{id}/resend      the same event again, now, freshly signed
                                        (a redelivery) -> {"target_status", "target_body", ...}
  GET    /_fake/deliveries              [{event_id, event_type, status}] (status null when
                                        unreachable);  DELETE clears them
  POST   /_fake/faults                  {"path_prefix": "/v2/checkout/orders", "method": "POST",
                                         "status": 500, "count": 2, "always": false,
                                         "delay_ms": 0, "retry_after": null, "contains": null}
                                        as in every fake (tests/fakes/fakekit.py; path_prefix
                                        default /v2/; `contains` looks in path,
                                        PayPal-Request-Id, body);
                                        the body is {"name": "INTERNAL_SERVER_ERROR" (or
                                        RATE_LIMIT_REACHED for 429, SERVICE_UNAVAILABLE for
                                        503), "message": "injected", "details": []}
  GET    /_fake/faults;  DELETE /_fake/faults
  GET    /_fake/requests                [{method, path, request_id, status, fault, replayed}]
                                        for every /v1 and /v2 request (?contains=TEXT: on
                                        path, PayPal-Request-Id or body);  DELETE clears it
"""

import argparse
import asyncio
import base64
import datetime
import hashlib
import json
import logging
import random
import re
import secrets
import string
import time
import uuid
import zlib
from decimal import Decimal

import aiohttp
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from fakekit import FakeKit

# Like PayPal's (.../v1/notifications/certs/CERT-<id>), the URL names the
# certificate: a restarted fake has a new key and so a new URL, and a
# receiver that caches certificates by URL (as ours does) never checks a new
# signature against an old certificate.
CERT_ROUTE = '/v1/notifications/certs/{name}'
ZERO_DECIMAL = {'HUF', 'JPY', 'TWD'}
log = logging.getLogger('paypal-fake')


class Fake:
    """Everything the fake knows (one instance, app['fake'])."""

    def __init__(self, args):
        self.args = args
        self.public = (args.public_url or f'http://127.0.0.1:{args.port}').rstrip('/')
        self.key, self.cert_pem = make_cert('paypal-fake')
        pem = self.cert_pem if isinstance(self.cert_pem, bytes) else self.cert_pem.encode()
        self.cert_name = 'CERT-' + hashlib.sha256(pem).hexdigest()[:24]
        self.cert_path = '/v1/notifications/certs/' + self.cert_name
        self.forge_key, _ = make_cert('paypal-fake-forged')
        self.tokens = {}       # access token -> expiry (epoch seconds)
        self.orders = {}       # id -> order (internal fields start with _)
        self.captures = {}     # id -> capture
        self.refunds = {}      # id -> refund
        self.events = {}       # id -> event
        self.answers = {}      # (method, path, PayPal-Request-Id) -> (status, body) or IN_PROGRESS
        self.deliveries = []


IN_PROGRESS = object()


def make_cert(name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'edgeshop local fake')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


def pp_id(n=17):
    return ''.join(random.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def dumps(obj):
    return json.dumps(obj)


async def json_body(request):
    """The JSON object sent, {} for an empty body; ValueError otherwise."""
    raw = await request.read()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError('not an object')
    return data


def pp_error(status, name, message, details=(), headers=None):
    return web.json_response({'name': name, 'message': message, 'details': list(details),
                              'debug_id': pp_id(13).lower()}, status=status, headers=headers)


def invalid(issue, description, field=None, value=None, status=400):
    detail = {'issue': issue, 'description': description}
    if field is not None:
        detail.update(field=field, location='body')
    if value is not None:
        detail['value'] = value
    if status == 422:
        return pp_error(422, 'UNPROCESSABLE_ENTITY',
                        'The requested action could not be performed, semantically '
                        'incorrect, or failed business validation.', [detail])
    return pp_error(400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically '
                    'incorrect, or violates schema.', [detail])


def not_found(field, value):
    return pp_error(404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.',
                    [{'field': field, 'value': value, 'location': 'path',
                      'issue': 'INVALID_RESOURCE_ID',
                      'description': 'Specified resource ID does not exist. Please check '
                                     'the resource ID and try again.'}])


def check_amount(amount, field):
    """None if `amount` is a valid PayPal money object, else the error answer."""
    if not isinstance(amount, dict):
        return invalid('MISSING_REQUIRED_PARAMETER', 'A required field / parameter is '
                       'missing.', field)
    currency, value = amount.get('currency_code'), amount.get('value')
    if not isinstance(currency, str) or not re.fullmatch(r'[A-Z]{3}', currency):
        return invalid('INVALID_PARAMETER_SYNTAX', 'The value of a field does not conform '
                       'to the expected format.', field + '/currency_code', currency)
    if not isinstance(value, str) or not re.fullmatch(r'[0-9]{1,15}(\.[0-9]+)?', value):
        return invalid('INVALID_PARAMETER_SYNTAX', 'The value of a field does not conform '
                       'to the expected format.', field + '/value', value)
    decimals = len(value.split('.')[1]) if '.' in value else 0
    if decimals > (0 if currency in ZERO_DECIMAL else 2):
        return invalid('DECIMAL_PRECISION', 'If the currency supports decimals, only two '
                       'decimal place precision is supported.', field + '/value', value,
                       status=422)
    if Decimal(value) <= 0:
        return invalid('CANNOT_BE_ZERO_OR_NEGATIVE', 'Must be greater than zero.',
                       field + '/value', value, status=422)
    return None


def money(currency, value):
    places = Decimal(1) if currency in ZERO_DECIMAL else Decimal('0.01')
    return {'currency_code': currency, 'value': str(Decimal(value).quantize(places))}


def public_order(fake, order):
    """The order as GET /v2/checkout/orders/{id} shows it."""
    oid, status = order['id'], order['status']
    links = [{'href': f'{fake.public}/v2/checkout/orders/{oid}', 'rel': 'self', 'method': 'GET'}]
    if status in ('CREATED', 'PAYER_ACTION_REQUIRED'):
        rel = 'payer-action' if order['_payment_source'] else 'approve'
        links.append({'href': f'{fake.public}/checkoutnow?token={oid}', 'rel': rel,
                      'method': 'GET'})
    if status in ('CREATED', 'APPROVED'):
        links.append({'href': f'{fake.public}/v2/checkout/orders/{oid}', 'rel': 'update',
                      'method': 'PATCH'})
    if status == 'APPROVED':
        links.append({'href': f'{fake.public}/v2/checkout/orders/{oid}/capture',
                      'rel': 'capture', 'method': 'POST'})
    out = {'id': oid, 'intent': order['intent'], 'status': status,
           'purchase_units': json.loads(json.dumps(order['purchase_units'])),
           'create_time': order['create_time'], 'links': links}
    if order.get('_payer'):
        out['payer'] = order['_payer']
        out['payment_source'] = {'paypal': {
            'email_address': order['_payer']['email_address'],
            'account_id': order['_payer']['payer_id'], 'account_status': 'VERIFIED',
            'name': order['_payer']['name']}}
    if order.get('update_time'):
        out['update_time'] = order['update_time']
    return out


# --- webhooks -----------------------------------------------------------------

def sign_headers(fake, body, transmission_time=None, forge=False, webhook_id=None,
                 cert_url=None):
    tid = str(uuid.uuid4())
    ttime = transmission_time or now_rfc3339()
    wid = webhook_id if webhook_id is not None else fake.args.webhook_id
    message = f'{tid}|{ttime}|{wid}|{zlib.crc32(body)}'.encode()
    key = fake.forge_key if forge else fake.key
    sig = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {'Content-Type': 'application/json',
            'PAYPAL-TRANSMISSION-ID': tid,
            'PAYPAL-TRANSMISSION-TIME': ttime,
            'PAYPAL-TRANSMISSION-SIG': base64.b64encode(sig).decode(),
            'PAYPAL-CERT-URL': cert_url or fake.public + fake.cert_path,
            'PAYPAL-AUTH-ALGO': 'SHA256withRSA',
            'PAYPAL-AUTH-VERSION': 'v2'}


SUMMARIES = {
    'CHECKOUT.ORDER.APPROVED': 'An order has been approved by buyer',
    'PAYMENT.CAPTURE.COMPLETED': 'Payment completed for {amount}',
    'PAYMENT.CAPTURE.DECLINED': 'A payment capture for {amount} was declined.',
    'PAYMENT.CAPTURE.REFUNDED': 'A {amount} capture payment was refunded',
}


def make_event(fake, event_type, resource, resource_type, summary=None):
    eid = f'WH-{pp_id()}-{pp_id()}'
    amount = resource.get('amount') if isinstance(resource, dict) else None
    amount = f"$ {amount.get('value')} {amount.get('currency_code')}" \
        if isinstance(amount, dict) else ''
    event = {'id': eid, 'event_version': '1.0', 'create_time': now_rfc3339(),
             'resource_type': resource_type, 'resource_version': '2.0',
             'event_type': event_type,
             'summary': summary or SUMMARIES.get(event_type, event_type).format(amount=amount),
             'resource': resource,
             'links': [{'href': f'{fake.public}/v1/notifications/webhooks-events/{eid}',
                        'rel': 'self', 'method': 'GET'},
                       {'href': f'{fake.public}/v1/notifications/webhooks-events/{eid}/resend',
                        'rel': 'resend', 'method': 'POST'}]}
    fake.events[eid] = event
    return event


async def deliver(fake, event, delay=0.0, **sign):
    await asyncio.sleep(delay)
    body = dumps(event).encode()
    headers = sign_headers(fake, body, **sign)
    record = {'event_id': event['id'], 'event_type': event['event_type'], 'status': None}
    fake.deliveries.append(record)
    result = {'target_status': None, 'target_body': None, 'event': event, 'headers': headers}
    if not fake.args.webhook_url:
        record['error'] = 'no --webhook-url'
        return result
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(fake.args.webhook_url, data=body, headers=headers,
                                    timeout=aiohttp.ClientTimeout(total=30)) as r:
                record['status'] = result['target_status'] = r.status
                result['target_body'] = await r.text()
    except (aiohttp.ClientError, asyncio.TimeoutError) as e:
        record['error'] = str(e) or type(e).__name__
    log.info('webhook %s %s -> %s', event['event_type'], event['id'], record['status'])
    return result


def send_later(fake, event_type, resource, resource_type):
    event = make_event(fake, event_type, resource, resource_type)
    asyncio.ensure_future(deliver(fake, event, fake.args.webhook_delay))
    return event


# --- the API ------------------------------------------------------------------

async def token(request):
    fake = request.app['fake']
    auth = request.headers.get('Authorization', '')
    try:
        scheme, _, encoded = auth.partition(' ')
        client_id, _, secret = base64.b64decode(encoded).decode().partition(':')
        ok = scheme == 'Basic' and (client_id, secret) == (fake.args.client_id,
                                                           fake.args.client_secret)
    except ValueError:
        ok = False
    if not ok:
        return web.json_response({'error': 'invalid_client',
                                  'error_description': 'Client Authentication failed'},
                                 status=401)
    form = await request.post()
    if form.get('grant_type') != 'client_credentials':
        return web.json_response({'error': 'unsupported_grant_type',
                                  'error_description': 'Grant Type is NULL'
                                  if not form.get('grant_type') else
                                  'unsupported grant_type'}, status=400)
    access = 'A21AA' + secrets.token_urlsafe(72)
    expires_in = 32400
    fake.tokens[access] = time.time() + expires_in
    return web.json_response({
        'scope': 'https://uri.paypal.com/services/payments/payment '
                 'https://uri.paypal.com/services/payments/refund '
                 'https://uri.paypal.com/services/checkout/one-click-with-merchant-issued-token',
        'access_token': access, 'token_type': 'Bearer', 'app_id': 'APP-80W284485P519543T',
        'expires_in': expires_in, 'nonce': f'{now_rfc3339()}{secrets.token_urlsafe(32)}'})


async def order_create(request):
    fake = request.app['fake']
    try:
        data = await json_body(request)
    except ValueError:
        return invalid('MALFORMED_REQUEST_JSON', 'The request JSON is not well formed.')
    intent = data.get('intent')
    if intent is None:
        return invalid('MISSING_REQUIRED_PARAMETER', 'A required field / parameter is '
                       'missing.', '/intent')
    if intent not in ('CAPTURE', 'AUTHORIZE'):
        return invalid('INVALID_PARAMETER_VALUE', 'The value of a field is invalid.',
                       '/intent', intent)
    units = data.get('purchase_units')
    if not isinstance(units, list) or not units:
        return invalid('MISSING_REQUIRED_PARAMETER', 'A required field / parameter is '
                       'missing.', '/purchase_units')
    stored = []
    for i, unit in enumerate(units):
        if not isinstance(unit, dict):
            return invalid('INVALID_PARAMETER_SYNTAX', 'The value of a field does not '
                           'conform to the expected format.', f'/purchase_units/{i}')
        error = check_amount(unit.get('amount'), f'/purchase_units/{i}/amount')
        if error:
            return error
        for field, limit in (('reference_id', 256), ('custom_id', 127), ('invoice_id', 127)):
            value = unit.get(field)
            if value is not None and (not isinstance(value, str) or not 1 <= len(value) <= limit):
                return invalid('INVALID_STRING_LENGTH', 'The value of a field is either too '
                               'short or too long.', f'/purchase_units/{i}/{field}', value)
        unit = {**unit, 'amount': dict(unit['amount'])}
        unit.setdefault('reference_id', 'default')
        unit['payee'] = {'email_address': 'merchant@example.com', 'merchant_id': 'FAKEMERCHANT1'}
        stored.append(unit)
    source = data.get('payment_source')
    context = (source or {}).get('paypal', {}).get('experience_context', {}) \
        if isinstance(source, dict) else {}
    oid = pp_id()
    order = {'id': oid, 'intent': intent, 'purchase_units': stored,
             'status': 'PAYER_ACTION_REQUIRED' if source else 'CREATED',
             'create_time': now_rfc3339(), '_payment_source': bool(source),
             '_return_url': context.get('return_url'), '_cancel_url': context.get('cancel_url'),
             '_decline': False}
    fake.orders[oid] = order
    full = public_order(fake, order)
    if 'return=representation' in request.headers.get('Prefer', ''):
        return web.json_response(full, status=201)
    return web.json_response({k: full[k] for k in ('id', 'status', 'links')}, status=201)


def find_order(request):
    return request.app['fake'].orders.get(request.match_info['id'])


async def order_get(request):
    order = find_order(request)
    if order is None:
        return not_found('order_id', request.match_info['id'])
    return web.json_response(public_order(request.app['fake'], order))


async def order_capture(request):
    fake = request.app['fake']
    order = find_order(request)
    if order is None:
        return not_found('order_id', request.match_info['id'])
    if order['status'] == 'COMPLETED':
        return invalid('ORDER_ALREADY_CAPTURED', "Order already captured.If 'intent=CAPTURE' "
                       'only one capture per order is allowed.', status=422)
    if order['status'] != 'APPROVED':
        return invalid('ORDER_NOT_APPROVED', "Payer has not yet approved the Order for "
                       "payment. Please redirect the payer to the 'rel':'approve' url "
                       'returned as part of the HATEOAS links within the Create Order call '
                       'or provide a valid payment_source in the request.', status=422)
    if order['intent'] != 'CAPTURE':
        return invalid('ACTION_DOES_NOT_MATCH_INTENT', 'Order was created with an intent to '
                       "'AUTHORIZE' payment. Please use the authorize action.", status=422)
    unit = order['purchase_units'][0]
    cid, when = pp_id(), now_rfc3339()
    declined = order['_decline']
    capture = {'id': cid, 'status': 'DECLINED' if declined else 'COMPLETED',
               'amount': dict(unit['amount']), 'final_capture': True,
               'seller_protection': {'status': 'ELIGIBLE',
                                     'dispute_categories': ['ITEM_NOT_RECEIVED',
                                                            'UNAUTHORIZED_TRANSACTION']},
               'create_time': when, 'update_time': when,
               'supplementary_data': {'related_ids': {'order_id': order['id']}},
               'links': [{'href': f'{fake.public}/v2/payments/captures/{cid}', 'rel': 'self',
                          'method': 'GET'},
                         {'href': f'{fake.public}/v2/payments/captures/{cid}/refund',
                          'rel': 'refund', 'method': 'POST'},
                         {'href': f"{fake.public}/v2/checkout/orders/{order['id']}",
                          'rel': 'up', 'method': 'GET'}]}
    for field in ('custom_id', 'invoice_id'):
        if field in unit:
            capture[field] = unit[field]
    if not declined:
        currency, value = unit['amount']['currency_code'], Decimal(unit['amount']['value'])
        fee = (value * Decimal('0.0349') + Decimal('0.49')).quantize(Decimal('0.01'))
        capture['seller_receivable_breakdown'] = {
            'gross_amount': money(currency, value), 'paypal_fee': money(currency, fee),
            'net_amount': money(currency, value - fee)}
        order['status'] = 'COMPLETED'
    else:
        capture['status_details'] = {'reason': 'DECLINED_BY_RISK_FRAUD_FILTERS'}
    fake.captures[cid] = capture
    unit.setdefault('payments', {}).setdefault('captures', []).append(capture)
    order['update_time'] = when
    send_later(fake, 'PAYMENT.CAPTURE.DECLINED' if declined else 'PAYMENT.CAPTURE.COMPLETED',
               json.loads(json.dumps(capture)), 'capture')
    full = public_order(fake, order)
    body = {'id': order['id'], 'status': order['status'],
            'payment_source': full.get('payment_source'), 'payer': full.get('payer'),
            'purchase_units': [{'reference_id': unit['reference_id'],
                                'payments': {'captures': [capture]}}],
            'links': [full['links'][0]]}
    return web.json_response(body, status=201)


def refunded_total(fake, capture_id):
    return sum((Decimal(r['amount']['value']) for r in fake.refunds.values()
                if r['_capture_id'] == capture_id), Decimal(0))


def public_refund(refund):
    return {k: v for k, v in refund.items() if not k.startswith('_')}


async def capture_refund(request):
    fake = request.app['fake']
    cid = request.match_info['id']
    capture = fake.captures.get(cid)
    if capture is None:
        return not_found('capture_id', cid)
    try:
        data = await json_body(request)
    except ValueError:
        return invalid('MALFORMED_REQUEST_JSON', 'The request JSON is not well formed.')
    if capture['status'] not in ('COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED'):
        return invalid('CAPTURE_STATUS_NOT_VALID', 'Invalid capture status. Tried to refund '
                       'a capture that is not completed.', status=422)
    currency = capture['amount']['currency_code']
    left = Decimal(capture['amount']['value']) - refunded_total(fake, cid)
    if left <= 0:
        return invalid('CAPTURE_FULLY_REFUNDED', 'The capture has already been fully '
                       'refunded', status=422)
    amount = data.get('amount')
    if amount is not None:
        error = check_amount(amount, '/amount')
        if error:
            return error
        if amount['currency_code'] != currency:
            return invalid('CURRENCY_MISMATCH', 'Refund must be in the same currency as the '
                           'capture.', '/amount/currency_code', amount['currency_code'],
                           status=422)
        if Decimal(amount['value']) > left:
            return invalid('REFUND_AMOUNT_EXCEEDED', 'The refund amount must be less than or '
                           'equal to the capture amount that has not yet been refunded.',
                           status=422)
        value = Decimal(amount['value'])
    else:
        value = left
    rid, when = pp_id(), now_rfc3339()
    refund = {'id': rid, 'status': 'COMPLETED', 'amount': money(currency, value),
              'seller_payable_breakdown': {'gross_amount': money(currency, value),
                                           'net_amount': money(currency, value),
                                           'total_refunded_amount':
                                               money(currency, value + refunded_total(fake, cid))},
              'create_time': when, 'update_time': when,
              'links': [{'href': f'{fake.public}/v2/payments/refunds/{rid}', 'rel': 'self',
                         'method': 'GET'},
                        {'href': f'{fake.public}/v2/payments/captures/{cid}', 'rel': 'up',
                         'method': 'GET'}],
              '_capture_id': cid}
    for field in ('custom_id', 'invoice_id', 'note_to_payer'):
        if data.get(field) is not None:
            refund[field] = data[field]
    fake.refunds[rid] = refund
    capture['status'] = 'REFUNDED' if value == left else 'PARTIALLY_REFUNDED'
    capture['update_time'] = when
    resource = {**public_refund(refund), 'supplementary_data': {'related_ids': {
        'order_id': capture['supplementary_data']['related_ids']['order_id'],
        'capture_id': cid}}}
    send_later(fake, 'PAYMENT.CAPTURE.REFUNDED', resource, 'refund')
    return web.json_response(public_refund(refund), status=201)


async def capture_get(request):
    capture = request.app['fake'].captures.get(request.match_info['id'])
    if capture is None:
        return not_found('capture_id', request.match_info['id'])
    return web.json_response(capture)


async def refund_get(request):
    refund = request.app['fake'].refunds.get(request.match_info['id'])
    if refund is None:
        return not_found('refund_id', request.match_info['id'])
    return web.json_response(public_refund(refund))


async def cert(request):
    fake = request.app['fake']
    if request.match_info['name'] != fake.cert_name:
        return web.json_response({'name': 'RESOURCE_NOT_FOUND', 'message': 'no such certificate',
                                  'details': []}, status=404)
    return web.Response(body=fake.cert_pem, content_type='application/x-pem-file')


# --- test controls --------------------------------------------------------------

def approve(fake, order, decline=False):
    order['status'] = 'APPROVED'
    order['_decline'] = bool(decline)
    order['update_time'] = now_rfc3339()
    order.setdefault('_payer', {'payer_id': pp_id(13), 'email_address': 'buyer@example.com',
                                'name': {'given_name': 'Test', 'surname': 'Buyer'},
                                'address': {'country_code': 'US'}})
    send_later(fake, 'CHECKOUT.ORDER.APPROVED', public_order(fake, order), 'checkout-order')


async def fake_approve(request):
    fake = request.app['fake']
    order = find_order(request)
    if order is None:
        return not_found('order_id', request.match_info['id'])
    if order['status'] == 'COMPLETED':
        return invalid('ORDER_ALREADY_CAPTURED', 'Order already captured.', status=422)
    data = await json_body(request)
    approve(fake, order, data.get('decline', False))
    return web.json_response(public_order(fake, order))


async def checkoutnow(request):
    fake = request.app['fake']
    order = fake.orders.get(request.query.get('token', ''))
    if order is None:
        return web.Response(status=404, text='no such order')
    if request.query.get('cancel') == '1':
        target = order['_cancel_url']
    else:
        if order['status'] != 'COMPLETED':
            approve(fake, order, request.query.get('decline') == '1')
        target = order['_return_url']
    if not target:
        return web.Response(text=f"order {order['id']}: {order['status']}")
    sep = '&' if '?' in target else '?'
    raise web.HTTPFound(f"{target}{sep}token={order['id']}&PayerID="
                        f"{order.get('_payer', {}).get('payer_id', '')}")


def sign_options(data):
    return {k: data.get(k) for k in ('transmission_time', 'forge', 'webhook_id', 'cert_url')
            if data.get(k) is not None}


async def fake_send(request):
    fake = request.app['fake']
    data = await request.json()
    event = make_event(fake, data['event_type'], data.get('resource', {}),
                       data.get('resource_type', 'capture'), data.get('summary'))
    return web.json_response(await deliver(fake, event, **sign_options(data)))


async def fake_sign(request):
    data = await request.json()
    body = data['body'].encode() if isinstance(data['body'], str) else dumps(data['body']).encode()
    return web.json_response(sign_headers(request.app['fake'], body, **sign_options(data)))


async def fake_resend(request):
    fake = request.app['fake']
    event = fake.events.get(request.match_info['id'])
    if event is None:
        return web.json_response({'error': 'no such event'}, status=404)
    data = await json_body(request)
    return web.json_response(await deliver(fake, event, **sign_options(data)))


async def tokens_expire(request):
    request.app['fake'].tokens.clear()
    return web.json_response({'expired': True})


def controls(name):
    async def get(request):
        return web.json_response(getattr(request.app['fake'], name))

    async def clear(request):
        getattr(request.app['fake'], name).clear()
        return web.json_response([])
    return get, clear


# --- middleware: log, faults (fakekit), auth, PayPal-Request-Id -----------------

FAULT_NAMES = {429: 'RATE_LIMIT_REACHED', 503: 'SERVICE_UNAVAILABLE'}


def with_debug_id(response):
    response.headers['Paypal-Debug-Id'] = pp_id(13).lower()
    return response


def injected(request, fault, headers):
    return with_debug_id(pp_error(fault['status'],
                                  FAULT_NAMES.get(fault['status'], 'INTERNAL_SERVER_ERROR'),
                                  'injected', headers=headers))


async def auth_and_request_id(request, call):
    """After fakekit's log and faults: the Bearer token, then PayPal-Request-Id."""
    fake = request.app['fake']
    if request.path != '/v1/oauth2/token':
        auth = request.headers.get('Authorization', '')
        token = auth[7:] if auth.startswith('Bearer ') else None
        if token is None or fake.tokens.get(token, 0) < time.time():
            return with_debug_id(web.json_response({
                'name': 'AUTHENTICATION_FAILURE',
                'message': 'Authentication failed due to invalid authentication '
                           'credentials or a missing Authorization header.',
                'links': [{'href': 'https://developer.paypal.com/docs/api/overview/#error',
                           'rel': 'information_link'}],
                'details': []}, status=401))

    key = (request.method, request.path, call.key) if call.key else None
    if key:
        saved = fake.answers.get(key)
        if saved is IN_PROGRESS:
            return with_debug_id(invalid('PREVIOUS_REQUEST_IN_PROGRESS', 'A previous request '
                                         'on this resource is currently in progress. Please '
                                         'wait for some time and try again.', status=422))
        if saved is not None:
            call.entry['replayed'] = True
            return with_debug_id(web.Response(status=saved[0], body=saved[1],
                                              content_type='application/json'))
        fake.answers[key] = IN_PROGRESS
    try:
        # A slow-answer fault waits here: the work is under way (the request id is taken).
        response = await call.proceed()
    except BaseException:
        if key:
            del fake.answers[key]
        raise
    if key:
        fake.answers[key] = (response.status, response.body)
    return with_debug_id(response)


def takes_request_id(request):
    """Every POST but the token one honours PayPal-Request-Id."""
    return request.method == 'POST' and request.path != '/v1/oauth2/token'


# Certificates are public, as PayPal's are (webhook receivers fetch them): not
# logged, no faults, no token.
KIT = FakeKit(prefixes=('/v1/', '/v2/'), exempt=('/v1/notifications/certs/',),
              default_prefix='/v2/', key_header='PayPal-Request-Id', key_field='request_id',
              keyed=takes_request_id, fault_response=injected, inner=auth_and_request_id)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--client-id', required=True)
    parser.add_argument('--client-secret', required=True)
    parser.add_argument('--webhook-id', required=True)
    parser.add_argument('--webhook-url', help='where webhooks go (none: not sent, recorded)')
    parser.add_argument('--public-url', help='its own base URL (default http://127.0.0.1:PORT)')
    parser.add_argument('--webhook-delay', type=float, default=0.2,
                        help='seconds between an event and its webhook (default 0.2)')
    args = parser.parse_args()

    app = web.Application(middlewares=[KIT.middleware])
    app['fake'] = Fake(args)
    r = app.router
    r.add_post('/v1/oauth2/token', token)
    r.add_post('/v2/checkout/orders', order_create)
    r.add_get('/v2/checkout/orders/{id}', order_get)
    r.add_post('/v2/checkout/orders/{id}/capture', order_capture)
    r.add_get('/v2/payments/captures/{id}', capture_get)
    r.add_post('/v2/payments/captures/{id}/refund', capture_refund)
    r.add_get('/v2/payments/refunds/{id}', refund_get)
    r.add_get(CERT_ROUTE, cert)
    r.add_get('/checkoutnow', checkoutnow)
    r.add_post('/_fake/tokens/expire', tokens_expire)
    r.add_post('/_fake/orders/{id}/approve', fake_approve)
    r.add_post('/_fake/webhooks/send', fake_send)
    r.add_post('/_fake/webhooks/sign', fake_sign)
    r.add_post('/_fake/events/{id}/resend', fake_resend)
    get, clear = controls('deliveries')
    r.add_get('/_fake/deliveries', get)
    r.add_delete('/_fake/deliveries', clear)
    KIT.add_routes(r)

    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    web.run_app(app, host='127.0.0.1', port=args.port, access_log=log,
                shutdown_timeout=1, print=lambda *a: log.info(*a))


if __name__ == '__main__':
    main()
