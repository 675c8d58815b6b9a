//! Keyset paging. A cursor is the sort key and id of the last item a page
//! returned; the next page starts strictly after it, so no OFFSET and no
//! duplicates or gaps when rows are added meanwhile. It is opaque to clients
//! (base64url) but carries a version so the format can change.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use platform::money::Amount;
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
        let id: i64 = id.parse().map_err(|_| invalid())?;
        let key_ok = match sort {
            Sort::PriceAsc | Sort::PriceDesc => Amount::parse(key).is_ok(),
            Sort::Relevance => key.len() <= 20 && key.parse::<f32>().is_ok_and(f32::is_finite),
            Sort::Newest => is_utc_timestamp(key),
        };
        if !key_ok || id < 1 {
            return Err(invalid());
        }
        Ok(Cursor {
            sort,
            key: key.to_string(),
            id,
        })
    }
}

/// `2026-01-01T00:00:00.000000Z`, exactly as the list query prints created_at.
fn is_utc_timestamp(s: &str) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.ddddddZ";
    s.len() == SHAPE.len()
        && s.bytes().zip(SHAPE).all(|(c, &want)| {
            if want == b'd' {
                c.is_ascii_digit()
            } else {
                c == want
            }
        })
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
        ] {
            assert_eq!(
                Cursor::decode(&bad).unwrap_err().code,
                "invalid_cursor",
                "{bad}"
            );
        }
    }
}
