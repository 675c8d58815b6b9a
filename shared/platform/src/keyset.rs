//! The keys keyset cursors carry, checked the same way by every list that
//! pages with them (the catalog's products, a store's orders): what a cursor
//! says is only trusted once it has exactly the shape the queries print.

/// A row id: a positive `bigint`, digits only, no leading zero.
pub fn is_id(s: &str) -> bool {
    s.len() <= 19
        && s.starts_with(|c: char| matches!(c, '1'..='9'))
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.parse::<i64>().is_ok()
}

/// `2026-01-01T00:00:00.000000Z`, exactly as the list queries print a time
/// (`to_char(... AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`), and
/// a real instant: a day that exists in that month (leap years too), hours
/// 00-23, minutes and seconds 00-59, years 0001-9999. So `::timestamptz`
/// reads it back without an error.
pub fn is_utc_timestamp(s: &str) -> bool {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.ddddddZ";
    let shaped = s.len() == SHAPE.len()
        && s.bytes().zip(SHAPE).all(|(c, &want)| {
            if want == b'd' {
                c.is_ascii_digit()
            } else {
                c == want
            }
        });
    if !shaped {
        return false;
    }
    let num = |from: usize, to: usize| -> u32 { s[from..to].parse().expect("digits") };
    let (year, month, day) = (num(0, 4), num(5, 7), num(8, 10));
    let (hour, minute, second) = (num(11, 13), num(14, 16), num(17, 19));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    year >= 1 && (1..=days_in_month).contains(&day) && hour < 24 && minute < 60 && second < 60
}
