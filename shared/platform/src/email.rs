//! Sending email through a provider's HTTP API (SendGrid v3 style:
//! `POST {base}/v3/mail/send`, bearer key, JSON; 202 when accepted). The
//! message is built as an `HttpCall` and the answer read here; a
//! `Transport` sends it. Every feature that mails someone (abandoned carts,
//! later password resets) goes through this one place.

use crate::outbound::{HttpCall, HttpMethod, HttpReply, TransportError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// Carried back in the provider's events (our ids, never personal data).
    pub tag: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    pub api_base: String,
    pub api_key: String,
    pub from: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailError {
    /// No answer, 429 or 5xx: try again later.
    Unavailable(String),
    /// The provider refused it (4xx): retrying changes nothing.
    Rejected(u16),
}

impl EmailConfig {
    /// The provider as a worker is configured for it: vars `EMAIL_API_BASE`
    /// and `EMAIL_FROM`, secret `EMAIL_API_KEY`. `None` when one is missing.
    #[cfg(feature = "worker")]
    pub fn from_env(env: &worker::Env) -> Option<EmailConfig> {
        Some(EmailConfig {
            api_base: env.var("EMAIL_API_BASE").ok()?.to_string(),
            api_key: crate::secrets::get_credential(env, crate::secrets::EMAIL_API_KEY)?,
            from: env.var("EMAIL_FROM").ok()?.to_string(),
        })
    }
}

pub fn send_call(config: &EmailConfig, email: &Email) -> HttpCall {
    let body = serde_json::json!({
        "personalizations": [{"to": [{"email": email.to}]}],
        "from": {"email": config.from},
        "subject": email.subject,
        "content": [{"type": "text/plain", "value": email.text}],
        "custom_args": {"tag": email.tag},
    });
    HttpCall {
        method: HttpMethod::Post,
        url: format!("{}/v3/mail/send", config.api_base.trim_end_matches('/')),
        headers: vec![
            ("Authorization".into(), format!("Bearer {}", config.api_key)),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: Some(body.to_string()),
    }
}

pub fn read_reply(reply: Result<HttpReply, TransportError>) -> Result<(), EmailError> {
    match reply {
        Err(TransportError::Timeout) => Err(EmailError::Unavailable("timed out".into())),
        Err(TransportError::Network(d)) => Err(EmailError::Unavailable(d)),
        Ok(r) if (200..300).contains(&r.status) => Ok(()),
        Ok(r) if r.status == 429 || r.status >= 500 => {
            Err(EmailError::Unavailable(format!("HTTP {}", r.status)))
        }
        Ok(r) => Err(EmailError::Rejected(r.status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_sendgrid_style_message() {
        let cfg = EmailConfig {
            api_base: "http://mail.test/".into(),
            api_key: "SG.key".into(),
            from: "shop@example.com".into(),
        };
        let call = send_call(
            &cfg,
            &Email {
                to: "ada@example.com".into(),
                subject: "Hi".into(),
                text: "Body".into(),
                tag: "cart_recovery".into(),
            },
        );
        assert_eq!(call.url, "http://mail.test/v3/mail/send");
        assert_eq!(call.header("authorization"), Some("Bearer SG.key"));
        let v: serde_json::Value = serde_json::from_str(call.body.as_deref().unwrap()).unwrap();
        assert_eq!(v["personalizations"][0]["to"][0]["email"], "ada@example.com");
        assert_eq!(v["content"][0]["value"], "Body");
    }

    #[test]
    fn reads_answers() {
        let r = |status| {
            Ok(HttpReply {
                status,
                retry_after_secs: None,
                body: String::new(),
            })
        };
        assert_eq!(read_reply(r(202)), Ok(()));
        assert!(matches!(read_reply(r(503)), Err(EmailError::Unavailable(_))));
        assert!(matches!(read_reply(r(429)), Err(EmailError::Unavailable(_))));
        assert_eq!(read_reply(r(400)), Err(EmailError::Rejected(400)));
        assert!(matches!(
            read_reply(Err(TransportError::Timeout)),
            Err(EmailError::Unavailable(_))
        ));
    }
}
