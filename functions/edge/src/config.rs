//! The edge's bindings and settings, named in one place (top-level
//! wrangler.toml declares them; the service bindings are in routes.rs).

use worker::Env;

/// KV: holds `catalog_version`, which keys the catalog cache.
pub const CATALOG_KV: &str = "CATALOG_KV";

/// `[vars]`: storefront origins allowed to call the API from a browser.
const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";

pub struct Config {
    /// Comma-separated origins (see `trust::origin_allowed`).
    pub allowed_origins: String,
}

impl Config {
    pub fn from_env(env: &Env) -> Config {
        Config {
            allowed_origins: env
                .var(ALLOWED_ORIGINS)
                .map(|v| v.to_string())
                .unwrap_or_default(),
        }
    }
}
