"""The local carrier: a small fake of ShipStation API v2 (formerly ShipEngine)
label purchase, POST /v2/labels, that speaks its JSON shapes. Started by
scripts/fakes with the venv scripts/setup makes (.local/payfakes):

    python tests/fakes/carrier_fake.py --port 25342 [--api-key KEY]

State lives in memory (every start is empty); listens on 127.0.0.1 only.

API (as ShipEngine):
  POST /v2/labels     header `API-Key: <key>` (--api-key; without it any non-empty key
                      passes); body {"external_shipment_id": "<our order's public id>",
                      "shipment": {"service_code", "ship_to", "ship_from",
                      "packages": [{"weight": {"value": n, "unit": "ounce"}}]}}
                      -> 200 {"label_id": "se-<n>", "status": "completed",
                      "shipment_id": "se-<m>", "external_shipment_id", "tracking_number":
                      "<22 digits, unique>", "carrier_id": "se-123", "carrier_code": "ups",
                      "service_code": <as sent, else "ups_ground">, "shipment_cost":
                      {"currency": "usd", "amount": 9.5}, "label_download": {"href":
                      "http://127.0.0.1:<port>/labels/se-<n>.pdf"}, "created_at": "<ISO 8601>"}
                      Only the envelope is checked: external_shipment_id a non-empty
                      string, shipment an object (else 400, error_type "validation").
  PUT  /v2/labels/{label_id}/void
                      -> 200 {"approved": true, "message": "Request for refund submitted.
                      This label has been voided.", "voided_label_ids": [id]}; the label's
                      "status" becomes "voided" and "voided" true. A label voided already:
                      200 {"approved": false, "reason_code": "label_already_voided", ...}.
                      Unknown label: 404 (not_found).
  GET  /labels/se-<n>.pdf   the label (a one-page placeholder PDF; no key needed)
Errors, as ShipEngine: {"request_id": "<uuid>", "errors": [{"error_source": "shipengine",
"error_type": "security" (401) | "validation" (400, 404) | "system" (injected),
"error_code", "message"}]}.

Idempotency, as ShipStation API v2: there is no idempotency key (an
`Idempotency-Key` header is logged and otherwise ignored), but
`external_shipment_id` is unique per account: a second POST /v2/labels with an
id that already has a label is refused, 400 (invalid_field_value, "... already
in use"). The label of an id is found with
  GET  /v2/labels/external_shipment_id/{id}   -> 200 the label | 404 (not_found)

Test controls (no key needed), all JSON:
  GET    /_fake/labels     {"labels": [<label as answered>...]} every label created
                           (replays are not new labels), oldest first;
                           ?external_shipment_id=X keeps that shipment's
  DELETE /_fake/labels     forgets the labels
  POST   /_fake/faults     {"path_prefix": "/v2/labels", "method": "POST", "status": 503,
                            "count": 2, "always": false, "delay_ms": 0,
                            "retry_after": null, "contains": null}
                           the next `count` matching requests (path_prefix default
                           /v2/; method null = any; contains: only requests whose path,
                           Idempotency-Key or body contains that text, e.g. an
                           external_shipment_id) get `status`, without booking, with
                           {"request_id", "errors": [{"error_source": "shipengine",
                           "error_type": "system", "error_code": "unspecified" (or
                           "rate_limit_exceeded" for 429, "timeout" for 504),
                           "message": "injected"}]} (and Retry-After if given).
                           "always": true instead of count: every matching request
                           until DELETE /_fake/faults. delay_ms > 0 waits first;
                           delay_ms without status = a slow answer: the label is
                           booked after the delay even if the client gave up (a
                           timeout whose booking happened anyway). Answers the
                           pending faults.
  GET    /_fake/faults;  DELETE /_fake/faults  clears them
  GET    /_fake/requests   [{method, path, idempotency_key, status, fault, replayed}]
                           for every /v2 request, oldest first (?contains=TEXT: on
                           path, Idempotency-Key or body);  DELETE clears it
(faults and the request log: tests/fakes/fakekit.py, as in the other fakes)
"""

import argparse
import datetime
import itertools
import json
import logging
import random
import uuid

from aiohttp import web

from fakekit import FakeKit

log = logging.getLogger('carrier-fake')
FAULT_CODES = {429: 'rate_limit_exceeded', 504: 'timeout'}


class Fake:
    """Everything the fake knows (one instance, app['fake'])."""

    def __init__(self, args):
        self.api_key = args.api_key
        self.public = f'http://127.0.0.1:{args.port}'
        self.labels = []            # every label created, oldest first
        self.label_numbers = itertools.count(100001)
        self.shipment_numbers = itertools.count(500001)
        self.tracking_numbers = set()

    def tracking_number(self):
        while True:
            number = ''.join(random.choice('0123456789') for _ in range(22))
            if number not in self.tracking_numbers:
                self.tracking_numbers.add(number)
                return number


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds') \
        .replace('+00:00', 'Z')


def se_error(status, error_type, error_code, message, headers=None):
    return web.json_response({'request_id': str(uuid.uuid4()),
                              'errors': [{'error_source': 'shipengine',
                                          'error_type': error_type,
                                          'error_code': error_code,
                                          'message': message}]},
                             status=status, headers=headers)


def invalid(error_code, message):
    return se_error(400, 'validation', error_code, message)


def fingerprint(body):
    """The request body, canonical when it is JSON."""
    try:
        return json.dumps(json.loads(body), sort_keys=True)
    except ValueError:
        return body


# --- the API ------------------------------------------------------------------

async def label_create(request):
    fake = request.app['fake']
    raw = await request.read()
    if not raw.strip():
        return invalid('request_body_required', 'A request body is required.')
    try:
        data = json.loads(raw)
    except ValueError:
        return invalid('invalid_field_value', 'The request body is not valid JSON.')
    if not isinstance(data, dict):
        return invalid('invalid_field_value', 'The request body must be a JSON object.')
    external_id = data.get('external_shipment_id')
    if external_id is None:
        return invalid('field_value_required', 'external_shipment_id is required.')
    if not isinstance(external_id, str) or not external_id.strip():
        return invalid('invalid_field_value',
                       'external_shipment_id must be a non-empty string.')
    shipment = data.get('shipment')
    if shipment is None:
        return invalid('field_value_required', 'shipment is required.')
    if not isinstance(shipment, dict):
        return invalid('invalid_field_value', 'shipment must be an object.')

    if any(la['external_shipment_id'] == external_id for la in fake.labels):
        return invalid('invalid_field_value',
                       f'external_shipment_id {external_id} is already in use.')
    label_id = f'se-{next(fake.label_numbers)}'
    label = {'label_id': label_id,
             'status': 'completed',
             'shipment_id': f'se-{next(fake.shipment_numbers)}',
             'external_shipment_id': external_id,
             'tracking_number': fake.tracking_number(),
             'carrier_id': 'se-123',
             'carrier_code': 'ups',
             'service_code': shipment.get('service_code') or 'ups_ground',
             'shipment_cost': {'currency': 'usd', 'amount': 9.5},
             'label_download': {'href': f'{fake.public}/labels/{label_id}.pdf'},
             'created_at': now_iso(),
             'voided': False,
             'voided_at': None}
    fake.labels.append(label)
    log.info('label %s for %s', label_id, external_id)
    return web.json_response(label)


def label_or_404(request):
    """(the label the path names, None), or (None, the 404 to answer)."""
    label_id = request.match_info['id']
    label = next((la for la in request.app['fake'].labels if la['label_id'] == label_id), None)
    if label is None:
        return None, se_error(404, 'validation', 'not_found', f'Label {label_id} not found.')
    return label, None


async def label_void(request):
    label, missing = label_or_404(request)
    if missing:
        return missing
    label_id = label['label_id']
    if label['voided']:
        return web.json_response({'approved': False,
                                  'message': f'Label {label_id} has already been voided.',
                                  'reason_code': 'label_already_voided'})
    label.update(status='voided', voided=True, voided_at=now_iso())
    log.info('label %s voided', label_id)
    return web.json_response({'approved': True,
                              'message': 'Request for refund submitted. '
                                         'This label has been voided.',
                              'voided_label_ids': [label_id]})


# A one-page placeholder PDF naming the label (no xref table: PDF readers
# rebuild it; nothing here reads the file).
PDF = ('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n'
       '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n'
       '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 288 432]/Contents 4 0 R'
       '/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>>>>>>>endobj\n'
       '4 0 obj<</Length {length}>>stream\n{stream}\nendstream endobj\n'
       'trailer<</Root 1 0 R>>\n%%EOF\n')


async def label_by_external_id(request):
    fake = request.app['fake']
    external_id = request.match_info['id']
    label = next((la for la in fake.labels if la['external_shipment_id'] == external_id), None)
    if label is None:
        return se_error(404, 'validation', 'not_found',
                        f'No label has external_shipment_id {external_id}.')
    return web.json_response(label)


async def label_pdf(request):
    label, missing = label_or_404(request)
    if missing:
        return missing
    label_id = label['label_id']
    stream = (f"BT /F1 14 Tf 20 400 Td (FAKE LABEL {label_id}) Tj 0 -24 Td "
              f"(tracking {label['tracking_number']}) Tj ET")
    body = PDF.replace('{length}', str(len(stream))).replace('{stream}', stream)
    return web.Response(body=body.encode(), content_type='application/pdf')


# --- middleware (after fakekit's log and faults): API key, Idempotency-Key -----

def injected(request, fault, headers):
    return se_error(fault['status'], 'system', FAULT_CODES.get(fault['status'], 'unspecified'),
                    'injected', headers)


async def auth(request, call):
    fake = request.app['fake']
    given = request.headers.get('API-Key', '')
    if not given or (fake.api_key is not None and given != fake.api_key):
        return se_error(401, 'security', 'unauthorized',
                        'The API key is invalid. Please see https://www.shipengine.com/docs/auth')
    return await call.proceed()


KIT = FakeKit(prefixes=('/v2/',), key_header='Idempotency-Key', key_field='idempotency_key',
              fault_response=injected, inner=auth)


# --- test controls ---------------------------------------------------------------

async def labels_list(request):
    external_id = request.query.get('external_shipment_id')
    return web.json_response({'labels': [
        label for label in request.app['fake'].labels
        if external_id is None or label['external_shipment_id'] == external_id]})


async def labels_clear(request):
    fake = request.app['fake']
    fake.labels.clear()
    return web.json_response({'labels': []})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--api-key', help='the only API-Key accepted (default: any)')
    args = parser.parse_args()

    app = web.Application(middlewares=[KIT.middleware])
    app['fake'] = Fake(args)
    r = app.router
    r.add_post('/v2/labels', label_create)
    r.add_get('/v2/labels/external_shipment_id/{id}', label_by_external_id)
    r.add_put('/v2/labels/{id}/void', label_void)
    r.add_get('/labels/{id}.pdf', label_pdf)
    r.add_get('/_fake/labels', labels_list)
    r.add_delete('/_fake/labels', labels_clear)
    KIT.add_routes(r)

    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    web.run_app(app, host='127.0.0.1', port=args.port, access_log=log,
                shutdown_timeout=1, print=lambda *a: log.info(*a))


if __name__ == '__main__':
    main()
