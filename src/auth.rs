//! Who may do what: roles (`admin`, `viewer`), API token scopes, the principal a
//! request acts as, and the secrets behind them: argon2id password hashes, random
//! tokens stored only as SHA-256, and constant-time comparison.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// What an API token (or a role) may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Scope {
    #[serde(rename = "backups:read")]
    BackupsRead,
    #[serde(rename = "backups:write")]
    BackupsWrite,
    /// The artifact's bytes: more than viewing, since they are the data.
    #[serde(rename = "backups:download")]
    BackupsDownload,
    #[serde(rename = "restore")]
    Restore,
    #[serde(rename = "jobs:read")]
    JobsRead,
    #[serde(rename = "jobs:write")]
    JobsWrite,
    #[serde(rename = "runs:read")]
    RunsRead,
    #[serde(rename = "runs:write")]
    RunsWrite,
    #[serde(rename = "audit:read")]
    AuditRead,
    #[serde(rename = "metrics:read")]
    MetricsRead,
    /// Writing `command` sources and restoring through them: code run on the
    /// server. Not part of `all`; only an admin (or the CLI) grants it.
    #[serde(rename = "exec")]
    Exec,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::BackupsRead,
        Scope::BackupsWrite,
        Scope::BackupsDownload,
        Scope::Restore,
        Scope::JobsRead,
        Scope::JobsWrite,
        Scope::RunsRead,
        Scope::RunsWrite,
        Scope::AuditRead,
        Scope::MetricsRead,
        Scope::Exec,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::BackupsRead => "backups:read",
            Scope::BackupsWrite => "backups:write",
            Scope::BackupsDownload => "backups:download",
            Scope::Restore => "restore",
            Scope::JobsRead => "jobs:read",
            Scope::JobsWrite => "jobs:write",
            Scope::RunsRead => "runs:read",
            Scope::RunsWrite => "runs:write",
            Scope::AuditRead => "audit:read",
            Scope::MetricsRead => "metrics:read",
            Scope::Exec => "exec",
        }
    }

    pub fn is_read(self) -> bool {
        matches!(
            self,
            Scope::BackupsRead
                | Scope::JobsRead
                | Scope::RunsRead
                | Scope::AuditRead
                | Scope::MetricsRead
        )
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Scope, String> {
        Scope::ALL
            .into_iter()
            .find(|sc| sc.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a scope; use {}",
                    Scope::ALL.map(|s| s.as_str()).join(", ")
                )
            })
    }
}

/// Parses `backups:read,jobs:write`; `all` means every scope but `exec`,
/// which is always named on its own (`all,exec`).
pub fn parse_scopes(list: &str) -> Result<Vec<Scope>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item == "all" {
            out.extend(Scope::ALL.into_iter().filter(|s| *s != Scope::Exec));
        } else {
            out.push(Scope::from_str(item)?);
        }
    }
    if out.is_empty() {
        return Err("give at least one scope, e.g. backups:read,backups:write".into());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Reads everything, changes nothing.
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("{other:?} is not a role; use admin or viewer")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Who a request acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User { name: String, role: Role },
    Token { name: String, scopes: Vec<Scope> },
}

impl Principal {
    pub fn allows(&self, scope: Scope) -> bool {
        match self {
            Principal::User {
                role: Role::Admin, ..
            } => true,
            Principal::User {
                role: Role::Viewer, ..
            } => scope.is_read(),
            Principal::Token { scopes, .. } => scopes.contains(&scope),
        }
    }

    /// How the audit log names this principal.
    pub fn label(&self) -> String {
        match self {
            Principal::User { name, .. } => format!("user:{name}"),
            Principal::Token { name, .. } => format!("token:{name}"),
        }
    }
}

/// 32 random bytes, hex: a secret for tokens, session cookies and CSRF tokens.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    hex::encode(bytes)
}

/// What the store keeps of a secret: its SHA-256, hex. A leaked database does
/// not reveal live tokens or session cookies.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    // Hashing first makes the lengths equal, so the length is not leaked either.
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

pub fn hash_password(password: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2id with default parameters hashes any password")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// A password a person chose: long enough to be worth hashing.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 12 {
        return Err("a password needs at least 12 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes() {
        let admin = Principal::User {
            name: "a".into(),
            role: Role::Admin,
        };
        let viewer = Principal::User {
            name: "v".into(),
            role: Role::Viewer,
        };
        let token = Principal::Token {
            name: "ci".into(),
            scopes: vec![Scope::BackupsRead, Scope::BackupsWrite],
        };
        for s in Scope::ALL {
            assert!(admin.allows(s));
            assert_eq!(viewer.allows(s), s.is_read(), "{s}");
            assert_eq!(
                token.allows(s),
                matches!(s, Scope::BackupsRead | Scope::BackupsWrite)
            );
        }
        assert_eq!(token.label(), "token:ci");
    }

    #[test]
    fn scope_lists() {
        assert_eq!(
            parse_scopes("jobs:write, backups:read,jobs:write").unwrap(),
            [Scope::BackupsRead, Scope::JobsWrite]
        );
        assert_eq!(parse_scopes("all").unwrap().len(), Scope::ALL.len() - 1);
        assert!(!parse_scopes("all").unwrap().contains(&Scope::Exec));
        assert!(parse_scopes("all,exec").unwrap().contains(&Scope::Exec));
        assert!(
            !Scope::BackupsDownload.is_read(),
            "viewing is not downloading"
        );
        assert!(
            parse_scopes("backups:delete")
                .unwrap_err()
                .contains("not a scope")
        );
        assert!(parse_scopes(" , ").is_err());
    }

    #[test]
    fn secrets() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
        assert!(!constant_time_eq("short", "longer"));
        assert_eq!(secret_hash("abc").len(), 64);
        let h = hash_password("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterx", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password("short").is_err());
    }
}
