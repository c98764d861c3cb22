//! Named secrets in the metadata store. A stored value arrives here already
//! sealed with the server's master key (`secrets::Vault`): the store never
//! sees a credential in clear, and a copy of the database alone reveals none.

use super::{Store, StoreError, corrupt, now_ms, q, ts};
use crate::domain::{Binding, SecretName, SecretSource};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct StoredSecret {
    pub name: SecretName,
    #[serde(flatten)]
    pub source: SecretSource,
    pub bindings: Binding,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn secret_from(row: &sqlx::any::AnyRow) -> Result<StoredSecret, StoreError> {
    let name: String = row.try_get("name").map_err(corrupt)?;
    let kind: String = row.try_get("source").map_err(corrupt)?;
    let value: String = row.try_get("value").map_err(corrupt)?;
    let bindings: String = row.try_get("bindings").map_err(corrupt)?;
    let source = match kind.as_str() {
        "stored" => SecretSource::Stored(value),
        "env" => SecretSource::Env(value),
        "file" => SecretSource::File(value),
        other => return Err(StoreError::Corrupt(format!("secret source {other:?}"))),
    };
    Ok(StoredSecret {
        name: SecretName::parse(&name).map_err(StoreError::Corrupt)?,
        source,
        bindings: serde_json::from_str(&bindings)
            .map_err(|e| StoreError::Corrupt(format!("secret {name} bindings: {e}")))?,
        created_at: ts(row.try_get("created_at").map_err(corrupt)?),
        updated_at: ts(row.try_get("updated_at").map_err(corrupt)?),
    })
}

impl Store {
    /// Creates or replaces a secret; true when it was new.
    pub async fn put_secret(
        &self,
        name: &SecretName,
        source: &SecretSource,
        bindings: &Binding,
    ) -> Result<bool, StoreError> {
        let (kind, value) = match source {
            SecretSource::Stored(v) => ("stored", v),
            SecretSource::Env(v) => ("env", v),
            SecretSource::File(v) => ("file", v),
        };
        let bindings =
            serde_json::to_string(bindings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let existed = self.secret(name).await.is_ok();
        sqlx::query(
            "INSERT INTO secrets (name, source, value, bindings, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (name) DO UPDATE SET source = $2, value = $3, bindings = $4, updated_at = $5",
        )
        .bind(name.as_str())
        .bind(kind)
        .bind(value)
        .bind(bindings)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(q("store secret"))?;
        Ok(!existed)
    }

    pub async fn secret(&self, name: &SecretName) -> Result<StoredSecret, StoreError> {
        let row = sqlx::query(
            "SELECT name, source, value, bindings, created_at, updated_at FROM secrets WHERE name = $1",
        )
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read secret"))?
            .ok_or_else(|| StoreError::NotFound {
                what: "secret",
                key: name.to_string(),
            })?;
        secret_from(&row)
    }

    pub async fn secrets(&self) -> Result<Vec<StoredSecret>, StoreError> {
        sqlx::query(
            "SELECT name, source, value, bindings, created_at, updated_at FROM secrets ORDER BY name",
        )
            .fetch_all(&self.pool)
            .await
            .map_err(q("list secrets"))?
            .iter()
            .map(secret_from)
            .collect()
    }

    pub async fn delete_secret(&self, name: &SecretName) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM secrets WHERE name = $1")
            .bind(name.as_str())
            .execute(&self.pool)
            .await
            .map_err(q("delete secret"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "secret",
                key: name.to_string(),
            });
        }
        Ok(())
    }
}
