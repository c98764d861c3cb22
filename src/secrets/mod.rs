//! The server's master key and what it seals: the values of named secrets,
//! encrypted at rest with age (X25519) so that the metadata store alone, or a
//! backup of it, reveals no credential. The key is `SAUVE_MASTER_KEY` (an
//! `AGE-SECRET-KEY-1…` string) when set, else `master.key` in the data
//! directory, created (mode 0600) the first time a secret is stored. Several
//! instances sharing one store must share the key.
//!
//! Also reads the secrets the operator declared by reference (`env:VAR`,
//! `file:PATH`) at the moment they are used, never before.

use crate::domain::{SecretSource, SecretValue};
use age::secrecy::ExposeSecret;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub const MASTER_KEY_FILE: &str = "master.key";
pub const MASTER_KEY_ENV: &str = "SAUVE_MASTER_KEY";

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "no master key to {0}: set SAUVE_MASTER_KEY or copy master.key from the instance that stored the secrets into the data directory"
    )]
    NoKey(&'static str),
    #[error("the master key in {0} is not an age secret key (AGE-SECRET-KEY-1…): {1}")]
    BadKey(String, String),
    #[error("cannot {what} the master key file {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Seal(String),
}

/// The master key, loaded once per process.
#[derive(Clone)]
pub struct Vault {
    path: PathBuf,
    from_env: Option<String>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// The vault of a data directory; `SAUVE_MASTER_KEY` wins over the file.
    pub fn new(data_dir: &Path) -> Vault {
        Vault {
            path: data_dir.join(MASTER_KEY_FILE),
            from_env: std::env::var(MASTER_KEY_ENV)
                .ok()
                .filter(|v| !v.trim().is_empty()),
        }
    }

    fn identity(&self, create: bool) -> Result<age::x25519::Identity, VaultError> {
        if let Some(k) = &self.from_env {
            return age::x25519::Identity::from_str(k.trim())
                .map_err(|e| VaultError::BadKey(MASTER_KEY_ENV.into(), e.to_string()));
        }
        let shown = self.path.display().to_string();
        match std::fs::read_to_string(&self.path) {
            Ok(text) => {
                let line = text
                    .lines()
                    .map(str::trim)
                    .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                    .unwrap_or("");
                age::x25519::Identity::from_str(line)
                    .map_err(|e| VaultError::BadKey(shown, e.to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => self.create(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(VaultError::NoKey("unseal secrets"))
            }
            Err(source) => Err(VaultError::Io {
                what: "read",
                path: shown,
                source,
            }),
        }
    }

    /// A new key, written with mode 0600 and never over an existing file.
    fn create(&self) -> Result<age::x25519::Identity, VaultError> {
        use std::os::unix::fs::OpenOptionsExt;
        let id = age::x25519::Identity::generate();
        let io = |source| VaultError::Io {
            what: "create",
            path: self.path.display().to_string(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.path)
            .map_err(io)?;
        writeln!(
            f,
            "# Sauve's master key: it unseals the stored secrets. Keep it as safe as they are, and back it up apart from the metadata store.\n{}",
            id.to_string().expose_secret()
        )
        .and_then(|()| f.sync_all())
        .map_err(io)?;
        Ok(id)
    }

    /// Seals `value` for the store (hex of an age file).
    pub fn seal(&self, value: &str) -> Result<String, VaultError> {
        let id = self.identity(true)?;
        let sealed = age::encrypt(&id.to_public(), value.as_bytes())
            .map_err(|e| VaultError::Seal(format!("cannot seal the secret: {e}")))?;
        Ok(hex::encode(sealed))
    }
}

impl crate::domain::secret::Unseal for Vault {
    /// The value of a secret, from wherever it lives. The error never holds
    /// any part of the value.
    fn unseal(&self, source: &SecretSource) -> Result<SecretValue, String> {
        match source {
            SecretSource::Stored(hexed) => {
                let id = self.identity(false).map_err(|e| e.to_string())?;
                let bytes =
                    hex::decode(hexed).map_err(|_| "its sealed value is damaged".to_string())?;
                let plain = age::decrypt(&id, &bytes).map_err(|_| {
                    "it was sealed with another master key (set SAUVE_MASTER_KEY to the key that stored it, or set the secret again)".to_string()
                })?;
                String::from_utf8(plain)
                    .map(SecretValue::new)
                    .map_err(|_| "its value is not UTF-8".to_string())
            }
            SecretSource::Env(var) => std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .map(SecretValue::new)
                .ok_or_else(|| format!("its variable {var} is not set in Sauve's environment")),
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(|v| SecretValue::new(v.trim_end_matches(['\n', '\r']).to_string()))
                .map_err(|e| format!("its file {path} cannot be read: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::secret::Unseal;

    #[test]
    fn seals_with_a_key_made_once_and_kept_private() {
        let dir = std::env::temp_dir().join(format!("sauve-vault-{}", crate::domain::new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vault = Vault {
            path: dir.join(MASTER_KEY_FILE),
            from_env: None,
        };
        let nothing = vault
            .unseal(&SecretSource::Stored("00".into()))
            .unwrap_err();
        assert!(nothing.contains("no master key"), "{nothing}");
        let sealed = vault.seal("hunter2").unwrap();
        assert!(!sealed.contains(&hex::encode("hunter2")));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&vault.path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = vault.seal("other").unwrap();
        assert_eq!(
            vault
                .unseal(&SecretSource::Stored(sealed.clone()))
                .unwrap()
                .expose(),
            "hunter2"
        );
        assert_eq!(
            vault.unseal(&SecretSource::Stored(again)).unwrap().expose(),
            "other"
        );
        // Another key cannot open it, and says what to do.
        let other = Vault {
            path: dir.join("x"),
            from_env: Some(
                age::x25519::Identity::generate()
                    .to_string()
                    .expose_secret()
                    .to_string(),
            ),
        };
        let e = other.unseal(&SecretSource::Stored(sealed)).unwrap_err();
        assert!(e.contains("another master key"), "{e}");
        let file = dir.join("pw");
        std::fs::write(&file, "from-file\n").unwrap();
        assert_eq!(
            vault
                .unseal(&SecretSource::File(file.display().to_string()))
                .unwrap()
                .expose(),
            "from-file"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
