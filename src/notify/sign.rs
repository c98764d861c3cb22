//! The Standard Webhooks signature (<https://www.standardwebhooks.com>):
//! `v1,` then the base64 HMAC-SHA256, keyed by the secret's bytes (the
//! base64 after `whsec_`), of `{webhook-id}.{webhook-timestamp}.{body}`.
//! Receivers verify it with the scheme's reference libraries.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};

/// The `webhook-signature` header's value, or why the secret is unusable.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let key = STANDARD
        .decode(secret.trim().strip_prefix("whsec_").unwrap_or(secret.trim()))
        .map_err(|_| {
            "is not a Standard Webhooks key: write whsec_ followed by base64 (e.g. `echo whsec_$(openssl rand -base64 32)`)"
                .to_string()
        })?;
    if key.len() < 16 {
        return Err(
            "is shorter than 16 bytes: make a new one with `echo whsec_$(openssl rand -base64 32)`"
                .into(),
        );
    }
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_schemes_published_example() {
        // The example of the Standard Webhooks specification.
        let got = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(got, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn refuses_keys_that_are_not_keys() {
        assert!(
            sign("whsec_???", "i", 1, "b")
                .unwrap_err()
                .contains("base64")
        );
        assert!(
            sign("whsec_YWJj", "i", 1, "b")
                .unwrap_err()
                .contains("16 bytes")
        );
    }
}
