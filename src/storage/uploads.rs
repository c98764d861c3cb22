//! Multipart uploads left pending in an S3 bucket.
//!
//! A writer that fails or is cancelled aborts its upload. A process killed
//! mid-upload cannot: its parts stay in the bucket, invisible to listings and
//! billed, until someone aborts the upload. OpenDAL has no call for listing
//! them, so this module sends the two S3 requests it needs itself
//! (ListMultipartUploads and AbortMultipartUpload), signed by reqsign, the
//! SigV4 signer OpenDAL itself uses, over reqwest, OpenDAL's own HTTP client.
//! Only uploads under the destination's prefix are ever touched.

use super::StorageError;
use super::{KEY_PATH, UNRESERVED};
use crate::domain::destination::S3Location;
use jiff::Timestamp;
use percent_encoding::utf8_percent_encode;
use reqsign_aws_v4::{EMPTY_STRING_SHA256, RequestSigner, StaticCredentialProvider};
use reqsign_core::{Context, Signer};
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct PendingUpload {
    /// The object key in the bucket (prefix included).
    pub key: String,
    pub upload_id: String,
    /// When the upload was started, as the service reports it.
    pub initiated: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListResult {
    #[serde(default)]
    upload: Vec<UploadEntry>,
    #[serde(default)]
    is_truncated: bool,
    next_key_marker: Option<String>,
    next_upload_id_marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UploadEntry {
    key: String,
    upload_id: String,
    initiated: String,
}

/// Lists and aborts the multipart uploads under one S3 destination's prefix.
pub struct Uploads {
    loc: S3Location,
    uri: String,
    signer: Signer<reqsign_aws_v4::Credential>,
    http: reqwest::Client,
    /// The destination's per-request deadline.
    timeout: Duration,
}

impl Uploads {
    pub fn new(
        loc: &S3Location,
        uri: &str,
        (access_key, secret_key): (&str, &str),
        http: reqwest::Client,
        timeout: Duration,
    ) -> Uploads {
        let region = loc.region.as_deref().unwrap_or("us-east-1");
        let signer = Signer::new(
            Context::new(),
            StaticCredentialProvider::new(access_key, secret_key),
            RequestSigner::new("s3", region),
        );
        Uploads {
            loc: loc.clone(),
            uri: uri.to_string(),
            signer,
            http,
            timeout,
        }
    }

    fn err(&self, op: &'static str, key: &str, reason: String) -> StorageError {
        StorageError::op(&self.uri, op, key, reason)
    }

    /// `scheme://host[:port]` and the path of the bucket on it.
    fn bucket_base(&self) -> (String, String) {
        let region = self.loc.region.as_deref().unwrap_or("us-east-1");
        let endpoint = self
            .loc
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        if self.loc.path_style {
            (endpoint, format!("/{}", self.loc.bucket))
        } else {
            let (scheme, host) = endpoint.split_once("://").unwrap_or(("https", &endpoint));
            (
                format!("{scheme}://{}.{host}", self.loc.bucket),
                String::new(),
            )
        }
    }

    async fn send(
        &self,
        method: http::Method,
        url: String,
        op: &'static str,
        key: &str,
    ) -> Result<(http::StatusCode, String), StorageError> {
        let mut parts = http::Request::builder()
            .method(method)
            .uri(&url)
            .header("x-amz-content-sha256", EMPTY_STRING_SHA256)
            .body(())
            .map_err(|e| self.err(op, key, format!("cannot build the request: {e}")))?
            .into_parts()
            .0;
        self.signer
            .sign(&mut parts, None)
            .await
            .map_err(|e| self.err(op, key, format!("cannot sign the request: {e}")))?;
        let mut req = self
            .http
            .request(parts.method, parts.uri.to_string())
            .timeout(self.timeout);
        for (name, value) in &parts.headers {
            req = req.header(name, value);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| self.err(op, key, format!("request failed: {e}")))?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| self.err(op, key, format!("reading the answer failed: {e}")))?;
        if !status.is_success() {
            let hint = match status.as_u16() {
                403 if body.contains("SignatureDoesNotMatch")
                    || body.contains("InvalidAccessKeyId") =>
                {
                    " (check the access key and secret)"
                }
                403 => {
                    " (access denied: the key needs permission to list and abort multipart uploads)"
                }
                404 if body.contains("NoSuchUpload") => " (the upload is already gone)",
                404 => " (not found: does the bucket exist?)",
                _ => "",
            };
            return Err(self.err(
                op,
                key,
                format!("the service answered {status}{hint}: {body}"),
            ));
        }
        Ok((status, body))
    }

    /// Every pending upload under the destination's prefix (and under `within`
    /// inside it, e.g. `JOB/`), oldest first.
    pub async fn list(&self, within: Option<&str>) -> Result<Vec<PendingUpload>, StorageError> {
        let mut prefix = if self.loc.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.loc.prefix)
        };
        prefix.push_str(within.unwrap_or_default());
        let mut seen_markers = std::collections::HashSet::new();
        let (base, path) = self.bucket_base();
        let mut found = Vec::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            // Query parameters in SigV4's canonical (sorted) order.
            let mut query = String::new();
            if let Some((key, id)) = &markers {
                query.push_str(&format!("key-marker={}&", enc(key)));
                query.push_str(&format!("prefix={}&", enc(&prefix)));
                query.push_str(&format!("upload-id-marker={}&", enc(id)));
            } else {
                query.push_str(&format!("prefix={}&", enc(&prefix)));
            }
            query.push_str("uploads=");
            let url = format!("{base}{path}/?{query}");
            let (_, body) = self
                .send(http::Method::GET, url, "list uploads", &prefix)
                .await?;
            let page: ListResult = quick_xml::de::from_str(&body).map_err(|e| {
                self.err(
                    "list uploads",
                    &prefix,
                    format!("unreadable ListMultipartUploads answer ({e})"),
                )
            })?;
            found.extend(page.upload.into_iter().map(|u| PendingUpload {
                key: u.key,
                upload_id: u.upload_id,
                initiated: u.initiated,
            }));
            match (
                page.is_truncated,
                page.next_key_marker,
                page.next_upload_id_marker,
            ) {
                (false, _, _) => break,
                // A server that repeats itself would loop forever.
                (true, Some(k), Some(id)) if seen_markers.insert((k.clone(), id.clone())) => {
                    markers = Some((k, id))
                }
                (true, _, _) => {
                    return Err(self.err(
                        "list uploads",
                        &prefix,
                        "the listing is truncated but gives no usable place to continue from"
                            .into(),
                    ));
                }
            }
        }
        found.sort_by_key(|u| initiated_at(&u.initiated));
        Ok(found)
    }

    pub async fn abort(&self, upload: &PendingUpload) -> Result<(), StorageError> {
        let (base, path) = self.bucket_base();
        let url = format!(
            "{base}{path}/{}?uploadId={}",
            utf8_percent_encode(&upload.key, KEY_PATH),
            enc(&upload.upload_id)
        );
        match self
            .send(http::Method::DELETE, url, "abort upload", &upload.key)
            .await
        {
            Ok(_) => Ok(()),
            // Another instance's sweep got there first: the upload is gone.
            Err(StorageError::Op { reason, .. }) if reason.contains("NoSuchUpload") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Aborts the uploads (under `within`, if given) started more than
    /// `older_than` ago, and returns them. One that cannot be aborted does not
    /// stop the others; the first such failure is returned if none could be.
    /// An upload whose start time cannot be read is left alone.
    pub async fn sweep(
        &self,
        within: Option<&str>,
        older_than: Duration,
    ) -> Result<Vec<PendingUpload>, StorageError> {
        let now = Timestamp::now();
        let mut aborted = Vec::new();
        let mut failure = None;
        for u in self.list(within).await? {
            if !is_older(&u, now, older_than) {
                continue;
            }
            match self.abort(&u).await {
                Ok(()) => {
                    tracing::info!(key = %u.key, initiated = %u.initiated, destination = %self.uri, "aborted an abandoned multipart upload");
                    aborted.push(u);
                }
                Err(e) => {
                    tracing::warn!(key = %u.key, error = %e, "could not abort an abandoned multipart upload");
                    failure.get_or_insert(e);
                }
            }
        }
        match failure {
            Some(e) if aborted.is_empty() => Err(e),
            _ => Ok(aborted),
        }
    }
}

/// Whether `u` was started more than `older_than` before `now`.
pub fn is_older(u: &PendingUpload, now: Timestamp, older_than: Duration) -> bool {
    initiated_at(&u.initiated).is_some_and(|t| {
        now.duration_since(t)
            .try_into()
            .is_ok_and(|age: Duration| age >= older_than)
    })
}

fn enc(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

fn initiated_at(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}
