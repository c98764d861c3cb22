//! Named secrets: the operator defines them (`sauve secret set|list|rm`),
//! jobs refer to them by name (`password=secret:NAME`). Values are sealed with
//! the master key before the store sees them and are never returned: a list
//! shows names, where each lives, and the hosts it is bound to.

use super::{Actor, Sauve, ServiceError};
use crate::domain::{Authority, Binding, SecretName, SecretSource, ValidationErrors};
use crate::store::StoredSecret;

/// Where a new secret's value comes from.
#[derive(Debug)]
pub enum SecretInput {
    /// The value itself (read from stdin by the CLI), sealed into the store.
    Value(String),
    /// A variable of Sauve's environment, read when the secret is used.
    Env(String),
    /// A file read when the secret is used (`/run/secrets/db`).
    File(String),
}

impl Sauve {
    /// Secrets are the operator's: defined with the CLI on the server.
    fn not_operator(actor: &Actor) -> Option<ServiceError> {
        (actor.authority() != Authority::Operator).then(|| {
            ServiceError::Forbidden("operator's (the CLI on the server: sauve secret set)".into())
        })
    }

    /// Defines or replaces a secret; true when it is new.
    pub async fn set_secret(
        &self,
        actor: &Actor,
        name: &str,
        input: SecretInput,
        hosts: &[String],
        buckets: &[String],
    ) -> Result<bool, ServiceError> {
        if let Some(e) = Self::not_operator(actor) {
            return Err(e);
        }
        let name = SecretName::parse(name).map_err(|m| ValidationErrors::single("name", m))?;
        let bindings =
            Binding::new(hosts, buckets).map_err(|m| ValidationErrors::single("host", m))?;
        let source = match input {
            SecretInput::Value(v) => {
                let v = v.trim_end_matches(['\n', '\r']);
                if v.is_empty() {
                    return Err(ValidationErrors::single(
                        "value",
                        "the secret's value is empty: give it on stdin",
                    )
                    .into());
                }
                SecretSource::Stored(
                    self.runner
                        .vault()
                        .seal(v)
                        .map_err(|e| ServiceError::Internal(e.to_string()))?,
                )
            }
            SecretInput::Env(var) => {
                if !crate::domain::secret::is_env_name(&var) || var.starts_with("SAUVE_") {
                    return Err(ValidationErrors::single(
                        "env",
                        format!("{var:?}: name a variable of Sauve's environment (letters, digits, underscore; not one of Sauve's own SAUVE_*)"),
                    )
                    .into());
                }
                SecretSource::Env(var)
            }
            SecretInput::File(path) => {
                if !path.starts_with('/') {
                    return Err(ValidationErrors::single(
                        "file",
                        format!("{path:?}: give the file's absolute path"),
                    )
                    .into());
                }
                SecretSource::File(path)
            }
        };
        let created = self.store.put_secret(&name, &source, &bindings).await?;
        let detail = format!("bound to {}", bindings.describe());
        self.audit(
            actor,
            if created {
                "secret.create"
            } else {
                "secret.update"
            },
            Some(name.as_str()),
            Some(&detail),
        )
        .await;
        Ok(created)
    }

    /// Every secret: names, where each lives, bindings. Never a value.
    pub async fn secrets(&self) -> Result<Vec<StoredSecret>, ServiceError> {
        Ok(self.store.secrets().await?)
    }

    pub async fn delete_secret(&self, actor: &Actor, name: &str) -> Result<(), ServiceError> {
        if let Some(e) = Self::not_operator(actor) {
            return Err(e);
        }
        let name = SecretName::parse(name).map_err(|m| ValidationErrors::single("name", m))?;
        self.store.delete_secret(&name).await?;
        self.audit(actor, "secret.delete", Some(name.as_str()), None)
            .await;
        Ok(())
    }
}
