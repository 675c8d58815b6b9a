//! The checkout worker's settings (`[vars]` in functions/checkout/wrangler.toml),
//! each a whole number in a range. A value outside it is a deployment mistake:
//! the worker logs it and uses the default.

/// How long reserved stock waits for payment before the scheduled job gives
/// it back, unless the checkout worker's `RESERVATION_MINUTES` says otherwise.
pub const DEFAULT_RESERVATION_MINUTES: u32 = 15;
/// `MAX_UNITS_PER_SKU`: units of one SKU one order may reserve.
pub const DEFAULT_MAX_UNITS_PER_SKU: u32 = 10;
/// `MAX_PENDING_ORDERS_PER_EMAIL`: unpaid orders still holding stock, per email.
pub const DEFAULT_MAX_PENDING_ORDERS_PER_EMAIL: u32 = 3;
/// `MAX_PENDING_ORDERS_PER_CLIENT`: the same, per client address.
pub const DEFAULT_MAX_PENDING_ORDERS_PER_CLIENT: u32 = 5;

/// What a checkout is allowed to hold, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub reservation_minutes: u32,
    pub max_units_per_sku: u32,
    pub max_pending_orders_per_email: u32,
    pub max_pending_orders_per_client: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            reservation_minutes: DEFAULT_RESERVATION_MINUTES,
            max_units_per_sku: DEFAULT_MAX_UNITS_PER_SKU,
            max_pending_orders_per_email: DEFAULT_MAX_PENDING_ORDERS_PER_EMAIL,
            max_pending_orders_per_client: DEFAULT_MAX_PENDING_ORDERS_PER_CLIENT,
        }
    }
}

/// The settings' names, their defaults and allowed ranges. The caps go up to
/// a million so a benchmark can switch them off in effect.
const RANGES: [(&str, u32, u32); 4] = [
    ("RESERVATION_MINUTES", 1, 1440),
    ("MAX_UNITS_PER_SKU", 1, 99),
    ("MAX_PENDING_ORDERS_PER_EMAIL", 1, 1_000_000),
    ("MAX_PENDING_ORDERS_PER_CLIENT", 1, 1_000_000),
];

impl Settings {
    /// The settings from `var(name)` (a worker's `[vars]`). A missing one is
    /// its default; an invalid one is its default too, and its error (naming
    /// it) is in the returned list for the caller to log.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> (Settings, Vec<String>) {
        let mut s = Settings::default();
        let mut errors = Vec::new();
        for (name, min, max) in RANGES {
            let slot = match name {
                "RESERVATION_MINUTES" => &mut s.reservation_minutes,
                "MAX_UNITS_PER_SKU" => &mut s.max_units_per_sku,
                "MAX_PENDING_ORDERS_PER_EMAIL" => &mut s.max_pending_orders_per_email,
                _ => &mut s.max_pending_orders_per_client,
            };
            if let Some(v) = var(name) {
                match whole_number(name, &v, min, max) {
                    Ok(n) => *slot = n,
                    Err(e) => errors.push(e),
                }
            }
        }
        (s, errors)
    }
}

fn whole_number(name: &str, v: &str, min: u32, max: u32) -> Result<u32, String> {
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("{name}={v:?} is not {min}-{max}"))
}

/// The `RESERVATION_MINUTES` setting: 1 minute to 1 day; anything else is a
/// deployment mistake, reported, and the default is used.
pub fn reservation_minutes(setting: Option<&str>) -> Result<u32, String> {
    match setting {
        None => Ok(DEFAULT_RESERVATION_MINUTES),
        Some(v) => whole_number("RESERVATION_MINUTES", v, 1, 1440),
    }
}
