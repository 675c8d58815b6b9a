//! `GET /customers/me/orders?limit=&cursor=`: the query, parsed. Keyset
//! paging on (created_at, id), newest first: the cursor names the last row
//! shown, so a page costs the same however deep it is and an order placed
//! meanwhile never shifts the next page (unlike OFFSET).

use platform::ApiError;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 50;

/// The last row of a page: its creation time in microseconds since the
/// epoch and its id. Written `<micros>_<id>`: opaque to clients, and any
/// value that does not parse is refused (400), never passed to SQL as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryCursor {
    pub created_micros: i64,
    pub id: i64,
}

impl HistoryCursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.created_micros, self.id)
    }

    pub fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::bad_request("invalid_cursor", "cursor must be a next_cursor this route answered");
        let (micros, id) = s.split_once('_').ok_or_else(bad)?;
        let digits = |t: &str| !t.is_empty() && t.len() <= 18 && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(micros) || !digits(id) {
            return Err(bad());
        }
        Ok(HistoryCursor {
            created_micros: micros.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryParams {
    pub limit: u32,
    pub cursor: Option<HistoryCursor>,
}

impl HistoryParams {
    /// Unknown parameters are refused, like the catalog's: a typo should not
    /// silently give the first page.
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut params = HistoryParams { limit: DEFAULT_LIMIT, cursor: None };
        for (key, value) in pairs {
            match key.as_str() {
                "limit" => {
                    params.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            ApiError::bad_request("invalid_limit", format!("limit must be 1 to {MAX_LIMIT}"))
                        })?;
                }
                "cursor" => params.cursor = Some(HistoryCursor::parse(value)?),
                other => {
                    return Err(ApiError::bad_request(
                        "invalid_parameter",
                        format!("unknown parameter {other}; use limit and cursor"),
                    ))
                }
            }
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_cursor_round_trips() {
        let c = HistoryCursor { created_micros: 1_795_000_000_123_456, id: 42 };
        assert_eq!(HistoryCursor::parse(&c.encode()), Ok(c));
    }

    #[test]
    fn odd_cursors_and_limits_are_400() {
        for bad in ["", "_", "1_", "_1", "a_1", "1_1_1", "-1_2", "1 _2", "99999999999999999999_1", "1_2' OR 1=1"] {
            assert_eq!(HistoryCursor::parse(bad).unwrap_err().status, 400, "{bad}");
        }
        for bad in ["0", "51", "-1", "x", ""] {
            assert_eq!(HistoryParams::parse(&pairs(&[("limit", bad)])).unwrap_err().code, "invalid_limit");
        }
        assert_eq!(HistoryParams::parse(&pairs(&[("page", "2")])).unwrap_err().code, "invalid_parameter");
    }

    #[test]
    fn defaults() {
        assert_eq!(
            HistoryParams::parse(&[]).unwrap(),
            HistoryParams { limit: DEFAULT_LIMIT, cursor: None }
        );
    }
}
