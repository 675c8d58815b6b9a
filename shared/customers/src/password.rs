//! Passwords: the rule a new one must pass, and argon2id hashing.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`),
//! so the parameters travel with each hash: raising them later leaves old
//! hashes verifiable. Salts are 16 bytes from `getrandom` (on wasm32:
//! `crypto.getRandomValues`), not argon2's `rand` feature, which would pull
//! in a second RNG stack for one call.


use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use platform::ApiError;

/// Shortest and longest password accepted, in characters (not bytes: a
/// passphrase in Greek is as long as it looks).
pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 256;

/// Memory cost in KiB, iterations and lanes: OWASP's first argon2id
/// recommendation (19 MiB, 2 passes, 1 lane), within a Worker's 128 MB.
pub const M_COST_KIB: u32 = 19_456;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// The parameters as a PHC string writes them, for docs and logs.
pub const PARAMS_TEXT: &str = "argon2id v=19 m=19456 t=2 p=1";

/// A real hash (of a password nobody holds) with the same parameters as
/// `hash`: verifying against it costs what verifying a real account costs,
/// so a login for an unknown email takes as long as a wrong password.
/// Produced by `hash_with_salt` (see the test that checks it).
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$ZHVtbXktc2FsdC0xNmJ5dA$IrW7Ikfr65CrktUCU4ptgOHTcSUbK6afkP682ilC/z8";

/// The shipped list of common passwords: lower-case, sorted, one a line.
const COMMON: &str = include_str!("common_passwords.txt");

/// A new password that passed the rule. Only `hash` reads it; `Debug` never
/// shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// 8-256 characters (else 400 `invalid_password`), and not one of the
    /// shipped common passwords, compared trimmed and case-insensitively
    /// (else 400 `common_password`). The password itself is kept exactly as
    /// sent: spaces are part of it.
    pub fn parse(raw: &str) -> Result<Password, ApiError> {
        let n = raw.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&n) {
            return Err(ApiError::bad_request(
                "invalid_password",
                format!("password must be {MIN_CHARS}-{MAX_CHARS} characters"),
            ));
        }
        if is_common(raw) {
            return Err(ApiError::bad_request(
                "common_password",
                "this password is too common; choose another",
            ));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// Whether `candidate`, trimmed and lower-cased, is on the shipped list.
/// A scan of ~500 short lines: nothing next to the hash that follows, and no
/// hash table in the wasm (the list is sorted, so a test could binary-search
/// it, but there is no need).
pub fn is_common(candidate: &str) -> bool {
    let wanted = candidate.trim().to_lowercase();
    COMMON.lines().any(|line| line == wanted)
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password` under a fresh 16-byte random salt.
pub fn hash(password: &Password) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ApiError::internal(format!("getrandom: {e}")))?;
    hash_with_salt(password, &salt)
}

/// The PHC string of `password` under the given salt (`hash` draws it; a
/// fixed one is for tests and `DUMMY_HASH`).
pub fn hash_with_salt(password: &Password, salt: &[u8; 16]) -> Result<String, ApiError> {
    let salt =
        SaltString::encode_b64(salt).map_err(|e| ApiError::internal(format!("salt: {e}")))?;
    hasher()
        .hash_password(password.0.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("argon2: {e}")))
}

/// Whether `password` matches the PHC string `phc`. The comparison of the
/// outputs is constant time (argon2 compares with `subtle`); a malformed or
/// non-argon2 PHC string is simply `false`. The cost is the one the PHC
/// string names, so hashes made with older parameters still verify.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Login's check: exactly one argon2 verification whatever the account
/// state, so the answer time does not tell whether the email has an account.
/// No hash (no such account), or a stored hash that does not parse, burns the
/// same time against `DUMMY_HASH` and answers `false`.
pub fn verify_or_dummy(password: &str, phc: Option<&str>) -> bool {
    match phc.and_then(|p| PasswordHash::new(p).ok()) {
        Some(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        None => {
            let _ = verify(password, DUMMY_HASH);
            false
        }
    }
}

/// Whether a stored hash was made with other parameters than today's (or is
/// not ours at all): rehash it after the next successful login.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed.version != Some(Version::V0x13.into())
        || (params.m_cost(), params.t_cost(), params.p_cost()) != (M_COST_KIB, T_COST, P_COST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters() {
        assert!(Password::parse("zebra-lamp").is_ok());
        assert!(Password::parse("ωμέγαψχφ").is_ok()); // 8 chars, 16 bytes
        assert!(Password::parse(&"é".repeat(256)).is_ok()); // 512 bytes
        for bad in ["", "short", "sevenCh", &"x".repeat(257)] {
            let e = Password::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "invalid_password"), "{bad:?}");
        }
    }

    #[test]
    fn common_passwords_are_refused_whatever_the_case_or_spaces() {
        for bad in [
            "password",
            "Password1",
            " QWERTYUIOP ",
            "iloveyou1",
            "12345678",
        ] {
            let e = Password::parse(bad).unwrap_err();
            assert_eq!((e.status, e.code), (400, "common_password"), "{bad:?}");
        }
        assert!(!is_common("correct horse battery"));
    }

    #[test]
    fn the_shipped_list_is_sorted_unique_lower_case_and_long_enough() {
        let lines: Vec<&str> = COMMON.lines().collect();
        assert!(lines.len() >= 300, "{}", lines.len());
        for pair in lines.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
        for l in &lines {
            assert_eq!(*l, l.trim().to_lowercase(), "{l:?}");
            assert!(l.chars().count() >= MIN_CHARS, "{l:?}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let p = Password::parse("zebra-lamp").unwrap();
        assert!(!format!("{p:?}").contains("zebra"));
        assert_eq!(p.as_str(), "zebra-lamp");
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let p = Password::parse("zebra-lamp-42").unwrap();
        let phc = hash(&p).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("zebra-lamp-42", &phc));
        assert!(!verify("zebra-lamp-43", &phc));
        assert!(!needs_rehash(&phc));
        assert_ne!(phc, hash(&p).unwrap(), "a fresh salt each time");
    }

    #[test]
    fn malformed_hashes_never_verify() {
        for phc in ["", "x", "$argon2id$", "$argon2id$v=19$m=19456,t=2,p=1$$"] {
            assert!(!verify("zebra-lamp-42", phc), "{phc:?}");
            assert!(!verify_or_dummy("zebra-lamp-42", Some(phc)));
            assert!(needs_rehash(phc));
        }
    }

    #[test]
    fn dummy_hash_is_real_and_uses_todays_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(parsed.algorithm, Algorithm::Argon2id.ident());
        assert!(!needs_rehash(DUMMY_HASH));
        assert!(PARAMS_TEXT.contains("m=19456 t=2 p=1"));
        let again = hash_with_salt(
            &Password::parse("no account has this one").unwrap(),
            b"dummy-salt-16byt",
        )
        .unwrap();
        assert_eq!(again, DUMMY_HASH);
    }

    #[test]
    fn verify_or_dummy_answers_false_without_an_account() {
        let phc = hash_with_salt(&Password::parse("zebra-lamp-42").unwrap(), &[7; 16]).unwrap();
        assert!(verify_or_dummy("zebra-lamp-42", Some(&phc)));
        assert!(!verify_or_dummy("zebra-lamp-41", Some(&phc)));
        assert!(!verify_or_dummy("zebra-lamp-42", None));
        assert!(!verify_or_dummy("no account has this one", None));
    }
}
