//! The catalog's query language: parameters, cursors, and the SQL that answers
//! each route in one statement.

mod cursor;
mod params;
#[cfg(test)]
mod proptests;
mod queries;
mod tree;

pub use cursor::{Cursor, Sort};
pub use params::{parse_detail_params, parse_store_param, ProductQuery, MAX_LIMIT};
pub use queries::{
    categories, product_detail, product_list, stores, ProductDetailRow, ProductListRow,
};
pub use tree::nest_categories;

/// A slug names a product or category in URLs. Anything else cannot exist, so
/// it is a 404 without asking the database.
pub fn is_valid_slug(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 127
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert!(super::is_valid_slug("red-shirt-12"));
        assert!(!super::is_valid_slug("-x"));
        assert!(!super::is_valid_slug("Red"));
        assert!(!super::is_valid_slug(""));
        assert!(!super::is_valid_slug("a/b"));
    }
}
