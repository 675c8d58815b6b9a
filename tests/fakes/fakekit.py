"""What every fake in tests/fakes shares: injected faults and a request log,
as an aiohttp middleware plus its test-control routes. One FakeKit per fake;
the fake says which of its paths are its API, which header carries its
idempotency key, and how its provider words an error.

Test controls (no credentials needed), all JSON:
  POST   /_fake/faults     {"path_prefix": "/v1/payment_intents", "method": "POST",
                            "status": 500, "count": 2, "always": false, "delay_ms": 0,
                            "retry_after": null, "contains": null}
         the next `count` matching requests (path_prefix: default the fake's API
         prefix; method null = any; contains: only requests whose path,
         idempotency header or body contains that text, for tests that run in
         parallel) get `status` with the fake's error body (and Retry-After if
         given), without reaching the fake's API. "always": true instead: every
         matching request, until DELETE /_fake/faults (count is then null).
         delay_ms > 0 waits first; delay_ms without status = a slow answer that
         then proceeds normally (the request is carried out even if the client
         gave up meanwhile). Faults are tried in the order they were added; the
         first that matches is used. Answers the pending faults.
  GET    /_fake/faults     the pending faults;  DELETE /_fake/faults  clears them
  GET    /_fake/requests   [{method, path, <key field>, status, fault, replayed}] for
                           every API request, oldest first (status null while running;
                           ?contains=TEXT keeps those whose path, idempotency header or
                           body contains TEXT);  DELETE clears it

A fake uses it so:

    kit = FakeKit(prefixes=('/v2/',), key_header='Idempotency-Key',
                  key_field='idempotency_key', fault_response=my_error,
                  inner=my_auth_and_idempotency)
    app = web.Application(middlewares=[kit.middleware])
    kit.add_routes(app.router)

`inner(request, call)` is what the fake does between the fault check and its
route (auth, idempotency); it ends with `await call.proceed()`, which waits
out a slow-answer fault and runs the route. It may set call.entry['replayed'].
"""

import asyncio

from aiohttp import web


class Call:
    """One API request on its way through the kit's middleware."""

    def __init__(self, request, handler, body, entry, fault):
        self.request = request
        self.body = body          # the raw body, decoded (utf-8, 'replace')
        self.entry = entry        # its line in the request log
        self.fault = fault        # a slow-answer fault (no status), or None
        self.key = entry.get('_key')
        self._handler = handler

    async def proceed(self):
        """The route itself, after the slow-answer fault's delay if there is one."""
        if self.fault:
            await asyncio.sleep(self.fault['delay_ms'] / 1000)
        return await self._handler(self.request)


async def _proceed(request, call):
    return await call.proceed()


class FakeKit:
    def __init__(self, *, prefixes, fault_response, exempt=(), default_prefix=None,
                 key_header=None, key_field=None, keyed=lambda request: request.method == 'POST',
                 inner=_proceed):
        """prefixes: the paths that are the fake's API (logged, faults apply);
        exempt: paths under them that are not (e.g. public certificates);
        default_prefix: a fault's path_prefix when none is given (prefixes[0]);
        key_header: the idempotency header (`contains` looks in it too), and
        key_field: its name in the request log, for requests `keyed` accepts
        (default: POSTs); fault_response(request, fault, headers) -> the
        injected error answer (headers: Retry-After, or None); inner: see the
        module doc."""
        self.prefixes = tuple(prefixes)
        self.exempt = tuple(exempt)
        self.default_prefix = default_prefix or self.prefixes[0]
        self.key_header = key_header
        self.key_field = key_field
        self.keyed = keyed
        self.fault_response = fault_response
        self.inner = inner
        self.faults = []      # pending injected faults
        self.requests = []    # the request log

    def covers(self, request):
        return request.path.startswith(self.prefixes) and not (
            self.exempt and request.path.startswith(self.exempt))

    def wire_text(self, request, body):
        """What `contains` (faults, request log) looks in."""
        key = request.headers.get(self.key_header, '') if self.key_header else ''
        return '\n'.join((request.path, key, body))

    def take_fault(self, request, body):
        for fault in self.faults:
            if not request.path.startswith(fault['path_prefix']):
                continue
            if fault['method'] and fault['method'].upper() != request.method:
                continue
            if fault['contains'] and fault['contains'] not in self.wire_text(request, body):
                continue
            if not fault['always']:
                fault['count'] -= 1
                if fault['count'] <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    @web.middleware
    async def middleware(self, request, handler):
        if not self.covers(request):
            return await handler(request)
        body = (await request.read()).decode('utf-8', 'replace')
        key = request.headers.get(self.key_header) \
            if self.key_header and self.keyed(request) else None
        entry = {'method': request.method, 'path': request.path}
        if self.key_field:
            entry[self.key_field] = key
        entry.update(status=None, fault=False, replayed=False,
                     _text=self.wire_text(request, body), _key=key)
        self.requests.append(entry)

        fault = self.take_fault(request, body)
        if fault and fault['status']:
            await asyncio.sleep(fault['delay_ms'] / 1000)
            entry['fault'] = True
            headers = {'Retry-After': str(fault['retry_after'])} \
                if fault['retry_after'] is not None else None
            response = self.fault_response(request, fault, headers)
            entry['status'] = response.status
            return response

        try:
            response = await self.inner(request, Call(request, handler, body, entry, fault))
        except web.HTTPException as e:
            entry['status'] = e.status
            raise
        except BaseException:
            entry['status'] = 500
            raise
        entry['status'] = response.status
        return response

    # --- the test-control routes ---------------------------------------------

    async def faults_add(self, request):
        data = await request.json()
        always = bool(data.get('always', False))
        fault = {'path_prefix': data.get('path_prefix', self.default_prefix),
                 'method': data.get('method'),
                 'status': data.get('status'),
                 'count': None if always else int(data.get('count', 1)),
                 'always': always,
                 'delay_ms': int(data.get('delay_ms') or 0),
                 'retry_after': data.get('retry_after'),
                 'contains': data.get('contains')}
        if not fault['status'] and not fault['delay_ms']:
            return web.json_response({'error': 'give a status, a delay_ms or both'},
                                     status=400)
        if not always and fault['count'] < 1:
            return web.json_response({'error': 'count must be at least 1'}, status=400)
        self.faults.append(fault)
        return web.json_response(self.faults)

    async def faults_list(self, request):
        return web.json_response(self.faults)

    async def faults_clear(self, request):
        self.faults.clear()
        return web.json_response([])

    async def requests_list(self, request):
        text = request.query.get('contains')
        return web.json_response([
            {k: v for k, v in e.items() if not k.startswith('_')} for e in self.requests
            if not text or text in e['_text']])

    async def requests_clear(self, request):
        self.requests.clear()
        return web.json_response([])

    def add_routes(self, router):
        router.add_post('/_fake/faults', self.faults_add)
        router.add_get('/_fake/faults', self.faults_list)
        router.add_delete('/_fake/faults', self.faults_clear)
        router.add_get('/_fake/requests', self.requests_list)
        router.add_delete('/_fake/requests', self.requests_clear)
