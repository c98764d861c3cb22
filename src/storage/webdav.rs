//! Streaming uploads to a WebDAV server.
//!
//! OpenDAL's WebDAV writer holds a whole object in memory before its one PUT,
//! and an artifact can be many GiB. So Sauve streams instead: one PUT with a
//! chunked body to a temporary name beside the target, then a MOVE onto the
//! final name, so an artifact appears whole or not at all, as on local disk.
//! Reads, listings and deletes stay with OpenDAL. A streamed PUT cannot be
//! replayed, so a failure mid-upload fails this destination's copy (the run
//! ends `partial` if others succeeded) instead of being retried.

use super::StorageError;
use bytes::Bytes;
use percent_encoding::utf8_percent_encode;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// In the name of an upload in progress: `KEY.sauve-partial-ID`. Never a
/// manifest, so never listed as a backup; swept when abandoned.
pub const PARTIAL_MARK: &str = ".sauve-partial-";

/// Where a [`StreamingPut`] sends its bytes, and as whom.
#[derive(Clone)]
pub struct Dav {
    client: reqwest::Client,
    /// `http(s)://host[:port]/root`, without trailing slash.
    base: String,
    auth: Option<(String, String)>,
    uri: String,
}

impl Dav {
    pub fn new(
        endpoint: &str,
        root: &str,
        auth: Option<(String, String)>,
        uri: &str,
        timeout: std::time::Duration,
    ) -> Result<Dav, StorageError> {
        // No overall deadline: a large artifact takes as long as it takes. A
        // server that stops answering is caught by the read timeout.
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .build()
            .map_err(|e| StorageError::Open {
                uri: uri.to_string(),
                reason: format!("cannot build an HTTP client: {e}"),
            })?;
        let mut base = endpoint.trim_end_matches('/').to_string();
        if !root.is_empty() {
            base.push('/');
            base.push_str(&utf8_percent_encode(root, super::KEY_PATH).to_string());
        }
        Ok(Dav {
            client,
            base,
            auth,
            uri: uri.to_string(),
        })
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
        StorageError::Op {
            uri: self.uri.clone(),
            op,
            key: key.to_string(),
            reason,
        }
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
        let sent = match &self.tx {
            Some(tx) => tx.send(Ok(chunk)).await.is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        self.tx = None;
        let reason = self.outcome().await;
        Err(self.dav.err("write", &self.key, reason))
    }

    /// Ends the body, waits for the server's answer, then moves the upload
    /// onto its final name.
    pub async fn close(mut self) -> Result<(), StorageError> {
        self.tx = None;
        let done = match self.task.take() {
            Some(task) => task
                .await
                .map_err(|e| format!("the upload task failed: {e}"))
                .and_then(|r| r),
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
        self.tx = None;
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.delete_temp().await;
    }

    async fn delete_temp(&self) {
        let url = self.dav.url(&self.temp);
        if let Err(e) = self.dav.request(reqwest::Method::DELETE, &url).send().await {
            tracing::warn!(key = %self.temp, error = %e, "could not delete a partial upload");
        }
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
