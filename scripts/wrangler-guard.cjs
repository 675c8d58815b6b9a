// Preloaded into wrangler's Node process by scripts/dev (NODE_OPTIONS=--require).
//
// wrangler 4.86's local Hyperdrive proxy (miniflare's HyperdriveProxyController)
// pipes each database connection between two sockets without 'error'
// handlers. A peer that resets its side (ECONNRESET, EPIPE) or a database that
// is down (ECONNREFUSED) then throws an uncaught exception, and the whole dev
// server dies with it. Such an error concerns one proxied connection only: log
// it and keep serving. Any other uncaught exception still ends the process, as
// it would without this file.
"use strict";
const NETWORK_ERRORS = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED", "ETIMEDOUT", "ECONNABORTED"]);

process.on("uncaughtException", (err) => {
  if (err && NETWORK_ERRORS.has(err.code)) {
    process.stderr.write(
      `[edgeshop] kept serving after ${err.code} on a proxied socket (${err.syscall || "?"} ${err.address || ""}:${err.port || ""})\n`
    );
    return;
  }
  process.stderr.write(`[edgeshop] uncaught exception: ${(err && err.stack) || err}\n`);
  process.exit(1);
});
