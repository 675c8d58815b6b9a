//! The local stack's own tools, for tests that stop the replica or look into
//! the local KV store.

use std::process::Command;

use serde_json::Value;

/// The repository root (tests/ is one of its folders).
fn root() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/..")
}

/// Runs `scripts/db <args>` (stop/start the replica in failure tests).
pub fn scripts_db(args: &[&str]) {
    let status = Command::new(format!("{}/scripts/db", root()))
        .args(args)
        .status()
        .expect("run scripts/db");
    assert!(status.success(), "scripts/db {args:?} failed");
}

/// Keys of the local KV namespace bound as `binding` in the cart worker, as
/// `wrangler kv key list` prints them (name, expiration), read from the same
/// persisted state that `scripts/dev` serves. Err when wrangler fails (the
/// running stack may hold the local database busy for a moment).
pub fn kv_list(binding: &str, prefix: &str) -> Result<Value, String> {
    let root = root();
    let out = Command::new(format!("{root}/node_modules/.bin/wrangler"))
        .current_dir(root)
        .args([
            "kv",
            "key",
            "list",
            "--binding",
            binding,
            "--local",
            "--prefix",
            prefix,
            "--persist-to",
            ".local/wrangler",
            "-c",
            "functions/cart/wrangler.toml",
        ])
        .env("WRANGLER_SEND_METRICS", "false")
        .env("XDG_CONFIG_HOME", format!("{root}/.local/xdg"))
        .env("WRANGLER_LOG_PATH", format!("{root}/.local/logs/wrangler"))
        .output()
        .map_err(|e| format!("run wrangler: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)));
    }
    let start = text
        .find('[')
        .ok_or_else(|| format!("no JSON list in: {text}"))?;
    serde_json::from_str(&text[start..]).map_err(|e| format!("{e}: {text}"))
}

/// The local stack's secret `name` (scripts/dev makes them once per checkout
/// into .local/secrets.env), for tests that sign what a worker would sign.
pub fn local_secret(name: &str) -> String {
    let file = format!("{}/.local/secrets.env", root());
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {file}"))
        .to_string()
}

/// A read-your-writes token for `lsn`, signed as the workers sign them.
pub fn signed_lsn(lsn: &str) -> String {
    let key = local_secret("LSN_TOKEN_SECRET");
    platform::db::route::lsn_token(lsn.parse().expect("an LSN"), key.as_bytes())
}

/// The value of `name` in functions/<worker>/.dev.vars (scripts/dev writes
/// them from .local/secrets.env); None when the file or the name is missing.
pub fn dev_var(worker: &str, name: &str) -> Option<String> {
    let file = format!("{}/functions/{worker}/.dev.vars", root());
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .map(|v| v.trim().trim_matches('"').to_string())
}
