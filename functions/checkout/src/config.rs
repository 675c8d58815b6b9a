//! The checkout worker's settings, read once per request from its bindings.

use checkout::{reservation_minutes, DEFAULT_RESERVATION_MINUTES};
use worker::Env;

/// `[vars]` in functions/checkout/wrangler.toml.
const RESERVATION_MINUTES: &str = "RESERVATION_MINUTES";

pub struct Config {
    /// How long a checkout's stock stays reserved while payment is pending.
    pub reservation_minutes: u32,
}

impl Config {
    pub fn from_env(env: &Env) -> Config {
        let setting = env.var(RESERVATION_MINUTES).ok().map(|v| v.to_string());
        let reservation_minutes = reservation_minutes(setting.as_deref()).unwrap_or_else(|e| {
            platform::Log::new("config").error(
                "config_invalid",
                serde_json::json!({"detail": e, "using": DEFAULT_RESERVATION_MINUTES}),
            );
            DEFAULT_RESERVATION_MINUTES
        });
        Config {
            reservation_minutes,
        }
    }
}
