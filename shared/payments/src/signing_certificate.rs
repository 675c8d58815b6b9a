//! The few things we read from PayPal's webhook signing certificate: when
//! it is valid and its public key (the DER `SubjectPublicKeyInfo`).
//!
//! Only those fields are decoded; the rest of the X.509 structure is
//! stepped over as DER elements (strict DER, through the `der` crate that
//! `rsa` already uses). A full X.509 decoder (`x509-cert`) reads names and
//! extensions we never look at, for ~20 KB of gzipped wasm where this is
//! ~8 KB. The certificate's own signature is not checked here: what makes
//! the key PayPal's is where the certificate came from (`paypal_signature`).
//!
//! The key is handed out as SPKI DER so that either verifier can take it:
//! `rsa` (`paypal_signature::verify_rsa`, native tests) or WebCrypto's
//! `importKey("spki", …)` (`paypal_webcrypto::verify_rsa`, in a Worker).

use base64::Engine;
use der::{Decode, Reader, SliceReader, Tag, TagNumber};

use crate::signature::SignatureError;

/// A certificate valid now, reduced to its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    not_before: u64,
    not_after: u64,
    spki_der: Vec<u8>,
}

impl SigningCertificate {
    /// The first certificate of `pem` (PayPal may send its chain, leaf
    /// first, as its SDKs take it), if it can be read and is valid at
    /// `now_unix`.
    pub fn from_pem(pem: &str, now_unix: i64) -> Result<Self, SignatureError> {
        use SignatureError::CertificateInvalid;
        let der = first_pem_certificate(pem).ok_or(CertificateInvalid("no PEM certificate"))?;
        let cert = read_certificate(&der)
            .map_err(|_| CertificateInvalid("the certificate cannot be read"))?;
        let now =
            u64::try_from(now_unix).map_err(|_| CertificateInvalid("the clock is before 1970"))?;
        if now < cert.not_before {
            return Err(CertificateInvalid("the certificate is not valid yet"));
        }
        if now > cert.not_after {
            return Err(CertificateInvalid("the certificate has expired"));
        }
        Ok(cert)
    }

    /// The DER `SubjectPublicKeyInfo`: what WebCrypto's
    /// `importKey("spki", …)` and `rsa`'s `from_public_key_der` take.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// Validity, in unix seconds (inclusive).
    pub fn valid_from(&self) -> u64 {
        self.not_before
    }

    pub fn valid_until(&self) -> u64 {
        self.not_after
    }
}

/// The DER of the first `CERTIFICATE` block.
fn first_pem_certificate(pem: &str) -> Option<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN)? + BEGIN.len();
    let body = &pem[start..start + pem[start..].find(END)?];
    // Lines of base64: line breaks are the only other thing allowed.
    let base64: String = body.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .ok()
        .filter(|der| !der.is_empty())
}

/// RFC 5280:
/// ```text
/// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
/// TBSCertificate ::= SEQUENCE {
///     version [0] EXPLICIT OPTIONAL, serialNumber INTEGER, signature AlgorithmIdentifier,
///     issuer Name, validity SEQUENCE { notBefore Time, notAfter Time }, subject Name,
///     subjectPublicKeyInfo SEQUENCE, [1] [2] [3] OPTIONAL }
/// ```
fn read_certificate(der: &[u8]) -> der::Result<SigningCertificate> {
    let mut reader = SliceReader::new(der)?;
    let cert = reader.sequence(|cert| {
        let tbs = cert.sequence(|tbs| {
            let version = Tag::ContextSpecific {
                constructed: true,
                number: TagNumber::N0,
            };
            if tbs.peek_tag()? == version {
                tbs.tlv_bytes()?;
            }
            skip(tbs, Tag::Integer)?; // serialNumber
            skip(tbs, Tag::Sequence)?; // signature
            skip(tbs, Tag::Sequence)?; // issuer
            let (not_before, not_after) =
                tbs.sequence(|validity| Ok((time(validity)?, time(validity)?)))?;
            skip(tbs, Tag::Sequence)?; // subject
            tbs.peek_tag()?.assert_eq(Tag::Sequence)?;
            let spki_der = tbs.tlv_bytes()?.to_vec();
            // issuerUniqueID, subjectUniqueID, extensions: not ours to read.
            while !tbs.is_finished() {
                tbs.tlv_bytes()?;
            }
            Ok(SigningCertificate {
                not_before,
                not_after,
                spki_der,
            })
        })?;
        skip(cert, Tag::Sequence)?; // signatureAlgorithm
        skip(cert, Tag::BitString)?; // signatureValue
        Ok(tbs)
    })?;
    reader.finish(cert)
}

/// Steps over one element, which must have tag `tag`.
fn skip<'a>(reader: &mut impl Reader<'a>, tag: Tag) -> der::Result<()> {
    reader.peek_tag()?.assert_eq(tag)?;
    reader.tlv_bytes()?;
    Ok(())
}

/// `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }`, in
/// unix seconds.
fn time<'a>(reader: &mut impl Reader<'a>) -> der::Result<u64> {
    let duration = match reader.peek_tag()? {
        Tag::UtcTime => der::asn1::UtcTime::decode(reader)?.to_unix_duration(),
        _ => der::asn1::GeneralizedTime::decode(reader)?.to_unix_duration(),
    };
    Ok(duration.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// tests/fixtures/paypal/cert.pem: RSA 2048, valid 2026-11-26T01:16:01Z
    /// to 2036-11-23T01:16:01Z (see paypal_signature's tests).
    const CERT: &str = include_str!("../tests/fixtures/paypal/cert.pem");
    const OTHER_CERT: &str = include_str!("../tests/fixtures/paypal/other_cert.pem");
    const EC_CERT: &str = include_str!("../tests/fixtures/paypal/ec_cert.pem");
    const NOT_BEFORE: i64 = 1_795_655_761;
    const NOT_AFTER: i64 = 2_111_015_761;

    const CERT_SPKI: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr8q3aVlkXCfZ2em7T6fVrUN34+B4EDdxknNSbGmePkOigaTCtjcHNSVloq+4zoWEOWKyynFyhPKQfZ/3CKt3tPFrU9+bcjovUeu9FhnEwEA0sF+uJ0fzZS9qCy6ZyJ/hZb/1G9uE8db9lnoQkasShby7Ow6HVWnpO5FRDX8Jq2nnqdTflgAcRCfUNzcK1HrceL0lIG5q2+Pv6alESuTnvFvJ77HCVCPRbaONUALCVE/wnExRhMt/ycyowdqNgf+YKaBdF4W2pB7Dd7jsxk3BAIW/PIDjtJTbenuFjG7AUsCpgxmyIJRWudFf3fV5syZnTw/6InIO/U775Rf2lyoJiQIDAQAB";

    fn der_of(pem: &str) -> Vec<u8> {
        first_pem_certificate(pem).unwrap()
    }

    #[test]
    fn reads_validity_and_the_key() {
        let cert = SigningCertificate::from_pem(CERT, NOT_BEFORE + 10).unwrap();
        assert_eq!(cert.valid_from(), NOT_BEFORE as u64);
        assert_eq!(cert.valid_until(), NOT_AFTER as u64);
        // Byte for byte what openssl reads:
        // openssl x509 -in cert.pem -pubkey -noout | openssl pkey -pubin -outform DER | base64 -w0
        let spki = base64::engine::general_purpose::STANDARD
            .decode(CERT_SPKI)
            .unwrap();
        assert_eq!(cert.spki_der(), spki);
        let ec = SigningCertificate::from_pem(EC_CERT, NOT_BEFORE).unwrap();
        assert_ne!(ec.spki_der(), &spki[..]);
    }

    #[test]
    fn the_first_certificate_of_a_chain_is_read() {
        let chain = format!("{CERT}{OTHER_CERT}");
        assert_eq!(
            SigningCertificate::from_pem(&chain, NOT_BEFORE).unwrap(),
            SigningCertificate::from_pem(CERT, NOT_BEFORE).unwrap()
        );
        let with_text = format!("subject=CN = leaf\r\n{}", CERT.replace('\n', "\r\n"));
        assert_eq!(
            SigningCertificate::from_pem(&with_text, NOT_BEFORE).unwrap(),
            SigningCertificate::from_pem(CERT, NOT_BEFORE).unwrap()
        );
    }

    #[test]
    fn validity_is_inclusive_and_checked() {
        SigningCertificate::from_pem(CERT, NOT_BEFORE).unwrap();
        SigningCertificate::from_pem(CERT, NOT_AFTER).unwrap();
        for (now, why) in [
            (NOT_BEFORE - 1, "the certificate is not valid yet"),
            (NOT_AFTER + 1, "the certificate has expired"),
            (-1, "the clock is before 1970"),
        ] {
            assert_eq!(
                SigningCertificate::from_pem(CERT, now),
                Err(SignatureError::CertificateInvalid(why))
            );
        }
    }

    #[test]
    fn damaged_certificates_cannot_be_read() {
        let der = der_of(CERT);
        let unreadable = Err(SignatureError::CertificateInvalid(
            "the certificate cannot be read",
        ));
        let pem_of = |der: &[u8]| {
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                base64::engine::general_purpose::STANDARD.encode(der)
            )
        };
        // Cut short, one byte longer, trailing data, the outer tag changed.
        let mut longer = der.clone();
        longer.push(0);
        let mut retagged = der.clone();
        retagged[0] = 0x31;
        for bad in [
            &der[..der.len() - 1],
            &der[..100],
            &longer[..],
            &retagged[..],
        ] {
            assert_eq!(
                SigningCertificate::from_pem(&pem_of(bad), NOT_BEFORE),
                unreadable
            );
        }
        for pem in [
            "",
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        ] {
            assert!(
                SigningCertificate::from_pem(pem, NOT_BEFORE).is_err(),
                "{pem:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_der_never_panics(der in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = read_certificate(&der);
        }

        #[test]
        fn flipped_bytes_never_panic(at in 0usize..10_000, bit in 0u8..8) {
            let mut der = der_of(CERT);
            let at = at % der.len();
            der[at] ^= 1 << bit;
            let _ = read_certificate(&der);
        }
    }
}
