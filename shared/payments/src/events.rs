//! The providers' webhook events in one shape: what happened ([`EventKind`]),
//! to which payment and order, for how much.
//!
//! Only called on a body whose signature was verified. Even so nothing in
//! it is trusted further than its shape: ids must look like ids, amounts
//! must be exact decimals, and the order id is kept only when it is one of
//! ours. A type we do not handle is read (id and type) and answered 200 by
//! the caller; a type we handle that lacks what it needs is a 400
//! `invalid_event` (the provider then retries it, and the logs show why).

use platform::money::{Currency, Money, MAX_AMOUNT};
use platform::ApiError;
use serde_json::Value;

use crate::lifecycle::EventKind;
use crate::Provider;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub provider: Provider,
    /// Stripe `evt_…`, PayPal `WH-…`: the provider's id of this event,
    /// the same on every retry of it.
    pub event_id: String,
    /// As the provider spells it (`payment_intent.succeeded`,
    /// `PAYMENT.CAPTURE.COMPLETED`).
    pub event_type: String,
    /// `None`: a type we do not handle (answered 200, logged, ignored).
    pub kind: Option<EventKind>,
    /// Our public order id (`ord_…`), when the event carries a well-formed one.
    pub order_id: Option<String>,
    /// Stripe's PaymentIntent id; PayPal's order id.
    pub payment_ref: Option<String>,
    /// Stripe's charge id; PayPal's capture id.
    pub capture_ref: Option<String>,
    /// The payment's amount (Stripe: received, else intended; PayPal: the
    /// capture's, the order's, or the reversal's). `None` on a PayPal
    /// refund, whose event does not say the capture's amount.
    pub amount: Option<Money>,
    pub refund: Option<RefundFacts>,
}

/// What a refund event says was refunded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundFacts {
    /// PayPal's refund id; Stripe's `charge.refunded` names none.
    pub provider_refund_id: Option<String>,
    /// Our refund's id, when the provider echoes it (PayPal `custom_id`).
    pub our_refund_id: Option<String>,
    pub amount: Money,
    /// `true`: `amount` is everything refunded on the payment so far
    /// (Stripe's `amount_refunded`); `false`: this one refund (PayPal).
    pub cumulative: bool,
}

impl ProviderEvent {
    /// The event in `body`, read as `provider` writes them.
    pub fn parse(provider: Provider, body: &[u8]) -> Result<ProviderEvent, ApiError> {
        match provider {
            Provider::Stripe => parse_stripe(body),
            Provider::PayPal => parse_paypal(body),
        }
    }

    /// An event of a type we do not handle: its id and type only.
    fn unhandled(provider: Provider, event_id: String, event_type: String) -> Self {
        ProviderEvent {
            provider,
            event_id,
            event_type,
            kind: None,
            order_id: None,
            payment_ref: None,
            capture_ref: None,
            amount: None,
            refund: None,
        }
    }
}

/// A Stripe event: `{"id","type","data":{"object":{…}}}`, amounts in
/// integer minor units with a lower-case currency.
pub fn parse_stripe(body: &[u8]) -> Result<ProviderEvent, ApiError> {
    let event = json_object(body)?;
    let event_id = required_id(&event, "/id")?;
    let event_type = required_id(&event, "/type")?;
    // Each handled type, and how to read its object.
    type Reader = fn(&Value, &mut ProviderEvent) -> Read<()>;
    let (kind, read): (EventKind, Reader) = match event_type.as_str() {
        "payment_intent.succeeded" => (EventKind::PaymentSucceeded, stripe_payment_intent),
        "payment_intent.payment_failed" => (EventKind::PaymentFailed, stripe_payment_intent),
        "payment_intent.canceled" => (EventKind::PaymentCanceled, stripe_payment_intent),
        "charge.refunded" => (EventKind::Refunded, stripe_refunded_charge),
        "charge.dispute.created" => (EventKind::Disputed, stripe_dispute),
        _ => {
            return Ok(ProviderEvent::unhandled(
                Provider::Stripe,
                event_id,
                event_type,
            ))
        }
    };
    let object = event
        .pointer("/data/object")
        .filter(|o| o.is_object())
        .ok_or_else(|| invalid(format!("a {event_type} event needs data.object")))?;
    let mut parsed = ProviderEvent::unhandled(Provider::Stripe, event_id, event_type);
    parsed.kind = Some(kind);
    read(object, &mut parsed)?;
    Ok(parsed)
}

/// `payment_intent.*`: the PaymentIntent. A success counts what was
/// received; a failure or cancellation what was asked for.
fn stripe_payment_intent(intent: &Value, event: &mut ProviderEvent) -> Read<()> {
    event.payment_ref = Some(required_id(intent, "/id")?);
    event.order_id = our_order_id(intent, "/metadata/order_id");
    event.capture_ref = stripe_ref(intent, "/latest_charge")?;
    let succeeded = event.kind == Some(EventKind::PaymentSucceeded);
    let amount_field = if succeeded && present(intent, "/amount_received").is_some() {
        "/amount_received"
    } else {
        "/amount"
    };
    event.amount = Some(stripe_money(intent, amount_field)?);
    Ok(())
}

/// `charge.refunded`: the charge, with everything refunded on it so far.
fn stripe_refunded_charge(charge: &Value, event: &mut ProviderEvent) -> Read<()> {
    event.capture_ref = Some(required_id(charge, "/id")?);
    event.payment_ref = stripe_ref(charge, "/payment_intent")?;
    event.order_id = our_order_id(charge, "/metadata/order_id");
    event.amount = Some(stripe_money(charge, "/amount")?);
    event.refund = Some(RefundFacts {
        provider_refund_id: None,
        our_refund_id: None,
        amount: stripe_money(charge, "/amount_refunded")?,
        cumulative: true,
    });
    Ok(())
}

/// `charge.dispute.created`: the dispute, naming the disputed charge.
fn stripe_dispute(dispute: &Value, event: &mut ProviderEvent) -> Read<()> {
    event.capture_ref =
        Some(stripe_ref(dispute, "/charge")?.ok_or_else(|| invalid("charge is missing"))?);
    event.payment_ref = stripe_ref(dispute, "/payment_intent")?;
    event.amount = Some(stripe_money(dispute, "/amount")?);
    Ok(())
}

/// A PayPal event: `{"id","event_type","resource":{…}}`, amounts as
/// `{"currency_code":"USD","value":"12.34"}`.
pub fn parse_paypal(body: &[u8]) -> Result<ProviderEvent, ApiError> {
    let event = json_object(body)?;
    let event_id = required_id(&event, "/id")?;
    let event_type = required_id(&event, "/event_type")?;
    type Reader = fn(&Value, &mut ProviderEvent) -> Read<()>;
    let (kind, read): (EventKind, Reader) = match event_type.as_str() {
        "CHECKOUT.ORDER.APPROVED" => (EventKind::PaymentApproved, paypal_order),
        "PAYMENT.CAPTURE.COMPLETED" => (EventKind::PaymentSucceeded, paypal_capture),
        "PAYMENT.CAPTURE.DECLINED" => (EventKind::PaymentFailed, paypal_capture),
        "PAYMENT.CAPTURE.REFUNDED" => (EventKind::Refunded, paypal_refund),
        "PAYMENT.CAPTURE.REVERSED" => (EventKind::Reversed, paypal_reversal),
        // PAYMENT.CAPTURE.PENDING among them: the COMPLETED or DECLINED
        // that follows is what we act on.
        _ => {
            return Ok(ProviderEvent::unhandled(
                Provider::PayPal,
                event_id,
                event_type,
            ))
        }
    };
    let resource = event
        .pointer("/resource")
        .filter(|r| r.is_object())
        .ok_or_else(|| invalid(format!("a {event_type} event needs a resource")))?;
    let mut parsed = ProviderEvent::unhandled(Provider::PayPal, event_id, event_type);
    parsed.kind = Some(kind);
    read(resource, &mut parsed)?;
    Ok(parsed)
}

/// `CHECKOUT.ORDER.APPROVED`: the checkout order. We create it with our
/// order id as both `custom_id` and `reference_id` of its one purchase unit.
fn paypal_order(order: &Value, event: &mut ProviderEvent) -> Read<()> {
    event.payment_ref = Some(required_id(order, "/id")?);
    event.order_id = our_order_id(order, "/purchase_units/0/custom_id")
        .or_else(|| our_order_id(order, "/purchase_units/0/reference_id"));
    event.amount = Some(paypal_money(order, "/purchase_units/0/amount")?);
    Ok(())
}

/// `PAYMENT.CAPTURE.COMPLETED` / `DECLINED`: the capture.
fn paypal_capture(capture: &Value, event: &mut ProviderEvent) -> Read<()> {
    event.capture_ref = Some(required_id(capture, "/id")?);
    event.payment_ref = optional_id(capture, "/supplementary_data/related_ids/order_id")?;
    event.order_id = our_order_id(capture, "/custom_id");
    event.amount = Some(paypal_money(capture, "/amount")?);
    Ok(())
}

/// `PAYMENT.CAPTURE.REFUNDED`: the refund, this one refund's amount. Its
/// `custom_id` is our refund's id (we send it), not the order's.
fn paypal_refund(refund: &Value, event: &mut ProviderEvent) -> Read<()> {
    event.capture_ref = Some(refunded_capture(refund)?);
    event.payment_ref = optional_id(refund, "/supplementary_data/related_ids/order_id")?;
    event.refund = Some(RefundFacts {
        provider_refund_id: Some(required_id(refund, "/id")?),
        our_refund_id: optional_id(refund, "/custom_id")?,
        amount: paypal_money(refund, "/amount")?,
        cumulative: false,
    });
    Ok(())
}

/// `PAYMENT.CAPTURE.REVERSED`: a refund-like resource on the capture
/// whose money went back.
fn paypal_reversal(reversal: &Value, event: &mut ProviderEvent) -> Read<()> {
    event.capture_ref = Some(refunded_capture(reversal)?);
    event.payment_ref = optional_id(reversal, "/supplementary_data/related_ids/order_id")?;
    event.order_id = our_order_id(reversal, "/custom_id");
    event.amount = Some(paypal_money(reversal, "/amount")?);
    Ok(())
}

/// Whether `s` is one of our public order ids: `ord_` and 26 characters
/// of `[0-9a-z]`.
pub fn is_public_order_id(s: &str) -> bool {
    s.strip_prefix("ord_").is_some_and(|rest| {
        rest.len() == 26
            && rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    })
}

/// Whether `s` can be an id of the provider's: 1..=255 printable ASCII
/// characters, no spaces. Event types follow the same rule.
fn is_plain_id(s: &str) -> bool {
    (1..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Why an event cannot be read: the message of its 400 `invalid_event`.
/// (Small, unlike `ApiError`, while it travels up through the readers.)
struct Invalid(String);

type Read<T> = Result<T, Invalid>;

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::bad_request("invalid_event", e.0)
    }
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

/// `/a/b/0/c` as the provider's documentation writes it: `a.b[0].c`.
fn field_name(pointer: &str) -> String {
    let mut name = String::new();
    for part in pointer.split('/').skip(1) {
        if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
            name.push_str(&format!("[{part}]"));
        } else {
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(part);
        }
    }
    name
}

fn json_object(body: &[u8]) -> Read<Value> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| invalid("the event is not valid JSON"))?;
    if !value.is_object() {
        return Err(invalid("the event is not a JSON object"));
    }
    Ok(value)
}

/// The value at `pointer`, absent when missing or null.
fn present<'a>(value: &'a Value, pointer: &str) -> Option<&'a Value> {
    value.pointer(pointer).filter(|v| !v.is_null())
}

/// A string field that must be an id when present.
fn optional_id(value: &Value, pointer: &str) -> Read<Option<String>> {
    match present(value, pointer) {
        None => Ok(None),
        Some(Value::String(s)) if is_plain_id(s) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!(
            "{} must be an id (1 to 255 printable ASCII characters without spaces)",
            field_name(pointer)
        ))),
    }
}

fn required_id(value: &Value, pointer: &str) -> Read<String> {
    optional_id(value, pointer)?
        .ok_or_else(|| invalid(format!("{} is missing", field_name(pointer))))
}

/// Our order id when the field holds a well-formed one; anything else
/// (absent, another shape, not a string) is no order of ours.
fn our_order_id(value: &Value, pointer: &str) -> Option<String> {
    present(value, pointer)
        .and_then(Value::as_str)
        .filter(|s| is_public_order_id(s))
        .map(str::to_string)
}

/// A Stripe reference: the id as a string, or the expanded object's id.
fn stripe_ref(object: &Value, pointer: &str) -> Read<Option<String>> {
    match present(object, pointer) {
        Some(Value::Object(_)) => optional_id(object, &format!("{pointer}/id")).and_then(|id| {
            id.map(Some)
                .ok_or_else(|| invalid(format!("{} has no id", field_name(pointer))))
        }),
        _ => optional_id(object, pointer),
    }
}

/// Stripe: integer minor units at `pointer`, in the object's `currency`.
fn stripe_money(object: &Value, pointer: &str) -> Read<Money> {
    let name = field_name(pointer);
    let units = present(object, pointer)
        .ok_or_else(|| invalid(format!("{name} is missing")))?
        .as_i64()
        .filter(|units| *units >= 0)
        .ok_or_else(|| {
            invalid(format!(
                "{name} must be a whole non-negative number of minor units"
            ))
        })?;
    let currency = present(object, "/currency")
        .and_then(Value::as_str)
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .and_then(|c| Currency::parse(&c.to_ascii_uppercase()).ok())
        .ok_or_else(|| invalid("currency must be a three-letter ISO code"))?;
    within_range(Money::from_minor_units(units, currency), &name)
}

/// PayPal: `{"currency_code":"USD","value":"12.34"}` at `pointer`.
fn paypal_money(resource: &Value, pointer: &str) -> Read<Money> {
    let name = field_name(pointer);
    let amount = present(resource, pointer)
        .filter(|a| a.is_object())
        .ok_or_else(|| invalid(format!("{name} is missing")))?;
    let currency = present(amount, "/currency_code")
        .and_then(Value::as_str)
        .and_then(|c| Currency::parse(c).ok())
        .ok_or_else(|| {
            invalid(format!(
                "{name}.currency_code must be a three-letter ISO code"
            ))
        })?;
    let value = present(amount, "/value")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{name}.value must be a decimal string")))?;
    // Checks the range too.
    Money::parse(value, currency).map_err(|_| {
        invalid(format!(
            "{name}.value must be a plain decimal with at most {} decimals for {currency}, 0 to {MAX_AMOUNT}",
            currency.minor_digits()
        ))
    })
}

/// Amounts we can store (`numeric(12,2)`), as `Money::parse` checks them.
fn within_range(money: Money, name: &str) -> Read<Money> {
    let max: rust_decimal::Decimal = MAX_AMOUNT.parse().expect("constant");
    if money.amount > max {
        return Err(invalid(format!("{name} is more than {MAX_AMOUNT}")));
    }
    Ok(money)
}

/// The capture a PayPal refund or reversal is about: `supplementary_data.
/// related_ids.capture_id`, else the link to it (`rel` "up", else "self",
/// ending `/captures/{id}`).
fn refunded_capture(resource: &Value) -> Read<String> {
    if let Some(id) = optional_id(resource, "/supplementary_data/related_ids/capture_id")? {
        return Ok(id);
    }
    let links = present(resource, "/links")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let linked_capture = |rel: &str| {
        links
            .iter()
            .filter(|link| link.get("rel").and_then(Value::as_str) == Some(rel))
            .filter_map(|link| link.get("href").and_then(Value::as_str))
            .find_map(capture_id_in_href)
    };
    linked_capture("up")
        .or_else(|| linked_capture("self"))
        .map(str::to_string)
        .ok_or_else(|| {
            invalid("resource names no capture (supplementary_data.related_ids.capture_id or a link to /captures/{id})")
        })
}

/// `{id}` of an href ending `/captures/{id}`.
fn capture_id_in_href(href: &str) -> Option<&str> {
    let (before, id) = href.rsplit_once('/')?;
    (before.ends_with("/captures") && is_plain_id(id) && !id.contains(['?', '#'])).then_some(id)
}

#[cfg(test)]
mod tests;
