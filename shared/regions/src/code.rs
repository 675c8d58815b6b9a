//! Region codes (`US-CA`).

use platform::ApiError;

fn is_region_code(s: &str) -> bool {
    let b = s.as_bytes();
    (4..=6).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2] == b'-'
        && b[3..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn invalid_region() -> ApiError {
    ApiError::bad_request(
        "invalid_region",
        "region must be a code such as US-CA: two capital letters, '-', \
         then 1 to 3 capital letters or digits",
    )
}

platform::string_id! {
    /// An ISO 3166-2 style region code such as `US-CA`: two capital letters,
    /// `-`, then one to three capitals or digits (400 `invalid_region`
    /// otherwise). Holding one proves it is well formed, not that we serve
    /// it: that is [`Regions::get`](crate::Regions::get).
    pub struct RegionCode, valid: is_region_code, error: invalid_region
}

impl RegionCode {
    /// The ISO 3166-1 country, e.g. `US`.
    pub fn country(&self) -> &str {
        &self.as_str()[..2]
    }

    /// The subdivision within the country, e.g. `CA`.
    pub fn subdivision(&self) -> &str {
        &self.as_str()[3..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;

    #[test]
    fn region_codes_are_parsed_not_validated() {
        let code = RegionCode::parse("US-CA").unwrap();
        assert_eq!(code.as_str(), "US-CA");
        assert_eq!(code.country(), "US");
        assert_eq!(code.subdivision(), "CA");
        assert_eq!(code.to_string(), "US-CA");
        for ok in ["DE-BE", "FR-75", "GB-ENG", "JP-1"] {
            assert!(RegionCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "US", "US-", "us-ca", "US-ca", "USA-CA", "US-CALI", "US CA", "US-CA ", "U1-CA",
            "ÜS-CA", "US--A",
        ] {
            let e = RegionCode::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_region"), "{bad:?}");
        }
    }

    #[test]
    fn unknown_regions_are_unprocessable() {
        let e = Regions::builtin()
            .get(&RegionCode::parse("US-TX").unwrap())
            .unwrap_err();
        assert_eq!((e.status, e.code), (422, "unknown_region"));
        assert_eq!(e.details.unwrap()["region"], "US-TX");
    }
}
