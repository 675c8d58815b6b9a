//! Structured logs: one JSON line per event, always with the request id, so
//! a request can be followed across the edge, the functions and the cart
//! objects (`x-request-id` travels with it).
//!
//! What goes into a line is chosen by the caller as named fields. The rule is
//! that no line holds a shopper's email, address, birth date, cart id or any
//! token or secret; as a second line of defence, fields whose names say they
//! hold such things are replaced by `"[redacted]"`, and so are string values
//! that look like an email address.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// The logger of one request (or one cron run): cheap to clone.
#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    request_id: std::rc::Rc<str>,
}

impl Log {
    pub fn new(request_id: &str) -> Self {
        Log {
            request_id: request_id.into(),
        }
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// `fields` is a JSON object (`serde_json::json!({...})`); anything else
    /// is logged under `"value"`.
    pub fn info(&self, event: &str, fields: Value) {
        emit(
            Level::Info,
            &line(Level::Info, &self.request_id, event, fields),
        );
    }

    pub fn warn(&self, event: &str, fields: Value) {
        emit(
            Level::Warn,
            &line(Level::Warn, &self.request_id, event, fields),
        );
    }

    pub fn error(&self, event: &str, fields: Value) {
        emit(
            Level::Error,
            &line(Level::Error, &self.request_id, event, fields),
        );
    }
}

/// Field names that hold personal data or secrets, whatever their value.
const REDACTED_NAMES: &[&str] = &[
    "email",
    "address",
    "shipping_address",
    "date_of_birth",
    "dob",
    "cart_id",
    "cart",
    "token",
    "secret",
    "password",
    "authorization",
    "cookie",
    "name",
    "phone",
    "ip",
    "client_ip",
];

/// The JSON line for one event: `{"level","event","request_id", ...fields}`.
pub fn line(level: Level, request_id: &str, event: &str, fields: Value) -> String {
    let mut out = Map::new();
    out.insert("level".into(), level.as_str().into());
    out.insert("event".into(), event.into());
    out.insert("request_id".into(), request_id.into());
    let fields = match fields {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => Map::from_iter([("value".to_string(), other)]),
    };
    for (k, v) in fields {
        if matches!(k.as_str(), "level" | "event" | "request_id") {
            continue;
        }
        let v = if REDACTED_NAMES.contains(&k.to_ascii_lowercase().as_str()) {
            Value::from("[redacted]")
        } else {
            redact_value(v)
        };
        out.insert(k, v);
    }
    Value::Object(out).to_string()
}

fn redact_value(v: Value) -> Value {
    match v {
        Value::String(s) if looks_like_email(&s) => Value::from("[redacted]"),
        Value::Array(a) => Value::Array(a.into_iter().map(redact_value).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = if REDACTED_NAMES.contains(&k.to_ascii_lowercase().as_str()) {
                        Value::from("[redacted]")
                    } else {
                        redact_value(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

fn looks_like_email(s: &str) -> bool {
    s.split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

#[cfg(feature = "worker")]
fn emit(level: Level, line: &str) {
    match level {
        Level::Info => worker::console_log!("{line}"),
        Level::Warn => worker::console_warn!("{line}"),
        Level::Error => worker::console_error!("{line}"),
    }
}

#[cfg(not(feature = "worker"))]
fn emit(_level: Level, line: &str) {
    eprintln!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn a_line_is_json_with_level_event_and_request_id() {
        let l = parsed(&line(
            Level::Warn,
            "r-1",
            "cart_close_failed",
            json!({"order": "ord_1", "status": 503}),
        ));
        assert_eq!(l["level"], "warn");
        assert_eq!(l["event"], "cart_close_failed");
        assert_eq!(l["request_id"], "r-1");
        assert_eq!(l["order"], "ord_1");
        assert_eq!(l["status"], 503);
    }

    #[test]
    fn personal_fields_and_emails_are_redacted() {
        let l = parsed(&line(
            Level::Error,
            "r",
            "x",
            json!({"email": "ada@example.com", "cart_id": "abc", "Address": {"line1": "1 Main"},
                   "note": "from ada@example.com", "nested": {"date_of_birth": "2000-01-01", "ok": 1}}),
        ));
        assert_eq!(l["email"], "[redacted]");
        assert_eq!(l["cart_id"], "[redacted]");
        assert_eq!(l["Address"], "[redacted]");
        assert_eq!(l["note"], "[redacted]");
        assert_eq!(l["nested"]["date_of_birth"], "[redacted]");
        assert_eq!(l["nested"]["ok"], 1);
    }

    #[test]
    fn fields_cannot_overwrite_the_envelope() {
        let l = parsed(&line(
            Level::Info,
            "real",
            "e",
            json!({"request_id": "fake", "level": "error"}),
        ));
        assert_eq!(l["request_id"], "real");
        assert_eq!(l["level"], "info");
    }
}
