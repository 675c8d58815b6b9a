//! Helpers shared by the unit tests of this crate.
#![allow(dead_code)]

pub(crate) use std::str::FromStr;

pub(crate) use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
pub(crate) use rust_decimal::Decimal;
pub(crate) use serde_json::Value;

pub(crate) use crate::config::parse_hhmm;
pub(crate) use crate::{DeliveryRequest, Region, RegionCode, Regions, ScheduledDelivery};

/// The TOML text build.rs compiles in.
pub(crate) const REGIONS_TOML: &str = include_str!("../regions.toml");

/// TOML → JSON exactly as build.rs does it (build.rs cannot be imported).
pub(crate) fn toml_to_json(text: &str) -> String {
    let value: Value = toml::from_str(text).expect("valid TOML");
    serde_json::to_string(&value).unwrap()
}

pub(crate) fn regions_from_toml(text: &str) -> Result<Regions, String> {
    Regions::from_json(&toml_to_json(text))
}

pub(crate) fn region(code: &str) -> &'static Region {
    Regions::builtin()
        .get(&RegionCode::parse(code).unwrap())
        .unwrap()
}

pub(crate) fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub(crate) fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

pub(crate) fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

pub(crate) fn hm(s: &str) -> NaiveTime {
    parse_hhmm(s).unwrap()
}

/// A one-region config ("XX-T") whose fields can be overridden or added to.
pub(crate) fn single_region(overrides: &[(&str, &str)]) -> Result<Regions, String> {
    let mut fields = vec![
        ("name", r#""Test""#.to_string()),
        ("currency", r#""USD""#.to_string()),
        ("sales_tax", r#""0.05""#.to_string()),
        ("age_verification", "{ minimum_age = 21 }".to_string()),
        (
            "delivery_hours",
            r#"{ opens = "08:00", closes = "22:00", time_zone = "America/Los_Angeles" }"#
                .to_string(),
        ),
        ("payment_providers", r#"["stripe", "paypal"]"#.to_string()),
    ];
    for (key, value) in overrides {
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1 = value.to_string(),
            None => fields.push((key, value.to_string())),
        }
    }
    let body: String = fields.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    regions_from_toml(&format!("[regions.XX-T]\n{body}"))
}

pub(crate) fn rejected(overrides: &[(&str, &str)]) -> String {
    match single_region(overrides) {
        Ok(_) => panic!("{overrides:?} was accepted"),
        Err(e) => {
            assert!(e.contains("XX-T"), "error does not name the region: {e}");
            e
        }
    }
}

pub(crate) fn schedule(code: &str, request: DeliveryRequest, now: &str) -> ScheduledDelivery {
    region(code).schedule_delivery(&request, utc(now)).unwrap()
}

pub(crate) fn window(start: &str) -> DeliveryRequest {
    DeliveryRequest::Window { start: utc(start) }
}

pub(crate) fn window_error(code: &str, start: &str, now: &str) -> &'static str {
    let e = region(code)
        .schedule_delivery(&window(start), utc(now))
        .unwrap_err();
    assert_eq!(e.status, 422, "{e}");
    e.code
}
