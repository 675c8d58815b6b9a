//! The query of `GET /admin/inventory?sku=P000123-2`.

use platform::ApiError;

use crate::ids::Sku;
use crate::unprocessable;

/// `sku`, required once: 422 `invalid_sku` when it is missing, repeated or
/// not a SKU. `_`-prefixed parameters (cache-busters) are ignored; any other
/// is 400 `invalid_parameter`, as in the catalog.
pub fn parse_levels_query(pairs: &[(String, String)]) -> Result<Sku, ApiError> {
    let mut sku = None;
    for (name, value) in pairs {
        match name.as_str() {
            "sku" if sku.is_none() => {
                sku = Some(Sku::parse(value).map_err(|mut e| {
                    e.message = format!("sku: {}", e.message);
                    e
                })?)
            }
            "sku" => {
                return Err(unprocessable(
                    "invalid_sku",
                    "sku: given more than once; ask for one SKU",
                ))
            }
            n if n.starts_with('_') => {}
            n => {
                return Err(ApiError::bad_request(
                    "invalid_parameter",
                    format!("{n}: unknown parameter (this route takes sku)"),
                ))
            }
        }
    }
    sku.ok_or_else(|| {
        unprocessable(
            "invalid_sku",
            "sku: required, e.g. /admin/inventory?sku=P000123-2",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<Sku, ApiError> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_levels_query(&pairs)
    }

    #[test]
    fn the_sku_is_required_once_and_well_formed() {
        assert_eq!(
            parse(&[("sku", "P000123-2")]).unwrap().as_str(),
            "P000123-2"
        );
        assert!(parse(&[("_", "123"), ("sku", "ABC")]).is_ok());
        for q in [
            &[][..],
            &[("sku", "")],
            &[("sku", "p1")],
            &[("sku", "ABC"), ("sku", "ABD")],
        ] {
            let e = parse(q).unwrap_err();
            assert_eq!((e.status, e.code), (422, "invalid_sku"), "{q:?}");
            assert!(e.message.starts_with("sku:"), "{}", e.message);
        }
        let e = parse(&[("sku", "ABC"), ("warehouse", "w1")]).unwrap_err();
        assert_eq!((e.status, e.code), (400, "invalid_parameter"));
    }
}
