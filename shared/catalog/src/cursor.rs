//! Keyset paging. A cursor is the sort key and id of the last item a page
//! returned; the next page starts strictly after it, so no OFFSET and no
//! duplicates or gaps when rows are added meanwhile. It is opaque to clients
//! (base64url) but carries a version so the format can change.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

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

/// A product id: a positive `bigint`, digits only, no leading zero.
fn is_id(s: &str) -> bool {
    s.len() <= 19
        && s.starts_with(|c: char| matches!(c, '1'..='9'))
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<i64>().is_ok()
}

/// A `ts_rank` as PostgreSQL prints a `real`: a finite number that is zero
/// or normal (`'1e-50'::real` is an underflow error, and older servers also
/// refuse subnormals), written exactly as [`real_text`] writes it.
fn is_real(s: &str) -> bool {
    s.len() <= 16
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'+' | b'-'))
        && s.parse::<f32>()
            .is_ok_and(|v| (v == 0.0 || v.is_normal()) && real_text(v) == s)
}

/// A `real` as PostgreSQL (12 and later, `extra_float_digits` >= 1) prints
/// it: the shortest digits strictly inside the value's rounding interval,
/// in fixed notation when the decimal exponent is -4 to 5, else as
/// `d.ddde+XX` (`0.0607927`, `123456`, `1e-05`, `1.234567e+06`). A server
/// printing 6 significant digits (`extra_float_digits` = 0) writes the same
/// text for the values it can hold, since every 6-digit decimal is already
/// the shortest.
pub(crate) fn real_text(v: f32) -> String {
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v == 0.0 {
        return format!("{sign}0");
    }
    let v = v.abs();
    // PostgreSQL's Ryu takes the fewest digits strictly inside the value's
    // rounding interval (it excludes the bounds, the midpoints to the
    // neighbours: STRICTLY_SHORTEST 0), the closest to the value, an exact
    // tie to the even digit. Rust's `{:e}` has the fewest digits but may
    // pick a bound (allowed for an even mantissa) or round a tie up; its
    // length n, and one more, are the lengths to try.
    let shortest = sci_digits(&format!("{v:e}"));
    let n = shortest.0.len();
    let rounded = |n: usize| sci_digits(&format!("{v:.prec$e}", prec = n - 1));
    let (digits, exp) = [rounded(n), shortest, rounded(n + 1)]
        .into_iter()
        .find(|(digits, exp)| {
            format!("0.{digits}e{}", exp + 1).parse::<f32>() == Ok(v)
                && !is_midpoint(v, digits, *exp)
        })
        // Unreachable (n + 1 correctly rounded digits are inside); 9 digits
        // identify every f32, and decoding a cursor must not panic.
        .unwrap_or_else(|| rounded(9));
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

/// The significant digits (no trailing zeros) and the decimal exponent of
/// a positive number written by `{:e}` (`6.079271e-2` → `6079271`, -2).
fn sci_digits(sci: &str) -> (String, i32) {
    let (mantissa, exp) = sci.split_once('e').expect("LowerExp writes an exponent");
    let exp = exp.parse().expect("LowerExp writes an integer exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let digits = digits.trim_end_matches('0');
    (
        if digits.is_empty() { "0" } else { digits }.to_string(),
        exp,
    )
}

/// Whether `digits`×10^(exp+1-len) is exactly halfway between the positive
/// normal `v` and one of its neighbours. The halfway points have 25
/// significant bits, so f64 holds them exactly, and `{:.N e}` writes an f64
/// exactly when N is large enough (160 digits cover 2^-150).
fn is_midpoint(v: f32, digits: &str, exp: i32) -> bool {
    let below = f32::from_bits(v.to_bits() - 1);
    let above = f32::from_bits(v.to_bits() + 1);
    let (v, below) = (f64::from(v), f64::from(below));
    let above = if above.is_finite() {
        f64::from(above)
    } else {
        v + (v - below)
    };
    [(v + below) / 2.0, (v + above) / 2.0]
        .iter()
        .any(|mid| sci_digits(&format!("{mid:.160e}")) == (digits.to_string(), exp))
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

/// `2026-01-01T00:00:00.000000Z`, exactly as the list query prints created_at
/// (`to_char(... AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`), and
/// a real instant: a day that exists in that month (leap years too), hours
/// 00-23, minutes and seconds 00-59, years 0001-9999.
fn is_utc_timestamp(s: &str) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.ddddddZ";
    let shaped = s.len() == SHAPE.len()
        && s.bytes().zip(SHAPE).all(|(c, &want)| {
            if want == b'd' {
                c.is_ascii_digit()
            } else {
                c == want
            }
        });
    if !shaped {
        return false;
    }
    let num = |from: usize, to: usize| -> u32 { s[from..to].parse().expect("digits") };
    let (year, month, day) = (num(0, 4), num(5, 7), num(8, 10));
    let (hour, minute, second) = (num(11, 13), num(14, 16), num(17, 19));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days_in_month).contains(&day) && hour < 24 && minute < 60 && second < 60
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
