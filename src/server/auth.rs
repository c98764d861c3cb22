//! Who is calling: a `Caller` extractor that accepts an API token
//! (`Authorization: Bearer sauve_…`) or a browser session cookie, and for a
//! session demands the CSRF token on every state-changing request. Also the
//! login and logout endpoints, with failed sign-ins throttled per (user,
//! address) and per address (`throttle.rs`).

use super::AppState;
use super::client::ClientIp;
use super::error::{ApiError, ApiResult};
use crate::auth::{Principal, Scope, constant_time_eq};
use crate::service::{Actor, ServiceError};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// The session cookie over plain HTTP.
pub const SESSION_COOKIE: &str = "sauve_session";
/// The session cookie with `--secure-cookies`: the `__Host-` prefix makes the
/// browser refuse it unless it is `Secure`, `Path=/` and has no `Domain`, so a
/// sibling subdomain or a plain-HTTP page cannot plant or shadow it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-sauve_session";
/// The session cookie with `--secure-cookies` under a `--base-path`:
/// `__Secure-` still makes the browser refuse it without `Secure`, and allows
/// the `Path=` of the prefix that `__Host-` forbids.
pub const SECURE_PREFIXED_SESSION_COOKIE: &str = "__Secure-sauve_session";

/// The session cookie's name and its attributes beside the value (path,
/// and `Secure` when set), from the config.
fn session_cookie(state: &AppState) -> (&'static str, String) {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let path = state.config.base_path.cookie_path();
    (
        state.config.session_cookie(),
        format!("; Path={path}{secure}"),
    )
}
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub ip: Option<String>,
    /// The session's CSRF token, when the caller signed in with a cookie.
    pub csrf: Option<String>,
}

impl Caller {
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        if self.principal.allows(scope) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(scope.as_str().to_string()).into())
        }
    }

    /// Admins only: signed-in admins, or tokens holding every scope but
    /// `exec` (what `all` grants).
    pub fn require_admin(&self) -> ApiResult<()> {
        let admin = match &self.principal {
            Principal::User { role, .. } => *role == crate::auth::Role::Admin,
            Principal::Token { scopes, .. } => Scope::ALL
                .iter()
                .filter(|s| **s != Scope::Exec)
                .all(|s| scopes.contains(s)),
        };
        if admin {
            Ok(())
        } else {
            Err(ServiceError::Forbidden("admin".into()).into())
        }
    }

    /// The caller as the service's audit log names them.
    pub fn actor(&self) -> Actor {
        Actor::from_principal(&self.principal, self.ip.clone())
    }
}

/// Who is calling (`GET /api/session`).
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct SessionInfo {
    pub name: String,
    /// `user` or `token`.
    pub kind: String,
    pub role: Option<String>,
    pub scopes: Vec<String>,
    pub csrf_token: Option<String>,
}

/// A session was opened (`POST /login`): who, and the CSRF token to send as
/// `X-CSRF-Token` with every state-changing request. The session itself is
/// the `sauve_session` cookie.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct LoginReply {
    pub user: String,
    pub role: crate::auth::Role,
    pub csrf_token: String,
}

/// The signed-in person behind a request's session cookie, with its CSRF token.
pub(super) async fn session_of(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Option<(Principal, String)>> {
    match cookie(headers, session_cookie(state).0) {
        Some(c) => Ok(state.sauve.session(c).await?),
        None => Ok(None),
    }
}

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let ClientIp(ip) = match ClientIp::from_request_parts(parts, state).await {
            Ok(ip) => ip,
            Err(never) => match never {},
        };
        let ip = Some(ip.to_string());
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim)
                .ok_or_else(ApiError::unauthorized)?;
            let principal = state
                .sauve
                .principal_for_token(token)
                .await?
                .ok_or_else(ApiError::unauthorized)?;
            return Ok(Caller {
                principal,
                ip,
                csrf: None,
            });
        }
        let (principal, csrf) = session_of(state, &parts.headers)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent, &csrf) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "missing or wrong X-CSRF-Token header: reload the page and try again",
                ));
            }
        }
        Ok(Caller {
            principal,
            ip,
            csrf: Some(csrf),
        })
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    pub name: String,
    pub password: String,
}

fn too_many(secs: u64) -> Response {
    let mut r = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        format!("too many failed sign-ins; try again in {secs} s"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// `POST /login` (form or JSON body): opens a session. The cookie is
/// `HttpOnly`, `SameSite=Strict`, and `Secure` when Sauve is told it sits
/// behind TLS. Answers the CSRF token to send with state-changing requests.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(addr): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: Option<LoginForm> = if headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
    {
        serde_json::from_slice(&body).ok()
    } else {
        serde_urlencoded_form(&body)
    };
    if let Err(e) = super::origin::check_origin(
        &headers,
        state.config.public_origin.as_deref(),
        state.config.secure_cookies,
    ) {
        return e.into_response();
    }
    let Some(form) = form else {
        return ApiError::invalid("name", "send name and password").into_response();
    };
    if let Err(secs) = state.limiter.check(&form.name, addr) {
        return too_many(secs);
    }
    let ip = addr.to_string();
    let opened = match state
        .sauve
        .login(&form.name, &form.password, Some(ip))
        .await
    {
        Ok(o) => o,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let Some(session) = opened else {
        state.limiter.failed(&form.name, addr);
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong user name or password",
        )
        .into_response();
    };
    state.limiter.succeeded(&form.name, addr);
    let (name, attrs) = session_cookie(&state);
    let cookie = format!(
        "{name}={}; HttpOnly; SameSite=Strict; Max-Age={}{attrs}",
        session.cookie,
        crate::service::SESSION_TTL_MS / 1000,
    );
    let mut response = Json(LoginReply {
        user: session.user.name,
        role: session.user.role,
        csrf_token: session.csrf_token,
    })
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// A urlencoded form body, without another dependency: two fields.
fn serde_urlencoded_form(body: &[u8]) -> Option<LoginForm> {
    let mut name = None;
    let mut password = None;
    for (k, v) in url::form_urlencoded::parse(body) {
        match k.as_ref() {
            "name" => name = Some(v.into_owned()),
            "password" => password = Some(v.into_owned()),
            _ => {}
        }
    }
    Some(LoginForm {
        name: name?,
        password: password?,
    })
}

/// `POST /logout`: ends the session (CSRF-checked like any change).
pub async fn logout(State(state): State<AppState>, caller: Caller, headers: HeaderMap) -> Response {
    let (name, attrs) = session_cookie(&state);
    if let Err(e) = state
        .sauve
        .logout(&caller.actor(), cookie(&headers, name))
        .await
    {
        return ApiError::from(e).into_response();
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    let clear = format!("{name}=; HttpOnly; SameSite=Strict; Max-Age=0{attrs}");
    if let Ok(v) = HeaderValue::from_str(&clear) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `GET /api/session`: who is signed in, and the CSRF token for this session.
pub async fn whoami(caller: Caller) -> ApiResult<Json<SessionInfo>> {
    let (name, kind, role) = match &caller.principal {
        Principal::User { name, role } => (name.clone(), "user", Some(role.as_str())),
        Principal::Token { name, .. } => (name.clone(), "token", None),
    };
    let scopes = Scope::ALL
        .into_iter()
        .filter(|s| caller.principal.allows(*s))
        .map(|s| s.as_str().to_string())
        .collect();
    Ok(Json(SessionInfo {
        name,
        kind: kind.to_string(),
        role: role.map(String::from),
        scopes,
        csrf_token: caller.csrf.clone(),
    }))
}
