//! Keyset paging. A cursor is the sort key and id of the last item a page
//! returned; the next page starts strictly after it, so no OFFSET and no
//! duplicates or gaps when rows are added meanwhile. It is opaque to clients
//! (base64url) but carries a version so the format can change.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use platform::keyset::{is_id, is_utc_timestamp};
use platform::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    PriceAsc,
    PriceDesc,
    Newest,
}

impl Sort {
    pub fn parse(s: &str) -> Result<Self, ApiError> {
        match s {
            "relevance" => Ok(Sort::Relevance),
            "price_asc" => Ok(Sort::PriceAsc),
            "price_desc" => Ok(Sort::PriceDesc),
            "newest" => Ok(Sort::Newest),
            _ => Err(ApiError::bad_request(
                "invalid_sort",
                "sort must be one of relevance, price_asc, price_desc, newest",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::PriceAsc => "price_asc",
            Sort::PriceDesc => "price_desc",
            Sort::Newest => "newest",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub sort: Sort,
    /// The sort key as SQL prints it: a rank, a price, or an RFC 3339 UTC time.
    pub key: String,
    pub id: i64,
}

const VERSION: &str = "v1";

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{VERSION}|{}|{}|{}",
            self.sort.as_str(),
            self.key,
            self.id
        ))
    }

    pub fn decode(token: &str) -> Result<Self, ApiError> {
        let invalid =
            || ApiError::bad_request("invalid_cursor", "cursor is not one this API issued");
        if token.len() > 200 {
            return Err(invalid());
        }
        let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
        let text = String::from_utf8(raw).map_err(|_| invalid())?;
        let mut parts = text.split('|');
        let (Some(VERSION), Some(sort), Some(key), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid());
        };
        let sort = Sort::parse(sort).map_err(|_| invalid())?;
        if !is_key(sort, key) || !is_id(id) {
            return Err(invalid());
        }
        Ok(Cursor {
            sort,
            key: key.to_string(),
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

/// Whether `key` is a sort key exactly as the list query prints it for
/// `sort`, which its cast (`queries::ordering`: `real`, `numeric`,
/// `timestamptz`) then reads back without an error. Only what the query
/// could have printed is accepted (one spelling per value, but for prices,
/// which may also omit the column's zeros), so a crafted token is a 400
/// `invalid_cursor`, never a database error (22xxx, which was a 500).
fn is_key(sort: Sort, key: &str) -> bool {
    match sort {
        Sort::Relevance => is_real(key),
        Sort::PriceAsc | Sort::PriceDesc => is_price(key),
        Sort::Newest => is_utc_timestamp(key),
    }
}


/// A `ts_rank` as PostgreSQL (12 and later, `extra_float_digits` >= 1)
/// prints a `real`, and nothing else: a zero or normal finite value
/// (`'1e-50'::real` is an underflow error, and older servers also refuse
/// subnormals) written with the fewest digits that lie strictly inside its
/// rounding interval (PostgreSQL's Ryu excludes the interval's bounds, the
/// midpoints to the neighbouring floats), of those the closest to the
/// value, an exact tie to the even digit; in fixed notation when the
/// decimal exponent is -4 to 5, else as `d.ddde+XX` (`0.0607927`, `123456`,
/// `1e-05`, `1.234567e+06`). A server printing 6 significant digits
/// (`extra_float_digits` = 0) writes the same text for the values it can
/// hold, since a 6-digit decimal is already the shortest.
///
/// Checked rather than printed: formatting floats would add ~11 KB of
/// gzipped wasm, while parsing them is linked in anyway. The one case left
/// open is a value closer than 2^-53 of itself to, but not on, the halfway
/// point between two candidates of the same length, where either is taken.
fn is_real(s: &str) -> bool {
    let Some((digits, exp)) = real_parts(s) else {
        return false;
    };
    if digits == 0 {
        return true; // "0" or "-0", as real_parts checked
    }
    let Ok(v) = s.parse::<f32>() else {
        return false;
    };
    if !v.is_normal() {
        return false;
    }
    let v = v.abs();
    // The key is digits × 10^p.
    let p = exp - digits.ilog10() as i32;
    let inside = |m: u64, p: i32| {
        m != 0 && format!("{m}e{p}").parse::<f32>() == Ok(v) && !is_midpoint(v, m, p)
    };
    if !inside(digits, p) {
        return false;
    }
    // The fewest digits: one digit less (rounded down or up) lies outside.
    if digits >= 10 && (inside(digits / 10, p + 1) || inside(digits / 10 + 1, p + 1)) {
        return false;
    }
    // The closest: a neighbour of the same length that is also inside must
    // be farther from the value than the halfway point between the two.
    let exact = dyadic(v);
    for above in [true, false] {
        let neighbour = if above { digits + 1 } else { digits - 1 };
        if !inside(neighbour, p) {
            continue;
        }
        // Halfway: (2·digits ± 1) × 5 × 10^(p-1).
        let half = (2 * digits + u64::from(above) * 2 - 1) * 5;
        let side = if decimal_equals(half, p - 1, exact) {
            Some(std::cmp::Ordering::Equal)
        } else {
            let half = format!("{half}e{}", p - 1).parse::<f64>().ok();
            half.and_then(|h| f64::from(v).partial_cmp(&h))
                .filter(|o| o.is_ne())
        };
        let farther = if above {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Less
        };
        match side {
            Some(std::cmp::Ordering::Equal) if digits % 2 == 1 => return false,
            Some(o) if o == farther => return false,
            _ => {}
        }
    }
    true
}

/// The significant digits (at most 9, no leading or trailing zeros; 0 for
/// zero) and the decimal exponent of the first of them, when `s` is written
/// exactly as [`real_layout`] writes those.
fn real_parts(s: &str) -> Option<(u64, i32)> {
    if s.len() > 16 {
        return None;
    }
    let body = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exp) = match body.split_once('e') {
        Some((m, e)) if (3..=4).contains(&e.len()) => (m, e.parse::<i32>().ok()?),
        Some(_) => return None,
        None => (body, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = || whole.bytes().chain(fraction.bytes());
    if whole.is_empty() || !digits().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let leading = digits().take_while(|b| *b == b'0').count();
    let significant: String = digits()
        .skip(leading)
        .map(char::from)
        .collect::<String>()
        .trim_end_matches('0')
        .to_string();
    let first = whole.len() as i32 - 1 - leading as i32 + exp;
    if significant.len() > 9 || real_layout(s.starts_with('-'), &significant, first) != s {
        return None;
    }
    Some((significant.parse().unwrap_or(0), first))
}

/// How PostgreSQL lays out a `real` given its significant digits and the
/// decimal exponent of the first: fixed for exponents -4 to 5, else
/// `d.ddde±XX`; `0` for no digits.
pub(crate) fn real_layout(negative: bool, digits: &str, exp: i32) -> String {
    let sign = if negative { "-" } else { "" };
    if digits.is_empty() {
        return format!("{sign}0");
    }
    let n = digits.len() as i32;
    if (-4..6).contains(&exp) {
        if exp < 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
        } else if exp + 1 >= n {
            format!("{sign}{digits}{}", "0".repeat((exp + 1 - n) as usize))
        } else {
            let (whole, fraction) = digits.split_at((exp + 1) as usize);
            format!("{sign}{whole}.{fraction}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{point}{rest}e{exp_sign}{:02}", exp.abs())
    }
}

/// A positive normal float as odd × 2^two.
fn dyadic(v: f32) -> (u64, i32) {
    let bits = v.to_bits();
    let significand = u64::from((bits & 0x7f_ffff) | 0x80_0000);
    let two = ((bits >> 23) & 0xff) as i32 - 150;
    let zeros = significand.trailing_zeros();
    (significand >> zeros, two + zeros as i32)
}

/// Whether m × 10^p is exactly halfway between the positive normal `v` and
/// one of its neighbours (below a power of two the neighbour is closer).
fn is_midpoint(v: f32, m: u64, p: i32) -> bool {
    let bits = v.to_bits();
    let fraction = bits & 0x7f_ffff;
    let exponent = (bits >> 23) & 0xff;
    let significand = u64::from(fraction | 0x80_0000);
    let two = exponent as i32 - 150;
    let above = (2 * significand + 1, two - 1);
    let below = if fraction == 0 && exponent > 1 {
        (4 * significand - 1, two - 2)
    } else {
        (2 * significand - 1, two - 1)
    };
    decimal_equals(m, p, above) || decimal_equals(m, p, below)
}

/// Whether m × 10^p equals odd × 2^two (`odd` odd), in integers. The odd
/// parts here are below 2^26, so an overflow means they differ.
fn decimal_equals(m: u64, p: i32, (odd, two): (u64, i32)) -> bool {
    if m == 0 {
        return false;
    }
    let twos = m.trailing_zeros();
    let m = m >> twos;
    let fives = 5u64.checked_pow(p.unsigned_abs());
    let m_odd = if p >= 0 {
        fives.and_then(|f| m.checked_mul(f))
    } else {
        fives.filter(|f| m.is_multiple_of(*f)).map(|f| m / f)
    };
    m_odd == Some(odd) && twos as i32 + p == two
}

/// A `real` printed as PostgreSQL prints it (the tests' oracle for
/// [`is_real`]; printing floats is kept out of the wasm): Rust's shortest
/// digits may lie on a bound of the interval (allowed for an even mantissa)
/// or round a tie up, so the candidates are the correctly rounded digits of
/// that length, Rust's own, then the correctly rounded ones of each greater
/// length (one more is not always enough: 470449984 is 4.7044998e+08, as
/// 4.7045e+08 is its midpoint to the float above).
#[cfg(test)]
pub(crate) fn real_text(v: f32) -> String {
    if v == 0.0 {
        return real_layout(v.is_sign_negative(), "", 0);
    }
    let negative = v.is_sign_negative();
    let v = v.abs();
    let parts = |sci: String| {
        let (mantissa, exp) = sci.split_once('e').unwrap();
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        (
            digits.trim_end_matches('0').to_string(),
            exp.parse::<i32>().unwrap(),
        )
    };
    let shortest = parts(format!("{v:e}"));
    let n = shortest.0.len();
    let rounded = |n: usize| parts(format!("{v:.prec$e}", prec = n - 1));
    let (digits, exp) = [rounded(n), shortest]
        .into_iter()
        .chain((n + 1..=9).map(rounded))
        .find(|(digits, exp)| {
            let m: u64 = digits.parse().unwrap();
            let p = exp + 1 - digits.len() as i32;
            format!("{m}e{p}").parse::<f32>() == Ok(v) && !is_midpoint(v, m, p)
        })
        .unwrap();
    real_layout(negative, &digits, exp)
}

/// A price as `numeric(12,2)` holds it: up to 10 digits before the point
/// (no leading zero but `0` itself) and up to 2 after, as in `19.99`,
/// `500.00` or `7`.
fn is_price(s: &str) -> bool {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, "00"));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    (1..=10).contains(&whole.len())
        && digits(whole)
        && (whole == "0" || !whole.starts_with('0'))
        && (1..=2).contains(&fraction.len())
        && digits(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(sort: Sort, key: &str) {
        let c = Cursor {
            sort,
            key: key.into(),
            id: 42,
        };
        let token = c.encode();
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert_eq!(Cursor::decode(&token).unwrap(), c);
    }

    #[test]
    fn round_trips_every_sort() {
        round_trip(Sort::PriceAsc, "19.99");
        round_trip(Sort::PriceDesc, "500.00");
        round_trip(Sort::Relevance, "0.0607927");
        round_trip(Sort::Newest, "2025-12-31T23:59:00.000000Z");
    }

    #[test]
    fn rejects_tampered_or_foreign_tokens() {
        let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
        for bad in [
            "".to_string(),
            "!!!".to_string(),
            enc("v2|newest|2025-12-31T23:59:00.000000Z|1"),
            enc("v1|newest|2025-12-31 23:59:00|1"),
            enc("v1|newest|2025-12-31T23:59:00.000000Z|0"),
            enc("v1|price_asc|-1|5"),
            enc("v1|price_asc|1;drop table products|5"),
            enc("v1|relevance|NaN|5"),
            enc("v1|sideways|1|5"),
            enc("v1|price_asc|1|5|extra"),
            "a".repeat(300),
            // Well shaped, but PostgreSQL's casts refuse them (22xxx, was a 500).
            enc("v1|newest|2025-13-45T99:99:99.000000Z|1"),
            enc("v1|relevance|1e-50|1"),
        ] {
            assert_eq!(
                Cursor::decode(&bad).unwrap_err().code,
                "invalid_cursor",
                "{bad}"
            );
        }
    }

    fn key_ok(sort: Sort, key: &str) -> bool {
        Cursor::decode(&enc(&format!("v1|{}|{key}|7", sort.as_str()))).is_ok()
    }

    fn enc(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn the_crafted_cursors_of_the_hardening_issue_are_invalid() {
        for token in [
            enc("v1|newest|2025-13-45T99:99:99.000000Z|1"),
            enc("v1|relevance|1e-50|1"),
        ] {
            let e = Cursor::decode(&token).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_cursor"), "{token}");
        }
    }

    #[test]
    fn ranks_are_printed_as_postgres_prints_a_real() {
        for (v, text) in [
            (0.0f32, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.1"),
            (0.060_792_71, "0.06079271"),
            (0.0001, "0.0001"),
            (0.000_012_3, "1.23e-05"),
            (1e-20, "1e-20"),
            (123_456.0, "123456"),
            (1_000_000.0, "1e+06"),
            (1_234_567.0, "1.234567e+06"),
            (100.5, "100.5"),
            (f32::MAX, "3.4028235e+38"),
            (f32::MIN_POSITIVE, "1.1754944e-38"),
            (-2.5, "-2.5"),
            // Rust's shortest, 1.0022734e8, is the midpoint to the float
            // below; PostgreSQL excludes the bounds and writes one digit more.
            (100_227_344.0, "1.00227344e+08"),
            (3_107_486.2, "3.1074862e+06"),
            (54_489_568.0, "5.4489568e+07"),
            (470_449_984.0, "4.7044998e+08"),
        ] {
            assert_eq!(real_text(v), text, "{v:e}");
        }
    }

    #[test]
    fn rank_keys_are_finite_normal_reals_in_postgres_spelling() {
        for ok in [
            "0",
            "0.5",
            "0.0607927",
            "1e-20",
            "1.1754944e-38",
            "3.4028235e+38",
            "12",
        ] {
            assert!(key_ok(Sort::Relevance, ok), "{ok}");
        }
        for bad in [
            "1e-50",   // underflows to 0: PostgreSQL's cast errors
            "1e-45",   // subnormal
            "3.5e+38", // overflows
            "1e39", "inf", "NaN", "-inf", "infinity", "0.50", // not how PostgreSQL prints 0.5
            "1e-5", // it prints 1e-05
            "0.00001", // likewise
            "1000000", // it prints 1e+06
            "+1", ".5", "5.", "", " 1", "0x1", "1_0",
        ] {
            assert!(!key_ok(Sort::Relevance, bad), "{bad}");
        }
    }

    #[test]
    fn price_keys_fit_the_price_column() {
        for ok in ["0", "0.00", "0.5", "19.99", "500.00", "7", "9999999999.99"] {
            assert!(
                key_ok(Sort::PriceAsc, ok) && key_ok(Sort::PriceDesc, ok),
                "{ok}"
            );
        }
        for bad in [
            "",
            ".",
            "1.",
            ".5",
            "01",
            "00.5",
            "1.999",
            "10000000000",
            "-1",
            "+1",
            "1e3",
            "1,5",
            " 1",
            "NaN",
            "1.2.3",
        ] {
            assert!(!key_ok(Sort::PriceAsc, bad), "{bad}");
        }
    }

    #[test]
    fn time_keys_are_real_utc_instants() {
        for ok in [
            "2025-12-31T23:59:59.999999Z",
            "2024-02-29T00:00:00.000000Z",
            "2000-02-29T12:00:00.000000Z",
            "0001-01-01T00:00:00.000000Z",
            "9999-12-31T23:59:59.999999Z",
        ] {
            assert!(key_ok(Sort::Newest, ok), "{ok}");
        }
        for bad in [
            "2025-13-45T99:99:99.000000Z",
            "2025-00-10T00:00:00.000000Z",
            "2025-01-00T00:00:00.000000Z",
            "2025-04-31T00:00:00.000000Z",
            "2025-02-29T00:00:00.000000Z",
            "1900-02-29T00:00:00.000000Z",
            "2025-01-01T24:00:00.000000Z",
            "2025-01-01T00:60:00.000000Z",
            "2025-01-01T23:59:60.000000Z",
            "0000-01-01T00:00:00.000000Z",
            "2025-01-01T00:00:00Z",
            "2025-01-01 00:00:00.000000Z",
            "2025-01-01T00:00:00.000000+00:00",
        ] {
            assert!(!key_ok(Sort::Newest, bad), "{bad}");
        }
    }

    #[test]
    fn ids_are_positive_bigints_in_one_spelling() {
        let token = |id: &str| enc(&format!("v1|price_asc|1.00|{id}"));
        assert_eq!(
            Cursor::decode(&token("9223372036854775807")).unwrap().id,
            i64::MAX
        );
        for bad in [
            "0",
            "-1",
            "+1",
            "01",
            "9223372036854775808",
            "",
            "1.0",
            " 1",
        ] {
            assert!(Cursor::decode(&token(bad)).is_err(), "{bad}");
        }
    }
}
