use super::*;
use std::cell::RefCell;

struct Scripted {
    replies: RefCell<Vec<Result<HttpReply, TransportError>>>,
    sent: RefCell<Vec<HttpCall>>,
}

#[async_trait(?Send)]
impl Transport for Scripted {
    async fn send(&self, call: &HttpCall) -> Result<HttpReply, TransportError> {
        self.sent.borrow_mut().push(call.clone());
        self.replies.borrow_mut().remove(0)
    }
}

fn reply(status: u16, body: &str) -> Result<HttpReply, TransportError> {
    Ok(HttpReply {
        status,
        retry_after_secs: None,
        body: body.into(),
    })
}

fn request() -> ShipmentRequest {
    ShipmentRequest {
        public_id: "ord_abc".into(),
        ship_to: ShipTo {
            name: "Ada".into(),
            line1: "1 Main St".into(),
            line2: None,
            city: "San Francisco".into(),
            state: "CA".into(),
            postal_code: "94105".into(),
            country: "US".into(),
        },
        items: 3,
        may_be_booked: false,
    }
}

fn config() -> CarrierConfig {
    CarrierConfig {
        api_base: "http://carrier.test/".into(),
        api_key: "key_1".into(),
        service_code: "ups_ground".into(),
    }
}

fn book(replies: Vec<Result<HttpReply, TransportError>>) -> (Result<BookedShipment, CarrierError>, Vec<HttpCall>) {
    book_request(request(), replies)
}

fn book_request(
    r: ShipmentRequest,
    replies: Vec<Result<HttpReply, TransportError>>,
) -> (Result<BookedShipment, CarrierError>, Vec<HttpCall>) {
    with_carrier(replies, async |carrier| carrier.book(&r).await)
}

/// Runs `call` against a carrier answering `replies` in turn: its result,
/// and the calls it sent.
fn with_carrier<T>(
    replies: Vec<Result<HttpReply, TransportError>>,
    call: impl AsyncFnOnce(&ShipEngine<'_, Scripted>) -> T,
) -> (T, Vec<HttpCall>) {
    let t = Scripted {
        replies: RefCell::new(replies),
        sent: RefCell::new(vec![]),
    };
    let cfg = config();
    let carrier = ShipEngine {
        config: &cfg,
        transport: &t,
    };
    let out = futures_executor::block_on(call(&carrier));
    (out, t.sent.into_inner())
}

#[test]
fn books_with_the_orders_idempotency_key() {
    let (out, sent) = book(vec![reply(
        200,
        r#"{"label_id": "se-1", "status": "completed", "tracking_number": "1Z999",
            "carrier_code": "ups", "service_code": "ups_ground",
            "label_download": {"href": "http://carrier.test/labels/se-1.pdf"}}"#,
    )]);
    assert_eq!(
        out.unwrap(),
        BookedShipment {
            carrier: "ups".into(),
            service: "ups_ground".into(),
            tracking_number: "1Z999".into(),
            label_id: "se-1".into(),
            label_url: Some("http://carrier.test/labels/se-1.pdf".into()),
        }
    );
    let call = &sent[0];
    assert_eq!(call.url, "http://carrier.test/v2/labels");
    assert_eq!(call.header("idempotency-key"), Some("order-ord_abc"));
    assert_eq!(call.header("api-key"), Some("key_1"));
    let body: serde_json::Value = serde_json::from_str(call.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["external_shipment_id"], "ord_abc");
    assert_eq!(body["shipment"]["ship_to"]["postal_code"], "94105");
    assert_eq!(body["shipment"]["packages"][0]["weight"]["value"], 48);
}

#[test]
fn server_errors_and_timeouts_are_worth_retrying() {
    for r in [
        reply(500, "oops"),
        reply(503, ""),
        reply(429, ""),
        Err(TransportError::Timeout),
        Err(TransportError::Network("refused".into())),
        reply(200, "not json"),
    ] {
        let (out, _) = book(vec![r]);
        assert!(matches!(out, Err(CarrierError::Unavailable(_))), "{out:?}");
    }
}

#[test]
fn client_errors_are_refusals_with_the_carriers_reason() {
    // (A 400 is looked up first: no label under the order's id here.)
    let (out, _) = book(vec![
        reply(
            400,
            r#"{"errors": [{"error_type": "validation", "message": "postal_code is invalid"}]}"#,
        ),
        reply(404, "{}"),
    ]);
    assert_eq!(
        out,
        Err(CarrierError::Rejected {
            status: 400,
            message: "postal_code is invalid".into()
        })
    );
    let (out, _) = book(vec![reply(401, "")]);
    assert!(matches!(out, Err(CarrierError::Rejected { status: 401, .. })));
}

const LABEL: &str = r#"{"label_id": "se-7", "status": "completed", "tracking_number": "1Z7",
    "carrier_code": "ups", "service_code": "ups_ground", "label_download": null}"#;

#[test]
fn a_first_delivery_books_without_looking_up() {
    let (out, sent) = book(vec![reply(200, LABEL)]);
    assert_eq!(out.unwrap().label_id, "se-7");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, HttpMethod::Post);
}

#[test]
fn a_retry_finds_the_label_an_earlier_delivery_booked_and_books_nothing() {
    let retry = ShipmentRequest {
        may_be_booked: true,
        ..request()
    };
    let (out, sent) = book_request(retry.clone(), vec![reply(200, LABEL)]);
    assert_eq!(out.unwrap().tracking_number, "1Z7");
    assert_eq!(sent.len(), 1, "the lookup only");
    assert_eq!(sent[0].method, HttpMethod::Get);
    assert_eq!(sent[0].url, "http://carrier.test/v2/labels/external_shipment_id/ord_abc");
    // None booked yet: look up (404), then book.
    let (out, sent) = book_request(retry.clone(), vec![reply(404, "{}"), reply(200, LABEL)]);
    assert_eq!(out.unwrap().label_id, "se-7");
    assert_eq!(
        sent.iter().map(|c| c.method).collect::<Vec<_>>(),
        [HttpMethod::Get, HttpMethod::Post]
    );
    // The lookup itself failing is a failure worth retrying, not a booking.
    let (out, sent) = book_request(retry, vec![reply(503, "")]);
    assert!(matches!(out, Err(CarrierError::Unavailable(_))));
    assert_eq!(sent.len(), 1);
}

#[test]
fn a_booking_refused_because_the_id_is_taken_uses_the_label_that_took_it() {
    let taken = r#"{"errors": [{"message": "external_shipment_id ord_abc is already in use"}]}"#;
    let (out, sent) = book(vec![reply(400, taken), reply(200, LABEL)]);
    assert_eq!(out.unwrap().label_id, "se-7");
    assert_eq!(sent[1].method, HttpMethod::Get);
    // Refused for another reason (no label under the id): the refusal stands.
    let (out, _) = book(vec![reply(400, taken), reply(404, "{}")]);
    assert!(matches!(out, Err(CarrierError::Rejected { status: 400, .. })));
}

fn void(replies: Vec<Result<HttpReply, TransportError>>) -> (Result<(), CarrierError>, Vec<HttpCall>) {
    with_carrier(replies, async |carrier| carrier.void("ord_abc", "se-7").await)
}

#[test]
fn a_void_puts_to_the_labels_void_route_and_approved_means_voided() {
    let (out, sent) = void(vec![reply(
        200,
        r#"{"approved": true, "message": "Request for refund submitted. This label has been voided."}"#,
    )]);
    assert_eq!(out, Ok(()));
    assert_eq!(sent[0].method, HttpMethod::Put);
    assert_eq!(sent[0].url, "http://carrier.test/v2/labels/se-7/void");
    assert_eq!(sent[0].header("api-key"), Some("key_1"));
    assert_eq!(sent[0].header("idempotency-key"), Some("order-ord_abc-void"));
    // A label voided by an earlier try is voided.
    let (out, _) = void(vec![reply(
        200,
        r#"{"approved": false, "message": "already voided", "reason_code": "label_already_voided"}"#,
    )]);
    assert_eq!(out, Ok(()));
}

#[test]
fn a_void_not_approved_is_a_refusal_and_outages_are_worth_retrying() {
    let (out, _) = void(vec![reply(
        200,
        r#"{"approved": false, "message": "The label was scanned.", "reason_code": "label_already_used"}"#,
    )]);
    match out {
        Err(CarrierError::Rejected { status: 200, message }) => {
            assert!(message.contains("label_already_used") && message.contains("scanned"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let (out, _) = void(vec![reply(404, r#"{"errors": [{"message": "Label se-7 not found."}]}"#)]);
    assert_eq!(
        out,
        Err(CarrierError::Rejected {
            status: 404,
            message: "Label se-7 not found.".into()
        })
    );
    for r in [reply(503, ""), reply(429, ""), Err(TransportError::Timeout), reply(200, "<html>")] {
        let (out, _) = void(vec![r]);
        assert!(matches!(out, Err(CarrierError::Unavailable(_))), "{out:?}");
    }
}
