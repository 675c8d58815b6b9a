//! The account emails: the verify link, the note to an owner that someone
//! tried to sign up with their address, the reset link. Sent at once through
//! the one email interface (`platform::email`); a provider that cannot take
//! it now is a 503 with Retry-After, and the shopper's retry sends it again.
//! Links point at the shop's pages (`SHOP_ORIGIN`), which post the token to
//! `/customers/verify` or `/customers/password-reset/confirm`.

use platform::email::{self, Email, EmailConfig, EmailError};
use platform::outbound::Transport;
use platform::outbound_fetch::FetchTransport;
use platform::serve::Call;
use platform::{ApiError, Result};
use serde_json::json;

const CALL_TIMEOUT_MS: u64 = 5_000;

pub enum Mail<'a> {
    /// A new account (or a second signup of an unverified one).
    Verify { token: &'a str },
    /// Someone signed up with an address that has a verified account.
    AlreadyRegistered,
    Reset { token: &'a str },
}

impl Mail<'_> {
    fn compose(&self, origin: &str) -> (String, String, &'static str) {
        let origin = origin.trim_end_matches('/');
        match self {
            Mail::Verify { token } => (
                "Confirm your email".into(),
                format!(
                    "Welcome! Confirm this email address to finish creating your account \
                     (orders you placed as a guest with it join the account):\n\n\
                     {origin}/account/verify?token={token}\n\n\
                     The link works for 7 days. If you did not sign up, ignore this email."
                ),
                "account_verify",
            ),
            Mail::AlreadyRegistered => (
                "Someone tried to sign up with your email".into(),
                format!(
                    "Someone (perhaps you) tried to create an account with this email address, \
                     which already has one. To sign in, go to {origin}/account/login; if you \
                     forgot the password, reset it at {origin}/account/reset. If it was not you, \
                     nothing changed and you can ignore this email."
                ),
                "account_exists",
            ),
            Mail::Reset { token } => (
                "Reset your password".into(),
                format!(
                    "Choose a new password here:\n\n{origin}/account/reset?token={token}\n\n\
                     The link works once, for one hour. If you did not ask for it, ignore this email: \
                     your password has not changed."
                ),
                "password_reset",
            ),
        }
    }
}

/// Sends it now. The address is never logged.
pub async fn send(call: &Call, to: &str, mail: Mail<'_>) -> Result<()> {
    let config = EmailConfig::from_env(&call.env).ok_or_else(|| {
        ApiError::internal("EMAIL_API_BASE, EMAIL_FROM or the secret EMAIL_API_KEY is not set")
    })?;
    let (subject, text, tag) = mail.compose(&var(call, "SHOP_ORIGIN")?);
    let message = Email {
        to: to.to_string(),
        subject,
        text,
        tag: tag.to_string(),
    };
    let transport = FetchTransport {
        timeout_ms: CALL_TIMEOUT_MS,
    };
    match email::read_reply(transport.send(&email::send_call(&config, &message)).await) {
        Ok(()) => {
            call.log.info("account_email_sent", json!({"kind": tag}));
            Ok(())
        }
        Err(EmailError::Unavailable(detail)) => {
            let mut e = ApiError::unavailable("email_unavailable", "the email could not be sent now, retry shortly");
            e.internal_detail = Some(format!("{tag}: {detail}"));
            Err(e)
        }
        Err(EmailError::Rejected(status)) => Err(ApiError::internal(format!(
            "the email provider refused the {tag} email (HTTP {status})"
        ))),
    }
}

fn var(call: &Call, name: &str) -> Result<String> {
    call.env
        .var(name)
        .map(|v| v.to_string())
        .map_err(|_| ApiError::internal(format!("var {name} is not set")))
}
