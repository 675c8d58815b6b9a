//! `CustomerPublicId`: the id a customer is known by outside the database
//! (`cus_` + 26 of `[0-9a-z]`), in profiles, session tokens and link tokens.
//! The row's `bigint` id never leaves the database, so ids do not reveal how
//! many customers there are.

use platform::ApiError;

// The database makes them (customer_public_id(), migrations/0008): this
// only says what one looks like.
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

}
