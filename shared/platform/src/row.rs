//! Rows read by column name. Every statement casts its columns to text (see
//! `sql.rs`), so a row is a list of named optional strings, and a domain type
//! reads the columns it wants by name with `FromRow`. A renamed or missing
//! column is an error naming the column, not a silent shift of positions.

use std::rc::Rc;
use std::str::FromStr;

use crate::ApiError;

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Shared by every row of one result.
    names: Rc<[String]>,
    values: Vec<Option<String>>,
}

impl Row {
    pub fn new(names: Rc<[String]>, values: Vec<Option<String>>) -> Self {
        debug_assert_eq!(names.len(), values.len());
        Row { names, values }
    }

    /// A row from `(name, value)` pairs, for tests.
    pub fn from_pairs(pairs: &[(&str, Option<&str>)]) -> Self {
        let names: Rc<[String]> = pairs.iter().map(|(n, _)| n.to_string()).collect();
        let values = pairs.iter().map(|(_, v)| v.map(str::to_string)).collect();
        Row::new(names, values)
    }

    /// The column's text; `None` when it is SQL NULL. A column the statement
    /// does not have is a bug: 500 naming it.
    pub fn text(&self, column: &str) -> Result<Option<&str>, ApiError> {
        let i = self
            .names
            .iter()
            .position(|n| n == column)
            .ok_or_else(|| ApiError::internal(format!("no column {column} in the row")))?;
        Ok(self.values[i].as_deref())
    }

    /// A column that must not be NULL.
    pub fn required(&self, column: &str) -> Result<&str, ApiError> {
        self.text(column)?
            .ok_or_else(|| ApiError::internal(format!("column {column} is NULL")))
    }

    /// A non-NULL column parsed into `T`.
    pub fn get<T: FromStr>(&self, column: &str) -> Result<T, ApiError> {
        parse(column, self.required(column)?)
    }

    /// A nullable column parsed into `T`.
    pub fn get_opt<T: FromStr>(&self, column: &str) -> Result<Option<T>, ApiError> {
        self.text(column)?.map(|v| parse(column, v)).transpose()
    }

    /// PostgreSQL's text form of a boolean is `true` / `false`.
    pub fn flag(&self, column: &str) -> Result<bool, ApiError> {
        match self.required(column)? {
            "true" | "t" => Ok(true),
            "false" | "f" => Ok(false),
            other => Err(ApiError::internal(format!(
                "column {column}: {other:?} is not a boolean"
            ))),
        }
    }
}

fn parse<T: FromStr>(column: &str, value: &str) -> Result<T, ApiError> {
    value.parse().map_err(|_| {
        ApiError::internal(format!(
            "column {column}: cannot read {value:?} as {}",
            std::any::type_name::<T>()
        ))
    })
}

/// A type read from one row by column name.
pub trait FromRow: Sized {
    fn from_row(row: &Row) -> Result<Self, ApiError>;
}

/// The first column of a one-column answer, e.g. JSON built by the statement.
impl FromRow for String {
    fn from_row(row: &Row) -> Result<Self, ApiError> {
        match row.values.as_slice() {
            [Some(v)] => Ok(v.clone()),
            _ => Err(ApiError::internal(
                "expected one non-NULL column in the row",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_read_by_name() {
        let r = Row::from_pairs(&[("id", Some("7")), ("name", None), ("ok", Some("true"))]);
        assert_eq!(r.get::<i64>("id"), Ok(7));
        assert_eq!(r.get_opt::<String>("name"), Ok(None));
        assert_eq!(r.flag("ok"), Ok(true));
        assert_eq!(r.get::<i64>("missing").unwrap_err().status, 500);
        assert_eq!(r.get::<i64>("name").unwrap_err().status, 500);
        assert!(r
            .get::<u8>("ok")
            .unwrap_err()
            .internal_detail
            .unwrap()
            .contains("column ok"));
    }

    #[test]
    fn a_single_text_column_reads_as_a_string() {
        let r = Row::from_pairs(&[("json", Some("[]"))]);
        assert_eq!(String::from_row(&r), Ok("[]".to_string()));
        let two = Row::from_pairs(&[("a", Some("1")), ("b", Some("2"))]);
        assert!(String::from_row(&two).is_err());
    }
}
