"""Where our alerts and emails go, locally: a Slack incoming webhook and a
SendGrid v3-style mail API in one small fake, which keeps what it was sent for
tests to read. Started by scripts/fakes with the venv scripts/setup makes
(.local/payfakes):

    python tests/fakes/notify_fake.py --port 25343 [--email-api-key SG....]

State lives in memory (every start is empty); listens on 127.0.0.1 only.

API:
  POST /slack/<anything>   a Slack incoming webhook (any path under /slack/ is one;
                           scripts/dev points ALERT_WEBHOOK_URL at /slack/alerts):
                           JSON {"text": "...", "blocks"?: [...]} -> 200 `ok`
                           (text/plain), as Slack; a body that is not a JSON object
                           with a string `text` -> 400 `invalid_payload` (text/plain)
  POST /v3/mail/send       as SendGrid v3: header `Authorization: Bearer <key>`
                           (--email-api-key; without it any non-empty key passes;
                           else 401 {"errors": [{"message", "field": null, "help": null}]});
                           JSON {"personalizations": [{"to": [{"email", "name"?}],
                           "subject"?, "custom_args"?}], "from": {"email", "name"?},
                           "subject", "content": [{"type": "text/plain", "value"}, ...],
                           "custom_args"?: {"k": "string"}} -> 202, empty body, header
                           X-Message-Id. A wrong shape -> 400 {"errors": [{"message",
                           "field", "help": null}...]} (every problem found, as SendGrid):
                           personalizations a non-empty list, each with a non-empty `to`
                           of valid addresses; from.email valid; a subject (top level or
                           in every personalization); content a non-empty list of
                           {type, value} with non-empty strings, text/plain first and
                           text/html next when present (content may be left out when a
                           template_id is given); custom_args values strings.

Test controls (no key needed), all JSON:
  GET    /_fake/slack      {"messages": [{"path", "body", "at"}...]} the webhook posts
                           accepted, oldest first (body: the JSON sent; at: ISO 8601 UTC);
                           ?path=/slack/alerts keeps one webhook's, ?contains=TEXT those
                           whose JSON contains TEXT
  DELETE /_fake/slack      forgets them
  GET    /_fake/mail       {"messages": [{"to": ["a@x.com", ...], "from": "shop@x.com",
                           "subject", "content": [...as sent], "custom_args": {...},
                           "message_id", "at"}...]} the mails accepted, oldest first;
                           one per send (to: every personalization's `to` addresses;
                           subject: the top-level one, else the first personalization's;
                           custom_args: the top-level ones overridden by the
                           personalizations', {} if none); ?to=EMAIL keeps those sent to
                           it (case-insensitive), ?contains=TEXT those whose JSON
                           contains TEXT
  DELETE /_fake/mail       forgets them
  POST   /_fake/faults     {"path_prefix": "/v3/mail/send", "method": "POST", "status": 503,
                            "count": 2, "always": false, "delay_ms": 0,
                            "retry_after": null, "contains": null}
                           as in every fake (tests/fakes/fakekit.py): the next `count`
                           matching requests (path_prefix default: both APIs; contains:
                           on path or body), or every one with "always": true until
                           DELETE /_fake/faults, get `status` without being kept: on
                           /slack/ a text/plain `injected` (429: `rate_limited`), on
                           /v3/ {"errors": [{"message": "injected", "field": null,
                           "help": null}]}; delay_ms as in fakekit.py
  GET    /_fake/faults;  DELETE /_fake/faults
  GET    /_fake/requests   [{method, path, status, fault, replayed}] for every /slack/ and
                           /v3/ request (?contains=TEXT: on path or body; replayed is
                           always false here);  DELETE clears it
"""

import argparse
import datetime
import json
import logging
import re
import secrets

from aiohttp import web

from fakekit import FakeKit

log = logging.getLogger('notify-fake')
EMAIL = re.compile(r'[^@\s]+@[^@\s]+\.[^@\s]+')
HELP = 'https://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html'


class Fake:
    """Everything the fake knows (one instance, app['fake'])."""

    def __init__(self, args):
        self.email_api_key = args.email_api_key
        self.slack = []    # webhook posts accepted
        self.mail = []     # mails accepted


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='milliseconds') \
        .replace('+00:00', 'Z')


def sg_errors(status, *errors):
    """SendGrid's error answer; errors: (message, field) pairs."""
    return web.json_response({'errors': [{'message': m, 'field': f, 'help': None}
                                         for m, f in errors]}, status=status)


# --- Slack ----------------------------------------------------------------------

async def slack_post(request):
    try:
        data = json.loads(await request.read())
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get('text'), str):
        return web.Response(status=400, text='invalid_payload')
    request.app['fake'].slack.append({'path': request.path, 'body': data, 'at': now_iso()})
    return web.Response(text='ok')


# --- SendGrid -------------------------------------------------------------------

def valid_email(value):
    return isinstance(value, str) and EMAIL.fullmatch(value) is not None


def check_addresses(value, field, errors, required=True):
    """A list of {"email", "name"?}: appends what is wrong to errors."""
    if value is None and not required:
        return
    if not isinstance(value, list) or not value:
        name = field.split('.')[-1]
        errors.append((f'The {name} array is required for all personalization objects, '
                       'and must have at least one email object with a valid email address.'
                       if required else f'The {name} array, when given, must have at least '
                       'one email object with a valid email address.', field))
        return
    for i, address in enumerate(value):
        if not isinstance(address, dict) or not valid_email(address.get('email')):
            errors.append(('Does not contain a valid address.', f'{field}.{i}.email'))


def check_mail(data):
    """What is wrong with a /v3/mail/send body, as (message, field) pairs."""
    errors = []
    personalizations = data.get('personalizations')
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(('The personalizations field is required and must have at least one '
                       'personalization.', 'personalizations'))
        personalizations = []
    for i, p in enumerate(personalizations):
        if not isinstance(p, dict):
            errors.append(('A personalization must be an object.', f'personalizations.{i}'))
            continue
        check_addresses(p.get('to'), f'personalizations.{i}.to', errors)
        check_addresses(p.get('cc'), f'personalizations.{i}.cc', errors, required=False)
        check_addresses(p.get('bcc'), f'personalizations.{i}.bcc', errors, required=False)
    sender = data.get('from')
    if not isinstance(sender, dict) or not valid_email(sender.get('email')):
        errors.append(('The from object must be provided for every email send. It is an '
                       'object that requires the email parameter, but may also contain a '
                       'name parameter.', 'from.email'))
    subject = data.get('subject')
    every_has_subject = personalizations and all(
        isinstance(p, dict) and isinstance(p.get('subject'), str) and p['subject']
        for p in personalizations)
    if subject is not None and not isinstance(subject, str):
        errors.append(('The subject must be a string.', 'subject'))
    elif not subject and not every_has_subject and not data.get('template_id'):
        errors.append(('The subject is required. You can get around this requirement if you '
                       'use a template with a subject defined or if every personalization '
                       'has a subject defined.', 'subject'))
    content = data.get('content')
    if content is None and isinstance(data.get('template_id'), str):
        pass
    elif not isinstance(content, list) or not content:
        errors.append(('Unless a valid template_id is provided, the content parameter is '
                       'required. There must be at least one defined content block.',
                       'content'))
    else:
        types = []
        for i, block in enumerate(content):
            if not isinstance(block, dict) or not isinstance(block.get('type'), str) \
                    or not block['type']:
                errors.append(('The content type must be a string at least one character '
                               'in length.', f'content.{i}.type'))
                types.append(None)
                continue
            types.append(block['type'])
            if not isinstance(block.get('value'), str) or not block['value']:
                errors.append(('The content value must be a string at least one character '
                               'in length.', f'content.{i}.value'))
        leading = [t for t in ('text/plain', 'text/html') if t in types]
        if types[:len(leading)] != leading:
            errors.append(('If present, text/plain must be first, followed by text/html, '
                           'followed by any other content.', 'content'))
    args = [data.get('custom_args')] + [p.get('custom_args') for p in personalizations
                                        if isinstance(p, dict)]
    for i, a in enumerate(args):
        if a is None:
            continue
        if not isinstance(a, dict) or not all(isinstance(v, str) for v in a.values()):
            field = 'custom_args' if i == 0 else f'personalizations.{i - 1}.custom_args'
            errors.append(('custom_args must be an object whose values are strings.', field))
    return errors


def mail_record(data, message_id):
    personalizations = data['personalizations']
    custom_args = dict(data.get('custom_args') or {})
    for p in personalizations:
        custom_args.update(p.get('custom_args') or {})
    return {'to': [a['email'] for p in personalizations for a in p['to']],
            'from': data['from']['email'],
            'subject': data.get('subject') or personalizations[0].get('subject'),
            'content': data.get('content') or [],
            'custom_args': custom_args,
            'message_id': message_id,
            'at': now_iso()}


async def mail_send(request):
    fake = request.app['fake']
    auth = request.headers.get('Authorization', '')
    token = auth[7:] if auth.startswith('Bearer ') else ''
    if not token or (fake.email_api_key is not None and token != fake.email_api_key):
        return sg_errors(401, ('The provided authorization grant is invalid, expired, or '
                               'revoked', None))
    try:
        data = json.loads(await request.read())
    except ValueError:
        return sg_errors(400, ('Bad Request', None))
    if not isinstance(data, dict):
        return sg_errors(400, ('Bad Request', None))
    errors = check_mail(data)
    if errors:
        return sg_errors(400, *errors)
    message_id = secrets.token_urlsafe(16)
    record = mail_record(data, message_id)
    fake.mail.append(record)
    log.info('mail %s to %s: %s', message_id, ', '.join(record['to']), record['subject'])
    return web.Response(status=202, headers={'X-Message-Id': message_id})


def injected(request, fault, headers):
    if request.path.startswith('/slack/'):
        return web.Response(status=fault['status'], headers=headers,
                            text='rate_limited' if fault['status'] == 429 else 'injected')
    response = sg_errors(fault['status'], ('injected', None))
    response.headers.update(headers or {})
    return response


KIT = FakeKit(prefixes=('/slack/', '/v3/'), default_prefix='/', fault_response=injected)


# --- test controls ----------------------------------------------------------------

def contains(message, text):
    return not text or text in json.dumps(message, ensure_ascii=False)


async def slack_list(request):
    path, text = request.query.get('path'), request.query.get('contains')
    return web.json_response({'messages': [
        m for m in request.app['fake'].slack
        if (path is None or m['path'] == path) and contains(m, text)]})


async def mail_list(request):
    to, text = request.query.get('to'), request.query.get('contains')
    to = to.casefold() if to is not None else None
    return web.json_response({'messages': [
        m for m in request.app['fake'].mail
        if (to is None or to in (a.casefold() for a in m['to'])) and contains(m, text)]})


def clear(name):
    async def handler(request):
        getattr(request.app['fake'], name).clear()
        return web.json_response({'messages': []})
    return handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--email-api-key', help='the only mail API key accepted (default: any)')
    args = parser.parse_args()

    app = web.Application(middlewares=[KIT.middleware])
    app['fake'] = Fake(args)
    r = app.router
    r.add_post('/slack/{hook:.+}', slack_post)
    r.add_post('/v3/mail/send', mail_send)
    r.add_get('/_fake/slack', slack_list)
    r.add_delete('/_fake/slack', clear('slack'))
    r.add_get('/_fake/mail', mail_list)
    r.add_delete('/_fake/mail', clear('mail'))
    KIT.add_routes(r)

    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    web.run_app(app, host='127.0.0.1', port=args.port, access_log=log,
                shutdown_timeout=1, print=lambda *a: log.info(*a))


if __name__ == '__main__':
    main()
