//! `CustomerPublicId`: the id a customer is known by outside the database
//! (`cus_` + 26 of `[0-9a-z]`), in profiles, session tokens and link tokens.
//! The row's `bigint` id never leaves the database, so ids do not reveal how
//! many customers there are.

use platform::ApiError;

/// Crockford's base32 alphabet, lower-cased: only `[0-9a-z]`, without the
/// letters that read like digits (i, l, o, u).
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

fn is_customer_public_id(s: &str) -> bool {
    s.len() == 30
        && s.starts_with("cus_")
        && s.bytes()
            .skip(4)
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

fn invalid_customer_id() -> ApiError {
    ApiError::bad_request(
        "invalid_customer_id",
        "a customer id is cus_ followed by 26 lower-case letters or digits",
    )
}

platform::string_id! {
    /// `cus_` then exactly 26 of `[0-9a-z]` (`^cus_[0-9a-z]{26}$`).
    pub struct CustomerPublicId, valid: is_customer_public_id, error: invalid_customer_id
}

impl CustomerPublicId {
    /// 128 random bits as 26 base32 characters (the first carries the top 3
    /// bits, like a ULID's), so every value of `bytes` gives another id.
    pub fn from_random(bytes: [u8; 16]) -> CustomerPublicId {
        let n = u128::from_be_bytes(bytes);
        let mut s = String::with_capacity(30);
        s.push_str("cus_");
        for i in (0..26).rev() {
            s.push(ALPHABET[((n >> (i * 5)) & 31) as usize] as char);
        }
        CustomerPublicId(s)
    }

    /// A fresh id from `getrandom`.
    pub fn generate() -> Result<CustomerPublicId, ApiError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("getrandom: {e}")))?;
        Ok(CustomerPublicId::from_random(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cus_and_26_lower_case_alphanumerics() {
        let ok = "cus_0123456789abcdefghijklmnop";
        assert_eq!(CustomerPublicId::parse(ok).unwrap().as_str(), ok);
        for bad in [
            "",
            "cus_",
            "cus_0123456789abcdefghijklmno",
            "cus_0123456789abcdefghijklmnopq",
            "CUS_0123456789abcdefghijklmnop",
            "cus_0123456789ABCDEFGHIJKLMNOP",
            "cus-0123456789abcdefghijklmnop",
            "cus_0123456789abcdefghijklmn_p",
            "cus_0123456789abcdéfghijklmno",
        ] {
            let e = CustomerPublicId::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_customer_id"), "{bad:?}");
        }
    }

    #[test]
    fn random_ids_parse_and_differ() {
        let a = CustomerPublicId::from_random([0; 16]);
        assert_eq!(a.as_str(), "cus_00000000000000000000000000");
        let b = CustomerPublicId::from_random([0xff; 16]);
        assert_eq!(b.as_str(), "cus_7zzzzzzzzzzzzzzzzzzzzzzzzz");
        let c = CustomerPublicId::generate().unwrap();
        assert_eq!(CustomerPublicId::parse(c.as_str()).unwrap(), c);
        assert_ne!(c, CustomerPublicId::generate().unwrap());
    }
}
