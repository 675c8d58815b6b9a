//! The rows `queries` answer, read by column name, and the JSON the routes
//! answer with.

use platform::row::{FromRow, Row};
use platform::ApiError;
use serde_json::{json, Value};

/// `GET /customers/me` and login's `customer`.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub email_verified: bool,
    pub addresses: Value,
    pub points_balance: i64,
    pub created_at: String,
}

impl FromRow for Profile {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(Profile {
            id: row.get("public_id")?,
            email: row.get_opt("email")?,
            name: row.get_opt("full_name")?,
            email_verified: row.flag("email_verified")?,
            addresses: serde_json::from_str(row.required("addresses")?)
                .map_err(|e| ApiError::internal(format!("addresses: {e}")))?,
            points_balance: row.get("points_balance")?,
            created_at: row.get("created_at")?,
        })
    }
}

impl Profile {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "email_verified": self.email_verified,
            "addresses": self.addresses,
            "points_balance": self.points_balance,
            "created_at": self.created_at,
        })
    }
}

/// What a login, a reset request or a resent link needs of an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub profile: Profile,
    pub password_hash: String,
    pub cart_id: Option<String>,
}

impl FromRow for Account {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(Account {
            profile: Profile::from_row(row)?,
            password_hash: row.get("password_hash")?,
            cart_id: row.get_opt("cart_id")?,
        })
    }
}

impl Account {
    pub fn public_id(&self) -> &str {
        &self.profile.id
    }

    /// Live accounts always have one; erased ones are never read as accounts.
    pub fn email(&self) -> &str {
        self.profile.email.as_deref().unwrap_or_default()
    }
}

/// Signup's row: the account the verify link is for.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedUp {
    pub public_id: String,
    pub password_hash: String,
}

impl FromRow for SignedUp {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(SignedUp {
            public_id: row.get("public_id")?,
            password_hash: row.get("password_hash")?,
        })
    }
}

/// A one-column JSON answer, the column named `json`; NULL allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonColumn(pub Option<Value>);

impl FromRow for JsonColumn {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        row.text("json")?
            .map(|t| serde_json::from_str(t).map_err(|e| ApiError::internal(format!("JSON column: {e}"))))
            .transpose()
            .map(JsonColumn)
    }
}

/// One line of the order history.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderSummary {
    pub json: Value,
    /// The keyset position after this row (`customers::history`).
    pub created_micros: i64,
    pub id: i64,
}

impl FromRow for OrderSummary {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(OrderSummary {
            json: json!({
                "id": row.required("public_id")?,
                "status": row.required("status")?,
                "currency": row.required("currency")?,
                "subtotal": row.get_opt::<String>("subtotal")?,
                "tax": row.get_opt::<String>("tax")?,
                "points_discount": row.required("points_discount")?,
                "total": row.required("total")?,
                "points_redeemed": row.get::<i64>("points_redeemed")?,
                "item_count": row.get::<i64>("item_count")?,
                "created_at": row.required("created_at")?,
            }),
            created_micros: row.get("created_micros")?,
            id: row.get("id")?,
        })
    }
}

/// A wishlist item.
#[derive(Debug, Clone, PartialEq)]
pub struct WishlistItem {
    pub sku: String,
    pub added_at: String,
}

impl FromRow for WishlistItem {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(WishlistItem {
            sku: row.get("sku")?,
            added_at: row.get("added_at")?,
        })
    }
}

pub fn wishlist_json(items: &[WishlistItem]) -> Value {
    json!({
        "items": items.iter().map(|i| json!({"sku": i.sku, "added_at": i.added_at})).collect::<Vec<_>>(),
        "count": items.len(),
    })
}

/// `wishlist_add`'s row.
#[derive(Debug, Clone, PartialEq)]
pub struct WishlistAdd {
    pub sku_exists: bool,
    pub added: bool,
    pub present: bool,
}

impl FromRow for WishlistAdd {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(WishlistAdd {
            sku_exists: row.flag("sku_exists")?,
            added: row.flag("added")?,
            present: row.flag("present")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_read_by_column_name() {
        let row = Row::from_pairs(&[
            ("public_id", Some("cus_0123456789abcdefghjkmnpqrs")),
            ("email", Some("ada@example.com")),
            ("full_name", Some("Ada")),
            ("email_verified", Some("true")),
            ("addresses", Some("[]")),
            ("points_balance", Some("12")),
            ("created_at", Some("2026-11-26T07:00:00Z")),
        ]);
        let p = Profile::from_row(&row).unwrap();
        assert_eq!(p.points_balance, 12);
        assert_eq!(p.to_json()["email_verified"], true);
    }

    #[test]
    fn a_null_json_column_is_none() {
        let row = Row::from_pairs(&[("json", None)]);
        assert_eq!(JsonColumn::from_row(&row).unwrap(), JsonColumn(None));
        let row = Row::from_pairs(&[("json", Some("{\"a\":1}"))]);
        assert_eq!(JsonColumn::from_row(&row).unwrap().0.unwrap()["a"], 1);
    }
}
