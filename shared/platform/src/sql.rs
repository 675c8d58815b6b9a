//! Building one parameterised SQL statement from parsed input. Every parameter
//! travels as text and is cast in the SQL (`$1::bigint`), which keeps a single
//! code path in the driver and lets `query_typed` send Parse/Bind/Execute in one
//! round trip. User input never becomes SQL text.

#[derive(Debug, Default)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Option<String>>,
}

impl Statement {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push_sql(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds a value and returns its placeholder (`$n`).
    pub fn bind(&mut self, value: impl Into<String>) -> String {
        self.params.push(Some(value.into()));
        format!("${}", self.params.len())
    }

    pub fn bind_null(&mut self) -> String {
        self.params.push(None);
        format!("${}", self.params.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_up() {
        let mut s = Statement::new();
        let a = s.bind("x");
        let b = s.bind_null();
        s.push_sql(&format!("SELECT {a}::text, {b}::int"));
        assert_eq!(s.sql, "SELECT $1::text, $2::int");
        assert_eq!(s.params, vec![Some("x".into()), None]);
    }
}
