//! Users, API tokens, browser sessions and the audit log in the metadata store.
//! Secrets arrive here already hashed (`auth::secret_hash`, argon2id): the store
//! never sees a token, cookie or password in clear.

use super::{Store, StoreError, corrupt, now_ms, q, ts};
use crate::auth::{Role, Scope};
use crate::domain::new_id;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: Timestamp,
    /// A disabled user cannot sign in; their sessions were ended.
    pub disabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// After this the token is refused; none: until revoked.
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AuditEntry {
    pub id: String,
    #[schemars(with = "String")]
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
}

fn user_from(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role").map_err(corrupt)?;
    Ok(User {
        id: row.try_get("id").map_err(corrupt)?,
        name: row.try_get("name").map_err(corrupt)?,
        role: role.parse().map_err(StoreError::Corrupt)?,
        password_hash: row.try_get("password_hash").map_err(corrupt)?,
        created_at: ts(row.try_get("created_at").map_err(corrupt)?),
        disabled: row
            .try_get::<Option<i64>, _>("disabled_at")
            .map_err(corrupt)?
            .is_some(),
    })
}

fn token_from(row: &sqlx::any::AnyRow) -> Result<ApiToken, StoreError> {
    let scopes: String = row.try_get("scopes").map_err(corrupt)?;
    Ok(ApiToken {
        id: row.try_get("id").map_err(corrupt)?,
        name: row.try_get("name").map_err(corrupt)?,
        scopes: crate::auth::parse_scopes(&scopes).map_err(StoreError::Corrupt)?,
        created_at: ts(row.try_get("created_at").map_err(corrupt)?),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")
            .map_err(corrupt)?
            .map(ts),
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")
            .map_err(corrupt)?
            .map(ts),
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")
            .map_err(corrupt)?
            .map(ts),
    })
}

impl Store {
    // ---- users -------------------------------------------------------------------

    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<User, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO users (id, name, role, password_hash, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING",
        )
        .bind(new_id())
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(q("create user"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::UserExists(name.to_string()));
        }
        self.user(name).await
    }

    pub async fn user(&self, name: &str) -> Result<User, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, role, password_hash, created_at, disabled_at FROM users WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("read user"))?
        .ok_or_else(|| StoreError::NotFound {
            what: "user",
            key: name.to_string(),
        })?;
        user_from(&row)
    }

    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        sqlx::query(
            "SELECT id, name, role, password_hash, created_at, disabled_at FROM users ORDER BY name",
        )
            .fetch_all(&self.pool)
            .await
            .map_err(q("list users"))?
            .iter()
            .map(user_from)
            .collect()
    }

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(q("count users"))?;
        row.try_get("n").map_err(corrupt)
    }

    /// Sets a new password hash and ends the user's sessions.
    pub async fn set_password(&self, name: &str, password_hash: &str) -> Result<(), StoreError> {
        let user = self.user(name).await?;
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now_ms())
            .bind(&user.id)
            .execute(&self.pool)
            .await
            .map_err(q("set password"))?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(&user.id)
            .execute(&self.pool)
            .await
            .map_err(q("end sessions"))?;
        Ok(())
    }

    /// Disables (or enables) a user; disabling ends their sessions.
    pub async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<User, StoreError> {
        let user = self.user(name).await?;
        sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3")
            .bind(disabled.then(now_ms))
            .bind(now_ms())
            .bind(&user.id)
            .execute(&self.pool)
            .await
            .map_err(q("disable user"))?;
        if disabled {
            self.end_sessions(&user.id).await?;
        }
        self.user(name).await
    }

    /// Deletes a user and their sessions (the audit log keeps their name).
    pub async fn delete_user(&self, name: &str) -> Result<User, StoreError> {
        let user = self.user(name).await?;
        self.end_sessions(&user.id).await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(&user.id)
            .execute(&self.pool)
            .await
            .map_err(q("delete user"))?;
        Ok(user)
    }

    async fn end_sessions(&self, user_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(q("end sessions"))?;
        Ok(())
    }

    // ---- API tokens --------------------------------------------------------------

    pub async fn create_token(
        &self,
        name: &str,
        scopes: &[Scope],
        token_hash: &str,
        expires_at: Option<i64>,
    ) -> Result<ApiToken, StoreError> {
        let id = new_id();
        let list = scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(name)
        .bind(token_hash)
        .bind(list)
        .bind(now_ms())
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(q("create token"))?;
        let row = sqlx::query("SELECT * FROM api_tokens WHERE id = $1")
            .bind(&id)
            .fetch_one(&self.pool)
            .await
            .map_err(q("read token"))?;
        token_from(&row)
    }

    /// The live token with this hash, marking it used.
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let row =
            sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)")
                .bind(token_hash)
                .bind(now_ms())
                .fetch_optional(&self.pool)
                .await
                .map_err(q("check token"))?;
        let Some(row) = row else { return Ok(None) };
        let token = token_from(&row)?;
        // Best effort: a busy store must not fail the request over a timestamp.
        let _ = sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(&token.id)
            .execute(&self.pool)
            .await;
        Ok(Some(token))
    }

    pub async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        sqlx::query("SELECT * FROM api_tokens ORDER BY created_at, id")
            .fetch_all(&self.pool)
            .await
            .map_err(q("list tokens"))?
            .iter()
            .map(token_from)
            .collect()
    }

    /// Revokes the token with this id (or unique prefix) or name.
    pub async fn revoke_token(&self, id_or_name: &str) -> Result<ApiToken, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM api_tokens WHERE (id = $1 OR name = $1) AND revoked_at IS NULL",
        )
        .bind(id_or_name)
        .fetch_all(&self.pool)
        .await
        .map_err(q("find token"))?;
        let token = match rows.as_slice() {
            [one] => token_from(one)?,
            [] => {
                return Err(StoreError::NotFound {
                    what: "live token",
                    key: id_or_name.to_string(),
                });
            }
            _ => {
                return Err(StoreError::Ambiguous {
                    what: "token",
                    key: id_or_name.to_string(),
                });
            }
        };
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(&token.id)
            .execute(&self.pool)
            .await
            .map_err(q("revoke token"))?;
        Ok(token)
    }

    // ---- sessions ----------------------------------------------------------------

    pub async fn create_session(
        &self,
        user: &User,
        id_hash: &str,
        csrf_token: &str,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(&user.id)
        .bind(csrf_token)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&self.pool)
        .await
        .map_err(q("create session"))?;
        // Expired sessions are swept on the way.
        let _ = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await;
        Ok(())
    }

    pub async fn session(&self, id_hash: &str) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.password_hash, u.created_at, u.disabled_at, s.csrf_token, s.expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(id_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(q("read session"))?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Session {
            user: user_from(&row)?,
            csrf_token: row.try_get("csrf_token").map_err(corrupt)?,
            expires_at: ts(row.try_get("expires_at").map_err(corrupt)?),
        }))
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(q("end session"))?;
        Ok(())
    }

    // ---- audit -------------------------------------------------------------------

    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
        ip: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit (id, at, actor, action, target, detail, ip) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(now_ms())
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(detail)
        .bind(ip)
        .execute(&self.pool)
        .await
        .map_err(q("write audit log"))?;
        Ok(())
    }

    /// Newest first; `before` is an entry id to page from.
    pub async fn audit_log(
        &self,
        limit: i64,
        before: Option<&str>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, detail, ip FROM audit
             WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(before.unwrap_or(""))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await
        .map_err(q("read audit log"))?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get("id").map_err(corrupt)?,
                    at: ts(r.try_get("at").map_err(corrupt)?),
                    actor: r.try_get("actor").map_err(corrupt)?,
                    action: r.try_get("action").map_err(corrupt)?,
                    target: r.try_get("target").map_err(corrupt)?,
                    detail: r.try_get("detail").map_err(corrupt)?,
                    ip: r.try_get("ip").map_err(corrupt)?,
                })
            })
            .collect()
    }
}
