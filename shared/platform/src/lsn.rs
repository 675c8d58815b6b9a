//! PostgreSQL log sequence numbers, as `pg_current_wal_lsn()` prints them
//! (`16/B374D848`). They order WAL positions, which is how read-your-writes
//! decides whether the replica has caught up with a client's last write.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLsn;

impl FromStr for Lsn {
    type Err = InvalidLsn;

    fn from_str(s: &str) -> Result<Self, InvalidLsn> {
        let (hi, lo) = s.split_once('/').ok_or(InvalidLsn)?;
        let part = |p: &str| {
            if p.is_empty() || p.len() > 8 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(InvalidLsn);
            }
            u32::from_str_radix(p, 16).map_err(|_| InvalidLsn)
        };
        Ok(Lsn((u64::from(part(hi)?) << 32) | u64::from(part(lo)?)))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_postgres_format() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn.0, 0x16_B374_D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!("0/0".parse::<Lsn>().unwrap(), Lsn(0));
        assert_eq!("a/1".parse::<Lsn>().unwrap().to_string(), "A/1");
    }

    #[test]
    fn orders_by_high_word_then_low_word() {
        let a: Lsn = "0/FFFFFFFF".parse().unwrap();
        let b: Lsn = "1/0".parse().unwrap();
        let c: Lsn = "1/10".parse().unwrap();
        assert!(a < b && b < c);
        assert!("1/9".parse::<Lsn>().unwrap() < c);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "/",
            "1/",
            "/1",
            "1",
            "g/1",
            "1/1/1",
            "123456789/0",
            " 1/1",
            "1/-1",
            "+1/1",
        ] {
            assert_eq!(bad.parse::<Lsn>(), Err(InvalidLsn), "{bad:?}");
        }
    }
}
