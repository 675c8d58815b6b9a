#!/usr/bin/env node
// Signed Stripe `payment_intent.succeeded` events for the webhook bench
// (scripts/bench), one per order, signed now with Stripe's own Node library
// (stripe.webhooks.generateTestHeaderString, as the tests sign theirs):
//
//   STRIPE_WEBHOOK_SECRET=whsec_... node bench/stripe-events.cjs RUN AMOUNT_MINOR < orders.tsv > events.txt
//
// Reads lines "<order public_id> TAB <PaymentIntent id>" (bench/prepare-webhooks.sql)
// and writes, in the same order, "<Stripe-Signature> TAB <event JSON>" (the
// JSON has no tab or newline), for bench/webhooks.lua. Each event has its
// own id (evt_<RUN>x<line>) and charge (ch_<PaymentIntent id without pi_>);
// the amount (AMOUNT_MINOR cents, usd) must be the orders' total for the
// event to pay them. Stripe's libraries accept a signature for 300 s: make
// the file just before the run that sends it.
"use strict";
const fs = require("fs");
const Stripe = require("stripe");

const [run, amountArg] = process.argv.slice(2);
const secret = process.env.STRIPE_WEBHOOK_SECRET;
const amount = Number(amountArg);
if (!run || !/^[0-9a-z]+$/i.test(run) || !Number.isInteger(amount) || !secret) {
  process.stderr.write("usage: STRIPE_WEBHOOK_SECRET=... stripe-events.cjs RUN AMOUNT_MINOR < orders.tsv\n");
  process.exit(2);
}
const stripe = new Stripe("sk_test_offline"); // no request is ever made
const timestamp = Math.floor(Date.now() / 1000);
const out = [];
let n = 0;
for (const line of fs.readFileSync(0, "utf8").split("\n")) {
  if (!line.trim()) continue;
  const [orderId, intent] = line.trim().split("\t");
  n += 1;
  const payload = JSON.stringify({
    id: `evt_${run}x${n}`,
    object: "event",
    api_version: "2024-06-20",
    created: timestamp,
    type: "payment_intent.succeeded",
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: {
      object: {
        id: intent,
        object: "payment_intent",
        amount,
        amount_received: amount,
        currency: "usd",
        status: "succeeded",
        latest_charge: `ch_${intent.replace(/^pi_/, "")}`,
        payment_method: "pm_card_visa",
        metadata: { order_id: orderId },
      },
    },
  });
  out.push(stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp }) + "\t" + payload);
}
fs.writeFileSync(1, out.join("\n") + (out.length ? "\n" : ""));
