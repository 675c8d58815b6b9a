//! The cart routes' request bodies: serde structs naming every accepted
//! field, turned into commands by `TryFrom`, each field with its own error
//! code. Quantities are JSON numbers only: "2", 2.5, -1 and 1e9 are refused.

use platform::body::Field;
use platform::ApiError;
use regions::RegionCode;
use serde::Deserialize;

use crate::email::invalid_email;
use crate::{Email, Sku, MAX_QUANTITY};

/// `POST /cart`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCartBody {
    #[serde(default)]
    store_id: Field<i64>,
    #[serde(default)]
    region: Field<String>,
}

/// What `POST /cart` asks for, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCart {
    pub store_id: i64,
    pub region: RegionCode,
}

impl TryFrom<CreateCartBody> for NewCart {
    type Error = ApiError;
    fn try_from(body: CreateCartBody) -> Result<Self, ApiError> {
        let store_id = body.store_id.required(invalid_store_id).and_then(|id| {
            if id > 0 {
                Ok(id)
            } else {
                Err(invalid_store_id())
            }
        })?;
        let region = body.region.required(|| {
            ApiError::bad_request("invalid_region", "region is required, e.g. US-CA")
        })?;
        Ok(NewCart {
            store_id,
            region: RegionCode::parse(&region)?,
        })
    }
}

fn invalid_store_id() -> ApiError {
    ApiError::bad_request("invalid_store_id", "store_id must be a positive integer")
}

/// `POST /cart/{id}/items`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddItemBody {
    #[serde(default)]
    sku: Field<String>,
    #[serde(default)]
    quantity: Field<u64>,
}

/// A SKU and how many of it to add (1-99).
#[derive(Debug, Clone, PartialEq)]
pub struct AddItem {
    pub sku: Sku,
    pub quantity: u32,
}

impl TryFrom<AddItemBody> for AddItem {
    type Error = ApiError;
    fn try_from(body: AddItemBody) -> Result<Self, ApiError> {
        let sku = body
            .sku
            .required(|| ApiError::bad_request("invalid_sku", "sku is required"))?;
        Ok(AddItem {
            sku: Sku::parse(&sku)?,
            quantity: quantity(body.quantity, 1)?,
        })
    }
}

/// `PATCH /cart/{id}/items/{sku}`: the line's new quantity, 0 removes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetQuantityBody {
    #[serde(default)]
    quantity: Field<u64>,
}

impl TryFrom<SetQuantityBody> for u32 {
    type Error = ApiError;
    fn try_from(body: SetQuantityBody) -> Result<Self, ApiError> {
        quantity(body.quantity, 0)
    }
}

/// `PATCH /cart/{id}`: the shopper's email, for the abandoned-cart message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachEmailBody {
    #[serde(default)]
    email: Field<String>,
}

impl TryFrom<AttachEmailBody> for Email {
    type Error = ApiError;
    fn try_from(body: AttachEmailBody) -> Result<Self, ApiError> {
        let raw = body
            .email
            .required(|| invalid_email("it is required and must be a string"))?;
        Email::parse(&raw)
    }
}

/// A whole number from `min` to `MAX_QUANTITY`.
fn quantity(field: Field<u64>, min: u64) -> Result<u32, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_quantity",
            format!("quantity must be a whole number from {min} to {MAX_QUANTITY}"),
        )
    };
    let q = field.required(bad)?;
    if (min..=u64::from(MAX_QUANTITY)).contains(&q) {
        Ok(q as u32)
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::body::parse_json;
    use serde_json::{json, Value};

    fn add(body: Value) -> Result<AddItem, ApiError> {
        parse_json::<AddItemBody>(body.to_string().as_bytes()).and_then(AddItem::try_from)
    }

    fn set(body: Value) -> Result<u32, ApiError> {
        parse_json::<SetQuantityBody>(body.to_string().as_bytes()).and_then(u32::try_from)
    }

    #[test]
    fn quantities_are_whole_numbers_in_range() {
        assert_eq!(
            add(json!({"sku": "A-1", "quantity": 1})).unwrap().quantity,
            1
        );
        assert_eq!(
            add(json!({"sku": "A-1", "quantity": 99})).unwrap().quantity,
            99
        );
        assert_eq!(set(json!({"quantity": 0})), Ok(0));
        for bad in [
            json!(0),
            json!(100),
            json!(-1),
            json!(2.5),
            json!("2"),
            json!(1e12),
            json!(null),
        ] {
            let e = add(json!({"sku": "A-1", "quantity": bad})).unwrap_err();
            assert_eq!(e.code, "invalid_quantity", "{bad}");
        }
        assert_eq!(set(json!({})).unwrap_err().code, "invalid_quantity");
    }

    #[test]
    fn an_email_body_holds_one_valid_address() {
        let attach = |v: Value| {
            parse_json::<AttachEmailBody>(v.to_string().as_bytes()).and_then(Email::try_from)
        };
        assert_eq!(
            attach(json!({"email": " Ada@Example.COM "}))
                .unwrap()
                .as_str(),
            "ada@example.com"
        );
        for bad in [
            json!({}),
            json!({"email": null}),
            json!({"email": 5}),
            json!({"email": "ada"}),
        ] {
            let e = attach(bad.clone()).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_email"), "{bad}");
        }
        assert_eq!(
            attach(json!({"email": "ada@example.com", "name": "Ada"}))
                .unwrap_err()
                .code,
            "unknown_field"
        );
    }

    #[test]
    fn each_field_keeps_its_error_code() {
        assert_eq!(add(json!({"quantity": 1})).unwrap_err().code, "invalid_sku");
        assert_eq!(
            add(json!({"sku": 5, "quantity": 1})).unwrap_err().code,
            "invalid_sku"
        );
        assert_eq!(
            add(json!({"sku": "a b", "quantity": 1})).unwrap_err().code,
            "invalid_sku"
        );
        assert_eq!(
            add(json!({"sku": "A-1", "quantity": 1, "price": "0.01"}))
                .unwrap_err()
                .code,
            "unknown_field"
        );
        let create = |v: Value| {
            parse_json::<CreateCartBody>(v.to_string().as_bytes()).and_then(NewCart::try_from)
        };
        assert_eq!(
            create(json!({"region": "US-CA"})).unwrap_err().code,
            "invalid_store_id"
        );
        assert_eq!(
            create(json!({"store_id": -1, "region": "US-CA"}))
                .unwrap_err()
                .code,
            "invalid_store_id"
        );
        assert_eq!(
            create(json!({"store_id": "1", "region": "US-CA"}))
                .unwrap_err()
                .code,
            "invalid_store_id"
        );
        assert_eq!(
            create(json!({"store_id": 1})).unwrap_err().code,
            "invalid_region"
        );
        assert_eq!(
            create(json!({"store_id": 1, "region": "California"}))
                .unwrap_err()
                .code,
            "invalid_region"
        );
        let ok = create(json!({"store_id": 2, "region": "US-CO"})).unwrap();
        assert_eq!((ok.store_id, ok.region.as_str()), (2, "US-CO"));
    }
}
