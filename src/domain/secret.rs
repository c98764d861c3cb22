//! Credentials, and where each may go. A job never holds a secret: it holds a
//! [`Credential`], either the name of an environment variable (`password_env=`:
//! only the operator, who owns that machine's environment, may write one) or a
//! named secret (`password=secret:NAME`) that the operator defined with the
//! hosts it is bound to. A [`Keyring`] holds the secrets one run needs and
//! reveals a value only for an [`Endpoint`] its [`Binding`] allows, so no job
//! author can send a secret to a host of their choosing.
//!
//! Sauve's own variables (`SAUVE_*`: the cron secret, the master key, the
//! passphrases) are never a credential, and a secret bound to no host (an
//! encryption passphrase) is sent nowhere.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// A secret's name: 1 to 63 lowercase letters, digits, `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SecretName(String);

impl SecretName {
    pub fn parse(s: &str) -> Result<SecretName, String> {
        let ok = (1..=63).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
            });
        if ok {
            Ok(SecretName(s.to_string()))
        } else {
            Err(format!(
                "{s:?} is not a secret name: 1 to 63 lowercase letters, digits, '-', '_' or '.', e.g. app-db"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SecretName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        SecretName::parse(&s)
    }
}

impl From<SecretName> for String {
    fn from(n: SecretName) -> String {
        n.0
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a credential's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Credential {
    /// An environment variable of the Sauve process (operator-written only).
    Env(String),
    /// A named secret, revealed only to the hosts it is bound to.
    Secret(SecretName),
}

impl Credential {
    /// `VAR` given to a `*_env=` parameter.
    pub fn env(param: &str, v: &str) -> Result<Credential, String> {
        if !is_env_name(v) {
            return Err(format!(
                "{param}={v:?} is not an environment variable name (letters, digits, underscore)"
            ));
        }
        if v.starts_with("SAUVE_") {
            return Err(format!(
                "{param}={v}: Sauve's own variables (SAUVE_*) hold its keys and are never sent as a credential; define a secret with `sauve secret set NAME --host HOST` and write {}=secret:NAME",
                param.trim_end_matches("_env")
            ));
        }
        Ok(Credential::Env(v.to_string()))
    }

    /// `secret:NAME` given to a credential parameter.
    pub fn secret(param: &str, v: &str) -> Result<Credential, String> {
        let name = v.strip_prefix("secret:").ok_or_else(|| {
            format!(
                "{param}= takes a secret's name, {param}=secret:NAME (define it with `sauve secret set NAME --host HOST`); the value itself never goes in a URI"
            )
        })?;
        SecretName::parse(name).map(Credential::Secret)
    }
}

pub(crate) fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Where a credential is about to be sent: the host (and port) a connection
/// goes to and, for object stores, the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: Option<u16>,
    pub bucket: Option<String>,
}

impl Endpoint {
    pub fn host(host: &str, port: Option<u16>) -> Endpoint {
        Endpoint {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase(),
            port,
            bucket: None,
        }
    }

    /// The host and port of an `http(s)://host[:port]/…` URL.
    pub fn of_url(url: &str, bucket: Option<&str>) -> Endpoint {
        let parsed = url::Url::parse(url).ok();
        let host = parsed
            .as_ref()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let port = parsed.as_ref().and_then(|u| u.port_or_known_default());
        Endpoint {
            bucket: bucket.map(str::to_string),
            ..Endpoint::host(&host, port)
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) if self.host.contains(':') => write!(f, "[{}]:{p}", self.host)?,
            Some(p) => write!(f, "{}:{p}", self.host)?,
            None => f.write_str(&self.host)?,
        }
        if let Some(b) = &self.bucket {
            write!(f, " (bucket {b})")?;
        }
        Ok(())
    }
}

/// The hosts (and buckets) a secret may be sent to. Empty hosts: nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// `host`, `host:port` or `*.domain` (any subdomain, any port).
    pub hosts: Vec<String>,
    /// Buckets or containers; empty means any at the bound hosts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<String>,
}

impl Binding {
    pub fn new(hosts: &[String], buckets: &[String]) -> Result<Binding, String> {
        let mut out = Binding::default();
        for h in hosts {
            let h = h.trim().to_ascii_lowercase();
            let (name, port) = split_host_port(&h);
            let name_ok = !name.is_empty()
                && name
                    .strip_prefix("*.")
                    .unwrap_or(name)
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':'))
                && !name.strip_prefix("*.").unwrap_or(name).is_empty()
                && !name[1..].contains('*');
            let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
            if !name_ok || !port_ok || (name.starts_with("*.") && port.is_some()) {
                return Err(format!(
                    "--host {h:?}: write a host name or address, host:port, or *.domain (e.g. db.example.com, 10.0.0.5:5432, *.r2.cloudflarestorage.com)"
                ));
            }
            out.hosts.push(h);
        }
        for b in buckets {
            if b.is_empty() || b.contains('/') {
                return Err(format!("--bucket {b:?}: write a bucket or container name"));
            }
            out.buckets.push(b.clone());
        }
        Ok(out)
    }

    pub fn allows(&self, to: &Endpoint) -> bool {
        let host_ok = self.hosts.iter().any(|pattern| {
            let (name, port) = split_host_port(pattern);
            if let Some(suffix) = name.strip_prefix("*.") {
                return to.host.ends_with(&format!(".{suffix}"));
            }
            name == to.host && port.is_none_or(|p| to.port.is_some_and(|tp| p.parse() == Ok(tp)))
        });
        let bucket_ok = self.buckets.is_empty()
            || to
                .bucket
                .as_ref()
                .is_some_and(|b| self.buckets.iter().any(|x| x == b));
        host_ok && bucket_ok
    }

    /// `db.example.com:5432, *.s3.amazonaws.com (buckets app)`, or `nowhere`.
    pub fn describe(&self) -> String {
        if self.hosts.is_empty() {
            return "no host (never sent: a passphrase)".into();
        }
        let mut s = self.hosts.join(", ");
        if !self.buckets.is_empty() {
            s.push_str(&format!(" (buckets {})", self.buckets.join(", ")));
        }
        s
    }
}

/// `host:port` → (`host`, Some(`port`)); IPv6 in brackets keeps its colons.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':')),
            None => (s, None),
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (s, None),
    }
}

/// Where a secret's value lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", content = "reference", rename_all = "snake_case")]
pub enum SecretSource {
    /// Sealed in the metadata store (hex of an age file to the master key).
    #[serde(serialize_with = "hidden")]
    Stored(String),
    /// A variable of Sauve's environment, read when the secret is used.
    Env(String),
    /// A file Sauve reads when the secret is used (`/run/secrets/x`).
    File(String),
}

fn hidden<S: serde::Serializer>(_: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_none()
}

/// A credential's value. Never printed: `Debug` shows a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(v: String) -> SecretValue {
        SecretValue(v)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(…)")
    }
}

/// Why a credential could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "the secret {name} is not bound to {to}, so Sauve did not send it there (it may go to {allowed}); bind it with `sauve secret set {name} --host …` or use another secret"
    )]
    NotBound {
        name: SecretName,
        to: String,
        allowed: String,
    },
    #[error("there is no secret named {0}: define it with `sauve secret set {0} --host HOST`")]
    Unknown(SecretName),
    #[error("the {what} variable {var} is not set in Sauve's environment")]
    EnvUnset { what: String, var: String },
    #[error("the secret {0} could not be read: {1}")]
    Unreadable(SecretName, String),
}

/// Opens a secret's value where it lives (the vault, for sealed ones).
pub trait Unseal: Send + Sync {
    /// The value, or why not, never with any part of the value.
    fn unseal(&self, source: &SecretSource) -> Result<SecretValue, String>;
}

/// For work that needs no stored secret: every reveal of one says so.
struct NoVault;

impl Unseal for NoVault {
    fn unseal(&self, _: &SecretSource) -> Result<SecretValue, String> {
        Err("no master key is loaded here".into())
    }
}

/// The operator's secrets with their bindings. A value is unsealed only when
/// it is about to be sent somewhere its binding allows. Environment
/// variables named by operator-written jobs are read when revealed.
#[derive(Clone)]
pub struct Keyring {
    secrets: HashMap<SecretName, (SecretSource, Binding)>,
    unseal: std::sync::Arc<dyn Unseal>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.secrets.keys()).finish()
    }
}

impl Default for Keyring {
    fn default() -> Keyring {
        Keyring::new(std::sync::Arc::new(NoVault))
    }
}

impl Keyring {
    pub fn new(unseal: std::sync::Arc<dyn Unseal>) -> Keyring {
        Keyring {
            secrets: HashMap::new(),
            unseal,
        }
    }

    pub fn insert(&mut self, name: SecretName, source: SecretSource, binding: Binding) {
        self.secrets.insert(name, (source, binding));
    }

    fn open(
        &self,
        name: &SecretName,
        source: &SecretSource,
    ) -> Result<SecretValue, CredentialError> {
        self.unseal
            .unseal(source)
            .map_err(|why| CredentialError::Unreadable(name.clone(), why))
    }

    /// The value of `cred` for sending to `to`, or why not. `what` names the
    /// credential in errors ("database password").
    pub fn reveal(
        &self,
        cred: &Credential,
        to: &Endpoint,
        what: &str,
    ) -> Result<SecretValue, CredentialError> {
        match cred {
            Credential::Env(var) => std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(SecretValue)
                .ok_or_else(|| CredentialError::EnvUnset {
                    what: what.to_string(),
                    var: var.clone(),
                }),
            Credential::Secret(name) => match self.secrets.get(name) {
                None => Err(CredentialError::Unknown(name.clone())),
                Some((source, binding)) if binding.allows(to) => self.open(name, source),
                Some((_, binding)) => Err(CredentialError::NotBound {
                    name: name.clone(),
                    to: to.to_string(),
                    allowed: binding.describe(),
                }),
            },
        }
    }
}

impl Keyring {
    /// A credential whose value is itself a URL (a Slack or Discord incoming
    /// webhook): revealed only when that URL is https (or plain http to this
    /// machine) and, for a named secret, its host is one the secret is bound
    /// to. Errors never show the URL, only its host.
    pub fn reveal_url(
        &self,
        cred: &Credential,
        what: &str,
    ) -> Result<(SecretValue, Endpoint), CredentialError> {
        let (value, binding, name) = match cred {
            Credential::Env(_) => (
                self.reveal(cred, &Endpoint::host("", None), what)?,
                None,
                None,
            ),
            Credential::Secret(name) => match self.secrets.get(name) {
                None => return Err(CredentialError::Unknown(name.clone())),
                Some((_, b)) if b.hosts.is_empty() => {
                    return Err(CredentialError::NotBound {
                        name: name.clone(),
                        to: "any host".into(),
                        allowed: b.describe(),
                    });
                }
                Some((source, b)) => (self.open(name, source)?, Some(b), Some(name)),
            },
        };
        let unusable = |why: &str| match name {
            Some(n) => CredentialError::Unreadable(n.clone(), why.to_string()),
            None => CredentialError::EnvUnset {
                what: format!("{what} (its value {why})"),
                var: match cred {
                    Credential::Env(v) => v.clone(),
                    Credential::Secret(n) => n.to_string(),
                },
            },
        };
        let url = url::Url::parse(value.expose().trim())
            .map_err(|_| unusable("is not a URL; store the webhook's https:// URL"))?;
        let endpoint = Endpoint::of_url(url.as_str(), None);
        let loopback = super::is_loopback(&endpoint.host);
        if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
            return Err(unusable("is not an https:// URL"));
        }
        if let (Some(b), Some(n)) = (binding, name)
            && !b.allows(&endpoint)
        {
            // The host is part of the secret's value: not named to the caller.
            return Err(CredentialError::NotBound {
                name: n.clone(),
                to: "the host its value points to".into(),
                allowed: b.describe(),
            });
        }
        Ok((SecretValue(url.to_string()), endpoint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(host: &str, port: Option<u16>, bucket: Option<&str>) -> Endpoint {
        Endpoint {
            bucket: bucket.map(String::from),
            ..Endpoint::host(host, port)
        }
    }

    #[test]
    fn bindings_match_hosts_ports_wildcards_and_buckets() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let cases: &[(&[&str], &[&str], Endpoint, bool)] = &[
            (
                &["db.example.com"],
                &[],
                ep("db.example.com", Some(5432), None),
                true,
            ),
            (
                &["db.example.com"],
                &[],
                ep("DB.example.com", Some(1), None),
                true,
            ),
            (
                &["db.example.com:5432"],
                &[],
                ep("db.example.com", Some(5432), None),
                true,
            ),
            (
                &["db.example.com:5432"],
                &[],
                ep("db.example.com", Some(5433), None),
                false,
            ),
            (
                &["db.example.com:5432"],
                &[],
                ep("db.example.com", None, None),
                false,
            ),
            (
                &["db.example.com"],
                &[],
                ep("evil.com", Some(5432), None),
                false,
            ),
            (
                &["db.example.com"],
                &[],
                ep("db.example.com.evil.com", None, None),
                false,
            ),
            (
                &["*.example.com"],
                &[],
                ep("a.b.example.com", Some(443), None),
                true,
            ),
            (
                &["*.example.com"],
                &[],
                ep("example.com", None, None),
                false,
            ),
            (
                &["*.example.com"],
                &[],
                ep("badexample.com", None, None),
                false,
            ),
            (
                &["127.0.0.1:3900"],
                &["app"],
                ep("127.0.0.1", Some(3900), Some("app")),
                true,
            ),
            (
                &["127.0.0.1:3900"],
                &["app"],
                ep("127.0.0.1", Some(3900), Some("other")),
                false,
            ),
            (
                &["127.0.0.1:3900"],
                &["app"],
                ep("127.0.0.1", Some(3900), None),
                false,
            ),
            (&["[::1]:5432"], &[], ep("::1", Some(5432), None), true),
            (&["::1"], &[], ep("[::1]", Some(5432), None), true),
            (&[], &[], ep("db.example.com", None, None), false),
            (&[], &[], ep("", None, None), false),
        ];
        for (hosts, buckets, to, want) in cases {
            let b = Binding::new(&s(hosts), &s(buckets)).unwrap();
            assert_eq!(b.allows(to), *want, "{hosts:?} {buckets:?} -> {to}");
        }
        for bad in ["", "*", "a*.b", "*.x:80", "h:0", "h:99999", "h/x", "a b"] {
            assert!(Binding::new(&s(&[bad]), &[]).is_err(), "{bad:?}");
        }
        assert!(Binding::new(&[], &s(&["a/b"])).is_err());
    }

    #[test]
    fn credentials_parse_and_refuse_sauves_own_variables() {
        assert_eq!(
            Credential::env("password_env", "PW").unwrap(),
            Credential::Env("PW".into())
        );
        for bad in [
            "SAUVE_PASSPHRASE",
            "SAUVE_CRON_SECRET",
            "SAUVE_MASTER_KEY",
            "1X",
            "A-B",
            "",
        ] {
            assert!(Credential::env("password_env", bad).is_err(), "{bad}");
        }
        assert_eq!(
            Credential::secret("password", "secret:app-db").unwrap(),
            Credential::Secret(SecretName::parse("app-db").unwrap())
        );
        for bad in ["app-db", "secret:", "secret:App", "secret:a/b", "hunter2"] {
            let e = Credential::secret("password", bad).unwrap_err();
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn keyring_reveals_only_within_bindings() {
        let name = SecretName::parse("db").unwrap();
        let pass = SecretName::parse("pass").unwrap();
        struct Plain;
        impl Unseal for Plain {
            fn unseal(&self, s: &SecretSource) -> Result<SecretValue, String> {
                match s {
                    SecretSource::Stored(v) => Ok(SecretValue::new(v.clone())),
                    _ => Err("not here".into()),
                }
            }
        }
        let mut k = Keyring::new(std::sync::Arc::new(Plain));
        let b = Binding::new(&["db.internal:5432".into()], &[]).unwrap();
        k.insert(name.clone(), SecretSource::Stored("pw".into()), b);
        k.insert(
            pass.clone(),
            SecretSource::Stored("key".into()),
            Binding::default(),
        );
        let db = Credential::Secret(name.clone());
        assert_eq!(
            k.reveal(&db, &ep("db.internal", Some(5432), None), "pw")
                .unwrap()
                .expose(),
            "pw"
        );
        let e = k
            .reveal(&db, &ep("127.0.0.1", Some(9), None), "pw")
            .unwrap_err();
        assert!(matches!(e, CredentialError::NotBound { .. }));
        assert!(!e.to_string().contains("pw\""), "{e}");
        // A secret bound nowhere (a passphrase) is sent nowhere.
        let p = Credential::Secret(pass);
        assert!(
            k.reveal(&p, &ep("db.internal", Some(5432), None), "pw")
                .is_err()
        );
        assert!(k.reveal(&p, &ep("", None, None), "pw").is_err());
        let missing = Credential::Secret(SecretName::parse("nope").unwrap());
        assert!(matches!(
            k.reveal(&missing, &ep("db.internal", None, None), "pw"),
            Err(CredentialError::Unknown(_))
        ));
        assert_eq!(
            format!("{:?}", SecretValue::new("hunter2".into())),
            "SecretValue(…)"
        );
    }
}
