//! What a restore or a verify needs before it reads a byte: the keys that open
//! the artifact and the target it goes into. Pure but for reading the named
//! environment variables and identity files, so the CLI, the API and any
//! instance's runner resolve them the same way.

use crate::domain::{JobSpec, KeyNames, SourceSpec, ValidationErrors};
use crate::pipeline::codec::{CodecError, Keys};
use crate::pipeline::sources::RestoreTarget;
use crate::storage::manifest::Manifest;
use std::path::PathBuf;
use std::sync::Arc;

/// Keys for a backup: the caller's names first, then the job's passphrase
/// variable, then `SAUVE_AGE_IDENTITY_FILE`.
pub fn resolve_keys(
    manifest: &Manifest,
    names: &KeyNames,
    job: Option<&JobSpec>,
) -> Result<Arc<Keys>, CodecError> {
    if manifest.encryption.is_none() {
        return Ok(Arc::new(Keys::default()));
    }
    let mut keys = Keys::default();
    let env = names.passphrase_env.clone().or_else(|| {
        job.and_then(|j| j.encryption.as_ref())
            .and_then(|e| e.passphrase_env.clone())
    });
    if let Some(env) = env {
        // A missing variable only matters if the artifact needs a passphrase;
        // the codec says so precisely when it does.
        if let Ok(k) = Keys::from_passphrase_env(&env) {
            keys = k;
        } else if manifest
            .encryption
            .as_ref()
            .is_some_and(|e| e.mode == "passphrase")
        {
            return Err(CodecError::PassphraseUnset(env));
        }
    }
    let identity = names
        .identity_file
        .clone()
        .or_else(|| std::env::var_os("SAUVE_AGE_IDENTITY_FILE").map(PathBuf::from));
    if let Some(path) = identity {
        keys.add_identity_file(&path)?;
    }
    Ok(Arc::new(keys))
}

/// Where a backup restores: `to` parsed for the backup's kind, or the job's
/// `restore_command` for a command source.
pub fn restore_target(
    manifest: &Manifest,
    job: Option<&JobSpec>,
    to: Option<&str>,
) -> Result<RestoreTarget, ValidationErrors> {
    if manifest.source.kind == "command" {
        let restore_command = job
            .and_then(|j| match &j.source {
                SourceSpec::Command(c) => c.restore_command.clone(),
                _ => None,
            })
            .ok_or_else(|| {
                ValidationErrors::single(
                    "restore_command",
                    format!(
                        "job {:?} has no restore_command; add one to the job, or `sauve backup download` the artifact and restore it by hand",
                        manifest.job
                    ),
                )
            })?;
        return Ok(RestoreTarget::Command {
            restore_command,
            to: to.map(String::from),
        });
    }
    let to = to.ok_or_else(|| {
        ValidationErrors::single(
            "to",
            "say where to restore with --to (a new database URI, file or directory)",
        )
    })?;
    RestoreTarget::parse(&manifest.source.kind, to)
}
