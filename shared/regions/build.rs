//! Converts `regions.toml` to `$OUT_DIR/regions.json` at build time.
//!
//! Why: the Workers ship as wasm and every byte counts, so the TOML parser
//! stays a build dependency and `shared::regions` only embeds JSON (serde_json
//! is linked anyway). This script only checks TOML syntax; the meaning of each
//! field is validated by `Regions::from_json`, which a unit test runs on this
//! same file.

use std::path::Path;
use std::{env, fs, process};

const CONFIG: &str = "regions.toml";

fn main() {
    println!("cargo:rerun-if-changed={CONFIG}");

    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let path = Path::new(&manifest_dir).join(CONFIG);
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", path.display())));

    // Deserializing straight into serde_json::Value keeps strings as strings
    // and integers as integers; a float or a bare TOML time stays what it is,
    // so `Regions::from_json` can reject it with a message naming the field.
    let value: serde_json::Value = toml::from_str(&text)
        .unwrap_or_else(|e| fail(&format!("{} is not valid TOML:\n{e}", path.display())));
    if !value
        .get("regions")
        .is_some_and(serde_json::Value::is_object)
    {
        fail(&format!(
            "{} must contain [regions.<CODE>] tables",
            path.display()
        ));
    }

    let out_dir = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir).join("regions.json");
    let json = serde_json::to_string(&value).expect("a JSON value always serializes");
    fs::write(&out, json).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.display())));
}

/// Stops the build with a readable message (cargo prints the script's stderr).
fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    process::exit(1);
}
