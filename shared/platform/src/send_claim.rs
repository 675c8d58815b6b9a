//! Sending a notice once (an email, a staff alert) when a queue may deliver
//! its message twice at the same time. Before calling the provider a
//! delivery claims the notice for a lease, in the notice's own row (SQL:
//! `alert_claim`, `cart_recovery_claim`); it marks the notice sent after the
//! call, or releases the claim when the call failed. A second delivery that
//! finds a live claim waits out the lease and looks again.
//!
//! A crash after the provider took the notice and before the mark still
//! sends it twice (the claim lapses, and the retry sends): no provider here
//! takes an idempotency key for a message.

use crate::{ApiError, FromRow, Row};

/// How long a claim holds: one provider call (10 s at most) and the mark,
/// with room to spare. A delivery that finds the notice busy retries after
/// this long.
pub const LEASE_SECS: u32 = 30;

/// What a claim answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendClaim {
    /// This delivery sends it.
    Claimed,
    /// It was sent before: nothing to do.
    Sent,
    /// Another delivery is sending it now: try again after the lease.
    Busy,
}

impl SendClaim {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        match s {
            "claimed" => Ok(SendClaim::Claimed),
            "sent" => Ok(SendClaim::Sent),
            "busy" => Ok(SendClaim::Busy),
            other => Err(ApiError::internal(format!("a send claim answered {other:?}"))),
        }
    }
}

/// A row whose `claim` column holds the answer.
impl FromRow for SendClaim {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        SendClaim::parse(row.required("claim")?)
    }
}

/// A release's answer (`released`): whether a claim was let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Released(pub bool);

impl FromRow for Released {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(Released(row.flag("released")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_read_by_name_and_anything_else_is_an_error() {
        for (text, claim) in [
            ("claimed", SendClaim::Claimed),
            ("sent", SendClaim::Sent),
            ("busy", SendClaim::Busy),
        ] {
            let row = Row::from_pairs(&[("claim", Some(text))]);
            assert_eq!(SendClaim::from_row(&row).unwrap(), claim);
        }
        assert!(SendClaim::parse("Claimed").is_err());
        assert!(SendClaim::from_row(&Row::from_pairs(&[("claim", None)])).is_err());
        let released = Row::from_pairs(&[("released", Some("true"))]);
        assert_eq!(Released::from_row(&released).unwrap(), Released(true));
    }
}
