//! Regions have one source, shared/regions/regions.toml: the workers compile
//! it in, and `scripts/db migrate` loads it into the `regions` table. Adding
//! a region is a new block in that file and nothing else (the Rust side of
//! that is the unit test `a_checkout_runs_in_a_region_that_only_the_config_knows`).

mod support;

use std::collections::BTreeSet;

use support::*;

const REGIONS_TOML: &str = include_str!("../shared/regions/regions.toml");

/// The `[regions.XX-YY]` codes a config text declares.
fn codes_in(config: &str) -> BTreeSet<String> {
    config
        .lines()
        .filter_map(|l| l.trim().strip_prefix("[regions.")?.strip_suffix(']'))
        .map(str::to_string)
        .collect()
}

fn codes_in_db() -> BTreeSet<String> {
    primary()
        .query("SELECT code FROM regions", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn the_database_knows_exactly_the_configured_regions() {
    let configured = codes_in(REGIONS_TOML);
    assert!(configured.contains("US-CA"), "{configured:?}");
    let in_db = codes_in_db();
    assert!(
        configured.is_subset(&in_db),
        "configured {configured:?}, in the database {in_db:?}"
    );
    let currency: String = primary()
        .query_one("SELECT currency FROM regions WHERE code = 'US-CA'", &[])
        .unwrap()
        .get(0);
    assert_eq!(currency, "USD");
}

#[test]
fn a_region_added_to_the_config_reaches_the_database_and_leaves_with_it() {
    // ZZ is ISO 3166's user-assigned country code: never a real region.
    let block = "\n[regions.ZZ-T]\nname = \"Test Land\"\ncurrency = \"EUR\"\n\
                 sales_tax = \"0.2\"\nage_verification = \"none\"\n\
                 delivery_hours = { opens = \"09:00\", closes = \"17:00\", time_zone = \"Europe/Paris\" }\n\
                 payment_providers = [\"paypal\"]\n";
    let file = std::env::temp_dir().join(format!("{}.toml", unique("regions-")));
    std::fs::write(&file, format!("{REGIONS_TOML}{block}")).unwrap();

    scripts_db(&["sync-regions", file.to_str().unwrap()]);
    let row = primary()
        .query_one(
            "SELECT name, currency, payment_providers FROM regions WHERE code = 'ZZ-T'",
            &[],
        )
        .unwrap();
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, Vec<String>>(2)
        ),
        ("Test Land".into(), "EUR".into(), vec!["paypal".to_string()])
    );
    // A store can now sell there.
    let store: i64 = primary()
        .query_one(
            "INSERT INTO stores (slug, name, region_code) VALUES ($1, 'Test', 'ZZ-T') RETURNING id",
            &[&unique("zz-").to_ascii_lowercase()],
        )
        .unwrap()
        .get(0);
    primary()
        .execute("DELETE FROM stores WHERE id = $1", &[&store])
        .unwrap();

    // The real file again: the block is gone, so is the region.
    scripts_db(&["sync-regions"]);
    std::fs::remove_file(&file).unwrap();
    assert!(!codes_in_db().contains("ZZ-T"));
    assert!(codes_in(REGIONS_TOML).is_subset(&codes_in_db()));
}
