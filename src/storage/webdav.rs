//! Streaming uploads to a WebDAV server.
//!
//! OpenDAL's WebDAV writer holds a whole object in memory before its one PUT,
//! and an artifact can be many GiB. So Sauve streams instead: one PUT with a
//! chunked body to a temporary name beside the target, then a MOVE onto the
//! final name, so an artifact appears whole or not at all, as on local disk.
//! Reads, listings and deletes stay with OpenDAL. A streamed PUT cannot be
//! replayed, so a failure mid-upload fails this destination's copy (the run
//! ends `partial` if others succeeded) instead of being retried.

use super::{PARTIAL_MARK, StorageError};
use bytes::Bytes;
use percent_encoding::utf8_percent_encode;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Where a [`StreamingPut`] sends its bytes, and as whom.
#[derive(Clone)]
pub struct Dav {
    client: reqwest::Client,
    /// `http(s)://host[:port]/root`, without trailing slash.
    base: String,
    auth: Option<(String, String)>,
    uri: String,
    /// How long the server may go without taking a chunk, or without
    /// answering once the body is complete, or a MOVE or DELETE may take.
    timeout: std::time::Duration,
}

impl Dav {
    /// `client` has no request deadline: reqwest's timeouts run from the
    /// start of a request to its answer, which for a PUT spans the whole
    /// upload. A stalled server is caught per chunk instead (see `write`).
    pub fn new(
        endpoint: &str,
        root: &str,
        auth: Option<(String, String)>,
        uri: &str,
        client: reqwest::Client,
        timeout: std::time::Duration,
    ) -> Dav {
        let mut base = endpoint.trim_end_matches('/').to_string();
        if !root.is_empty() {
            base.push('/');
            base.push_str(&utf8_percent_encode(root, super::KEY_PATH).to_string());
        }
        Dav {
            client,
            base,
            auth,
            uri: uri.to_string(),
            timeout,
        }
    }

    fn url(&self, key: &str) -> String {
        format!(
            "{}/{}",
            self.base,
            utf8_percent_encode(key, super::KEY_PATH)
        )
    }

    fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let req = self.client.request(method, url);
        match &self.auth {
            Some((user, password)) => req.basic_auth(user, Some(password)),
            None => req,
        }
    }

    fn err(&self, op: &'static str, key: &str, reason: String) -> StorageError {
        StorageError::op(&self.uri, op, key, reason)
    }

    /// Starts the PUT of `key` (its parent collection must exist).
    pub fn put(&self, key: &str) -> StreamingPut {
        let temp = format!("{key}{PARTIAL_MARK}{}", crate::domain::new_id());
        // Two chunks of slack: the pipeline's own channel does the buffering.
        let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(2);
        let body = reqwest::Body::wrap_stream(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));
        let send = self
            .request(reqwest::Method::PUT, &self.url(&temp))
            .body(body);
        let task = tokio::spawn(async move {
            let resp = send.send().await.map_err(|e| describe(&e))?;
            let status = resp.status();
            if status.is_success() {
                Ok(())
            } else {
                let text = resp.text().await.unwrap_or_default();
                Err(status_reason(status, &text))
            }
        });
        StreamingPut {
            dav: self.clone(),
            key: key.to_string(),
            temp,
            tx: Some(tx),
            task: Some(task),
        }
    }
}

/// One artifact on its way to a WebDAV server.
pub struct StreamingPut {
    dav: Dav,
    key: String,
    temp: String,
    tx: Option<mpsc::Sender<Result<Bytes, std::io::Error>>>,
    task: Option<JoinHandle<Result<(), String>>>,
}

impl StreamingPut {
    /// Why the PUT ended early (the channel only closes when it did).
    async fn outcome(&mut self) -> String {
        match self.task.take() {
            Some(task) => match task.await {
                Ok(Ok(())) => "the server answered before the upload was complete".into(),
                Ok(Err(e)) => e,
                Err(e) => format!("the upload task failed: {e}"),
            },
            None => "the upload already ended".into(),
        }
    }

    pub async fn write(&mut self, chunk: Bytes) -> Result<(), StorageError> {
        // The channel closes only when the PUT ended early; its task says why.
        let sent = match &self.tx {
            Some(tx) => tokio::time::timeout(self.dav.timeout, tx.send(Ok(chunk)))
                .await
                .map(|r| r.is_ok()),
            None => Ok(false),
        };
        match sent {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.tx = None;
                let reason = self.outcome().await;
                Err(self.dav.err("write", &self.key, reason))
            }
            Err(_) => Err(self.dav.err(
                "write",
                &self.key,
                format!(
                    "the server took no data for {}s: raise timeout= in the destination URI if it is just slow",
                    self.dav.timeout.as_secs()
                ),
            )),
        }
    }

    /// Ends the body, waits for the server's answer, then moves the upload
    /// onto its final name.
    pub async fn close(mut self) -> Result<(), StorageError> {
        self.tx = None;
        let done = match self.task.take() {
            Some(task) => match tokio::time::timeout(self.dav.timeout, task).await {
                Ok(joined) => joined
                    .map_err(|e| format!("the upload task failed: {e}"))
                    .and_then(|r| r),
                Err(_) => Err(format!(
                    "the server did not answer within {}s of the upload's end",
                    self.dav.timeout.as_secs()
                )),
            },
            None => Err("the upload already ended".into()),
        };
        if let Err(reason) = done {
            self.delete_temp().await;
            return Err(self.dav.err("write", &self.key, reason));
        }
        let moved = self
            .dav
            .request(
                reqwest::Method::from_bytes(b"MOVE").expect("a valid method"),
                &self.dav.url(&self.temp),
            )
            .header("Destination", self.dav.url(&self.key))
            .header("Overwrite", "T")
            .timeout(self.dav.timeout)
            .send()
            .await;
        let failure = match moved {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) => {
                let status = resp.status();
                status_reason(status, &resp.text().await.unwrap_or_default())
            }
            Err(e) => describe(&e),
        };
        self.delete_temp().await;
        Err(self.dav.err(
            "write",
            &self.key,
            format!("moving the upload into place: {failure}"),
        ))
    }

    pub async fn abort(mut self) {
        self.cut();
        self.delete_temp().await;
    }

    /// Ends the upload with an error in the body, so the connection is reset
    /// and the server drops what it received; closing the channel would end
    /// the body cleanly and leave a truncated file behind.
    fn cut(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.try_send(Err(std::io::Error::other("upload aborted")));
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    async fn delete_temp(&self) {
        let url = self.dav.url(&self.temp);
        let delete = self.dav.request(reqwest::Method::DELETE, &url).send();
        if let Ok(Err(e)) = tokio::time::timeout(self.dav.timeout, delete).await {
            tracing::warn!(key = %self.temp, error = %e, "could not delete a partial upload");
        }
    }
}

impl Drop for StreamingPut {
    // Dropped without close or abort (the pipeline was cancelled): cut the
    // upload rather than let it end cleanly as a truncated file.
    fn drop(&mut self) {
        self.cut();
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

fn status_reason(status: reqwest::StatusCode, body: &str) -> String {
    let hint = match status.as_u16() {
        401 => " (check the user and the password variable)",
        403 => " (the user may not write there)",
        404 | 409 => " (the collection does not exist)",
        507 => " (the server is out of space)",
        _ => "",
    };
    let body: String = body.chars().take(200).collect();
    format!("the server answered {status}{hint}: {body}")
}
