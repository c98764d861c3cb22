//! The service operations about people and machines: users, API tokens,
//! browser sessions (login/logout) and the audit log. Used by the CLI
//! (`sauve user`, `sauve token`) and by the HTTP layer's authentication. Each
//! change is audited here, sign-ins (and failed ones) included.

use super::{Actor, Sauve, ServiceError};
use crate::auth::{self, Principal, Role, Scope};
use crate::domain::ValidationErrors;
use crate::store::{ApiToken, User};

/// How long a browser session lasts.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// A session just opened: the cookie value and the CSRF token to echo back.
pub struct NewSession {
    pub user: User,
    pub cookie: String,
    pub csrf_token: String,
}

impl Sauve {
    pub async fn add_user(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password: &str,
    ) -> Result<User, ServiceError> {
        let mut errors = ValidationErrors::new();
        if let Err(m) = crate::domain::job::validate_name(name) {
            errors.push("name", m.replace("job name", "user name"));
        }
        if let Err(m) = auth::check_password(password) {
            errors.push("password", m);
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let hash = hash_blocking(password.to_string()).await;
        let user = self.store.create_user(name, role, &hash).await?;
        self.audit(actor, "user.add", Some(name), Some(role.as_str()))
            .await;
        Ok(user)
    }

    pub async fn set_user_password(
        &self,
        actor: &Actor,
        name: &str,
        password: &str,
    ) -> Result<(), ServiceError> {
        auth::check_password(password).map_err(|m| ValidationErrors::single("password", m))?;
        self.store.user(name).await?;
        let hash = hash_blocking(password.to_string()).await;
        self.store.set_password(name, &hash).await?;
        self.audit(actor, "user.passwd", Some(name), None).await;
        Ok(())
    }

    pub async fn users(&self) -> Result<Vec<User>, ServiceError> {
        Ok(self.store.users().await?)
    }

    /// Disables (or enables) a user: a disabled user cannot sign in and their
    /// sessions end now.
    pub async fn set_user_disabled(
        &self,
        actor: &Actor,
        name: &str,
        disabled: bool,
    ) -> Result<User, ServiceError> {
        let user = self.store.set_user_disabled(name, disabled).await?;
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        self.audit(actor, action, Some(name), None).await;
        Ok(user)
    }

    /// Deletes a user and ends their sessions.
    pub async fn delete_user(&self, actor: &Actor, name: &str) -> Result<User, ServiceError> {
        let user = self.store.delete_user(name).await?;
        self.audit(actor, "user.delete", Some(name), None).await;
        Ok(user)
    }

    /// Creates a token; the secret is returned once and stored only hashed.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        scopes: &[Scope],
        expires_in: Option<std::time::Duration>,
    ) -> Result<(ApiToken, String), ServiceError> {
        if name.trim().is_empty() || name.len() > 100 {
            return Err(ValidationErrors::single(
                "name",
                "name the token (1 to 100 characters), e.g. ci-nightly",
            )
            .into());
        }
        let secret = format!("sauve_{}", auth::random_secret());
        let token = self
            .store
            .create_token(
                name.trim(),
                scopes,
                &auth::secret_hash(&secret),
                expires_in.map(|d| crate::store::now_ms() + d.as_millis() as i64),
            )
            .await?;
        let scopes: Vec<&str> = token.scopes.iter().map(|s| s.as_str()).collect();
        self.audit(
            actor,
            "token.create",
            Some(&token.name),
            Some(&scopes.join(",")),
        )
        .await;
        Ok((token, secret))
    }

    pub async fn tokens(&self) -> Result<Vec<ApiToken>, ServiceError> {
        Ok(self.store.tokens().await?)
    }

    pub async fn revoke_token(
        &self,
        actor: &Actor,
        id_or_name: &str,
    ) -> Result<ApiToken, ServiceError> {
        let token = self.store.revoke_token(id_or_name).await?;
        self.audit(actor, "token.revoke", Some(&token.name), Some(&token.id))
            .await;
        Ok(token)
    }

    /// The principal behind a bearer token, if it is live.
    pub async fn principal_for_token(
        &self,
        secret: &str,
    ) -> Result<Option<Principal>, ServiceError> {
        Ok(self
            .store
            .token_by_hash(&auth::secret_hash(secret))
            .await?
            .map(|t| Principal::Token {
                name: t.name,
                scopes: t.scopes,
            }))
    }

    /// Checks a password and opens a session. `None`: wrong name or password
    /// (the caller must not say which). Both outcomes are audited with `ip`.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        ip: Option<String>,
    ) -> Result<Option<NewSession>, ServiceError> {
        let user = match self.store.user(name).await {
            Ok(u) => Some(u),
            Err(crate::store::StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        // Verify against a real hash even for an unknown user, so timing does not
        // tell which names exist.
        let hash = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| DUMMY_HASH.clone());
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
            .await
            .unwrap_or(false);
        // A disabled user is refused like a wrong password: the caller learns
        // nothing more, the audit log says which.
        let disabled = user.as_ref().is_some_and(|u| u.disabled);
        let Some(user) = user.filter(|u| ok && !u.disabled) else {
            let who = Principal::User {
                name: name.to_string(),
                role: auth::Role::Viewer,
            };
            let detail = disabled.then_some("user disabled");
            self.audit(
                &Actor::from_principal(&who, ip),
                "login.failed",
                None,
                detail,
            )
            .await;
            return Ok(None);
        };
        let who = Principal::User {
            name: user.name.clone(),
            role: user.role,
        };
        self.audit(&Actor::from_principal(&who, ip), "login", None, None)
            .await;
        let cookie = auth::random_secret();
        let csrf_token = auth::random_secret();
        self.store
            .create_session(
                &user,
                &auth::secret_hash(&cookie),
                &csrf_token,
                SESSION_TTL_MS,
            )
            .await?;
        Ok(Some(NewSession {
            user,
            cookie,
            csrf_token,
        }))
    }

    /// The user and CSRF token of a live session cookie.
    pub async fn session(&self, cookie: &str) -> Result<Option<(Principal, String)>, ServiceError> {
        Ok(self
            .store
            .session(&auth::secret_hash(cookie))
            .await?
            .map(|s| {
                (
                    Principal::User {
                        name: s.user.name,
                        role: s.user.role,
                    },
                    s.csrf_token,
                )
            }))
    }

    pub async fn logout(&self, actor: &Actor, cookie: Option<&str>) -> Result<(), ServiceError> {
        if let Some(cookie) = cookie {
            self.store
                .delete_session(&auth::secret_hash(cookie))
                .await?;
        }
        self.audit(actor, "logout", None, None).await;
        Ok(())
    }
}

/// argon2id of a random password nobody knows, for unknown user names: the same
/// work as a real check.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| auth::hash_password(&auth::random_secret()));

async fn hash_blocking(password: String) -> String {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .expect("hashing does not panic")
}
