//! The checkout worker's settings, read once per request from its bindings.

use checkout::Settings;
use platform::Log;
use worker::Env;

/// `[vars]` in functions/checkout/wrangler.toml: RESERVATION_MINUTES,
/// MAX_UNITS_PER_SKU, MAX_PENDING_ORDERS_PER_EMAIL, MAX_PENDING_ORDERS_PER_CLIENT
/// (names, defaults and ranges: `checkout::Settings`).
pub struct Config {
    pub settings: Settings,
}

impl Config {
    /// A bad setting is logged under the request that met it.
    pub fn from_env(env: &Env, log: &Log) -> Config {
        let (settings, errors) =
            Settings::from_vars(|name| env.var(name).ok().map(|v| v.to_string()));
        for e in errors {
            log.error(
                "config_invalid",
                serde_json::json!({"detail": e, "using": "the default"}),
            );
        }
        Config { settings }
    }
}
