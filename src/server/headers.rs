//! The headers every response carries, whatever produced it (a page, an
//! asset, the API, an error, the fallback): a Content-Security-Policy that
//! allows only our own scripts and styles and no framing, `nosniff`, a
//! same-origin referrer, and `no-store` on anything that did not choose its
//! own caching (pages embed the CSRF token; API JSON is per caller).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Scripts and styles come from `/assets/` only (no inline code, no `style=`
/// attributes); the favicon is a `data:` URL; no one may frame the dashboard.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const FIXED: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    for (name, value) in FIXED {
        h.insert(name, HeaderValue::from_static(value));
    }
    // Assets say `no-cache` themselves; everything else is never stored.
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}
