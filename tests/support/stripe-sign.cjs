#!/usr/bin/env node
// A Stripe-Signature header for a webhook payload, made by Stripe's own Node
// library (the `stripe` devDependency), for tests that post signed (or
// wrongly signed, or stale) Stripe events to the edge themselves:
//
//   node tests/support/stripe-sign.cjs <webhook secret> <unix timestamp|now> < payload.json
//
// Prints the header value (t=...,v1=...) made by
// stripe.webhooks.generateTestHeaderString over the raw bytes on stdin.
// Needs no network: nothing here talks to Stripe.
"use strict";
const Stripe = require("stripe");

const [secret, when] = process.argv.slice(2);
if (!secret || !when || !/^(now|\d+)$/.test(when)) {
  process.stderr.write("usage: stripe-sign.cjs <secret> <timestamp|now> < payload\n");
  process.exit(2);
}
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const payload = Buffer.concat(chunks).toString("utf8");
  const timestamp = when === "now" ? Math.floor(Date.now() / 1000) : Number(when);
  const stripe = new Stripe("sk_test_offline"); // no request is ever made
  process.stdout.write(stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }) + "\n");
});
