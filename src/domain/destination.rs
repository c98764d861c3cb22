//! Where backups go, parsed from a destination URI: `file:///dir` (or a bare
//! absolute path), `s3://bucket/prefix?endpoint=…&region=…&path_style=…` for
//! AWS S3 and compatible services, `sftp://user@host:port/dir?key=…`,
//! `webdav://host/dir?user=…`, `gcs://bucket/prefix` and
//! `azblob://container/prefix?account=…`. The rest of the code only ever sees a
//! [`Destination`] turned into an OpenDAL operator by `storage`.
//!
//! Credentials never appear in a URI: a destination names them, as secrets
//! bound to the hosts they may be sent to (`access_key=secret:NAME`,
//! `secret_key=`, `password=`, `credential=`, `key=`) or, where the operator
//! writes the job, as environment variables (`AWS_ACCESS_KEY_ID`/
//! `AWS_SECRET_ACCESS_KEY` unless `access_key_env=`/`secret_key_env=` say
//! otherwise, `WEBDAV_PASSWORD`, `GOOGLE_APPLICATION_CREDENTIALS`,
//! `AZURE_STORAGE_KEY`), or a key file's path (SFTP), so a URI can be stored,
//! logged and shown.

use super::secret::{Credential, Endpoint};
use super::validation::ValidationErrors;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A directory on a local (or mounted) file system.
    Local { root: PathBuf },
    /// A bucket (and key prefix) of an S3-compatible service.
    S3(S3Location),
    /// A directory on an SSH server, through its SFTP subsystem.
    Sftp(SftpLocation),
    /// A collection on a WebDAV server.
    Webdav(WebdavLocation),
    /// A bucket (and prefix) of Google Cloud Storage.
    Gcs(GcsLocation),
    /// A container (and prefix) of Azure Blob Storage.
    Azblob(AzblobLocation),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SftpLocation {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// Absolute directory on the server, without trailing slash.
    pub root: String,
    /// Path of the private key file; none lets ssh use its defaults.
    pub key: Option<String>,
    /// `strict` (the host must be in known_hosts), `add` (trust on first use)
    /// or `accept` (no check: tests and throwaway hosts only).
    pub known_hosts: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebdavLocation {
    /// `https://host[:port]` (or `http://` with `tls=false`).
    pub endpoint: String,
    /// Collection path on the server, without leading or trailing slash.
    pub root: String,
    pub user: Option<String>,
    /// The password, used when a user is given.
    pub password: Credential,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcsLocation {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: Option<String>,
    /// A service account's JSON key: a secret holding it, or a variable
    /// holding the path of its file.
    pub credential: Credential,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzblobLocation {
    pub container: String,
    pub prefix: String,
    pub account: String,
    /// Defaults to `https://ACCOUNT.blob.core.windows.net`.
    pub endpoint: Option<String>,
    /// The storage account's access key.
    pub key: Credential,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Key prefix inside the bucket, without leading or trailing slash.
    pub prefix: String,
    /// `http(s)://host[:port]` of a non-AWS service; none means AWS.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`); the default with an
    /// endpoint, as MinIO and Garage expect. AWS uses virtual hosts.
    pub path_style: bool,
    pub access_key: Credential,
    pub secret_key: Credential,
    /// Seconds one request may take before it is abandoned and retried; none
    /// means the default of [`DEFAULT_REQUEST_TIMEOUT_SECS`].
    pub timeout_secs: Option<u64>,
}

/// A request to an object store that takes longer than this is retried.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 60;

impl Destination {
    pub fn parse(uri: &str) -> Result<Destination, ValidationErrors> {
        let e = |m: String| ValidationErrors::single("", m);
        // A bare absolute path is what people type first; it means file://.
        if uri.starts_with('/') {
            return match Url::from_file_path(uri) {
                Ok(u) => Destination::parse(u.as_str()),
                Err(()) => Err(e(format!("{uri:?} is not an absolute path"))),
            };
        }
        let url = Url::parse(uri).map_err(|err| {
            e(format!(
                "{uri:?} is not a destination URI ({err}); write e.g. file:///var/backups/sauve"
            ))
        })?;
        match url.scheme() {
            "file" => {
                if url.host_str().is_some_and(|h| !h.is_empty()) {
                    return Err(e(format!(
                        "a file destination must be an absolute path with three slashes, e.g. file:///var/backups/sauve; {:?} was read as a host name",
                        url.host_str().unwrap_or_default()
                    )));
                }
                if url.query().is_some() {
                    return Err(e("a file destination takes no parameters".into()));
                }
                let root = url
                    .to_file_path()
                    .map_err(|_| e("a file destination needs an absolute path".into()))?;
                if root.as_os_str().len() <= 1 {
                    return Err(e(
                        "a file destination cannot be the root directory; name a folder, e.g. file:///var/backups/sauve".into(),
                    ));
                }
                Ok(Destination::Local { root })
            }
            "s3" => parse_s3(&url).map(Destination::S3),
            "sftp" => parse_sftp(&url).map(Destination::Sftp),
            "webdav" => parse_webdav(&url).map(Destination::Webdav),
            "gcs" => parse_gcs(&url).map(Destination::Gcs),
            "azblob" => parse_azblob(&url).map(Destination::Azblob),
            other => Err(e(format!(
                "unknown destination scheme {other:?}: use file:///abs/dir, s3://bucket/prefix, sftp://user@host/dir, webdav://host/dir, gcs://bucket/prefix or azblob://container/prefix?account=NAME"
            ))),
        }
    }

    /// The canonical URI, safe to log and show (never holds a credential).
    pub fn uri(&self) -> String {
        match self {
            Destination::Local { root } => match Url::from_file_path(root) {
                Ok(u) => u.to_string(),
                Err(()) => format!("file://{}", root.display()),
            },
            Destination::S3(s) => {
                let mut uri = format!("s3://{}", s.bucket);
                if !s.prefix.is_empty() {
                    uri.push('/');
                    uri.push_str(&encode_path(&s.prefix));
                }
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                if let Some(e) = &s.endpoint {
                    q.append_pair("endpoint", e);
                }
                if let Some(r) = &s.region {
                    q.append_pair("region", r);
                }
                if s.path_style != s.endpoint.is_some() {
                    q.append_pair("path_style", if s.path_style { "true" } else { "false" });
                }
                cred_pair(&mut q, "access_key", &s.access_key, "AWS_ACCESS_KEY_ID");
                cred_pair(&mut q, "secret_key", &s.secret_key, "AWS_SECRET_ACCESS_KEY");
                timeout_pair(&mut q, s.timeout_secs);
                with_query(uri, q)
            }
            Destination::Sftp(s) => {
                let mut uri = String::from("sftp://");
                if let Some(u) = &s.user {
                    uri.push_str(&percent_encoding::utf8_percent_encode(u, USERINFO).to_string());
                    uri.push('@');
                }
                uri.push_str(&s.host);
                if let Some(p) = s.port {
                    uri.push_str(&format!(":{p}"));
                }
                uri.push_str(&encode_path(&s.root));
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                if let Some(k) = &s.key {
                    q.append_pair("key", k);
                }
                if s.known_hosts != "strict" {
                    q.append_pair("known_hosts", &s.known_hosts);
                }
                with_query(uri, q)
            }
            Destination::Webdav(w) => {
                let (scheme, host) = w.endpoint.split_once("://").unwrap_or(("https", ""));
                let mut uri = format!("webdav://{host}");
                if !w.root.is_empty() {
                    uri.push('/');
                    uri.push_str(&encode_path(&w.root));
                }
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                if scheme == "http" {
                    q.append_pair("tls", "false");
                }
                if let Some(u) = &w.user {
                    q.append_pair("user", u);
                }
                cred_pair(&mut q, "password", &w.password, "WEBDAV_PASSWORD");
                timeout_pair(&mut q, w.timeout_secs);
                with_query(uri, q)
            }
            Destination::Gcs(g) => {
                let mut uri = bucket_uri("gcs", &g.bucket, &g.prefix);
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                if let Some(e) = &g.endpoint {
                    q.append_pair("endpoint", e);
                }
                cred_pair(
                    &mut q,
                    "credential",
                    &g.credential,
                    "GOOGLE_APPLICATION_CREDENTIALS",
                );
                timeout_pair(&mut q, g.timeout_secs);
                uri = with_query(uri, q);
                uri
            }
            Destination::Azblob(a) => {
                let uri = bucket_uri("azblob", &a.container, &a.prefix);
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                q.append_pair("account", &a.account);
                if let Some(e) = &a.endpoint {
                    q.append_pair("endpoint", e);
                }
                cred_pair(&mut q, "key", &a.key, "AZURE_STORAGE_KEY");
                timeout_pair(&mut q, a.timeout_secs);
                with_query(uri, q)
            }
        }
    }

    /// Seconds one request may take before it is abandoned and retried.
    pub fn timeout_secs(&self) -> u64 {
        let set = match self {
            Destination::S3(s) => s.timeout_secs,
            Destination::Webdav(w) => w.timeout_secs,
            Destination::Gcs(g) => g.timeout_secs,
            Destination::Azblob(a) => a.timeout_secs,
            Destination::Local { .. } | Destination::Sftp(_) => None,
        };
        set.unwrap_or(DEFAULT_REQUEST_TIMEOUT_SECS)
    }

    /// Where this destination's credentials are sent: the host (and port)
    /// requests go to and the bucket. None for a local directory.
    pub fn endpoint(&self) -> Option<Endpoint> {
        Some(match self {
            Destination::Local { .. } => return None,
            Destination::S3(s) => match &s.endpoint {
                Some(e) => Endpoint::of_url(e, Some(&s.bucket)),
                None => Endpoint {
                    bucket: Some(s.bucket.clone()),
                    ..Endpoint::host(
                        &format!(
                            "s3.{}.amazonaws.com",
                            s.region.as_deref().unwrap_or("us-east-1")
                        ),
                        Some(443),
                    )
                },
            },
            Destination::Sftp(s) => Endpoint::host(&s.host, Some(s.port.unwrap_or(22))),
            Destination::Webdav(w) => Endpoint::of_url(&w.endpoint, None),
            Destination::Gcs(g) => Endpoint::of_url(
                g.endpoint
                    .as_deref()
                    .unwrap_or("https://storage.googleapis.com"),
                Some(&g.bucket),
            ),
            Destination::Azblob(a) => {
                let default = format!("https://{}.blob.core.windows.net", a.account);
                Endpoint::of_url(
                    a.endpoint.as_deref().unwrap_or(&default),
                    Some(&a.container),
                )
            }
        })
    }

    /// The credentials this destination will send, with what each is.
    pub fn credentials(&self) -> Vec<(&'static str, &Credential)> {
        match self {
            Destination::Local { .. } | Destination::Sftp(_) => vec![],
            Destination::S3(s) => vec![
                ("S3 access key", &s.access_key),
                ("S3 secret key", &s.secret_key),
            ],
            Destination::Webdav(w) => match w.user {
                Some(_) => vec![("WebDAV password", &w.password)],
                None => vec![],
            },
            Destination::Gcs(g) => vec![("GCS service account key", &g.credential)],
            Destination::Azblob(a) => vec![("Azure storage account key", &a.key)],
        }
    }

    /// Whether this destination is reached over a network (and so gets
    /// timeouts and retries).
    pub fn is_remote(&self) -> bool {
        !matches!(self, Destination::Local { .. })
    }
}

fn bucket_uri(scheme: &str, bucket: &str, prefix: &str) -> String {
    if prefix.is_empty() {
        format!("{scheme}://{bucket}")
    } else {
        format!("{scheme}://{bucket}/{}", encode_path(prefix))
    }
}

/// What a URI path cannot hold as is (RFC 3986), `/` kept.
const PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');
/// The same for a user name, which cannot hold `@`, `:` or `/` either.
const USERINFO: &percent_encoding::AsciiSet = &PATH.add(b'@').add(b':').add(b'/');

fn encode_path(p: &str) -> String {
    percent_encoding::utf8_percent_encode(p, PATH).to_string()
}

/// A URI's path or user name as the user meant it: `My%20Backups` is the
/// collection "My Backups", and OpenDAL encodes it again itself.
fn decoded(s: &str) -> Result<String, ValidationErrors> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|d| d.into_owned())
        .map_err(|_| ValidationErrors::single("", format!("{s:?} is not valid UTF-8 once decoded")))
}

fn timeout_pair(q: &mut url::form_urlencoded::Serializer<String>, t: Option<u64>) {
    if let Some(t) = t {
        q.append_pair("timeout", &format!("{t}s"));
    }
}

fn with_query(mut uri: String, mut q: url::form_urlencoded::Serializer<String>) -> String {
    let q = q.finish();
    if !q.is_empty() {
        uri.push('?');
        uri.push_str(&q);
    }
    uri
}

fn no_credentials_in(url: &Url, hint: &str) -> Result<(), ValidationErrors> {
    if url.password().is_some() {
        return Err(ValidationErrors::single(
            "",
            format!("a destination URI holds no password: {hint}"),
        ));
    }
    Ok(())
}

/// `NAME_env=VAR` or `NAME=secret:S`, whichever `k` is.
fn cred_param(k: &str, v: &str) -> Result<Credential, ValidationErrors> {
    let r = if k.ends_with("_env") {
        Credential::env(k, v)
    } else {
        Credential::secret(k, v)
    };
    r.map_err(|m| ValidationErrors::single("", m))
}

/// Writes a credential back as the URI parameter it was read from; the
/// default variable is left implicit.
fn cred_pair(
    q: &mut url::form_urlencoded::Serializer<String>,
    param: &str,
    c: &Credential,
    default_env: &str,
) {
    match c {
        Credential::Env(v) if v == default_env => {}
        Credential::Env(v) => {
            q.append_pair(&format!("{param}_env"), v);
        }
        Credential::Secret(n) => {
            q.append_pair(param, &format!("secret:{n}"));
        }
    }
}

fn timeout_param(v: &str) -> Result<u64, ValidationErrors> {
    super::parse_duration(v)
        .filter(|t| t.as_secs() >= 1)
        .map(|t| t.as_secs())
        .ok_or_else(|| {
            ValidationErrors::single(
                "",
                format!(
                    "timeout={v:?}: write how long one request may take, e.g. timeout=30s or timeout=2m"
                ),
            )
        })
}

fn http_endpoint(v: &str) -> Result<String, ValidationErrors> {
    let parsed = Url::parse(v).ok();
    // An endpoint is shown and logged with the URI: no user, password, SAS
    // token or other query may ride in it.
    if parsed
        .as_ref()
        .is_some_and(|u| !u.username().is_empty() || u.password().is_some() || u.query().is_some())
    {
        return Err(ValidationErrors::single(
            "",
            "endpoint= takes scheme, host, port and path only: credentials and query parameters go in the environment variables the destination names".to_string(),
        ));
    }
    let ok =
        parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
    if ok {
        Ok(v.trim_end_matches('/').to_string())
    } else {
        Err(ValidationErrors::single(
            "",
            format!(
                "endpoint={v:?} is not an http(s) URL, e.g. endpoint=https://storage.example.com"
            ),
        ))
    }
}

fn unknown_param(scheme: &str, other: &str, supported: &str) -> ValidationErrors {
    ValidationErrors::single(
        "",
        format!("unknown parameter {other:?} for an {scheme} destination; supported: {supported}"),
    )
}

fn parse_sftp(url: &Url) -> Result<SftpLocation, ValidationErrors> {
    let e = |m: String| ValidationErrors::single("", m);
    no_credentials_in(
        url,
        "SFTP logs in with a key; name its file with key=/path/to/id_ed25519",
    )?;
    let host = url.host_str().unwrap_or_default().to_string();
    if host.is_empty() {
        return Err(e(
            "an sftp destination needs a host: sftp://user@host/absolute/dir".into(),
        ));
    }
    let root = decoded(url.path().trim_end_matches('/'))?;
    if root.is_empty() {
        return Err(e(
            "an sftp destination needs a directory, e.g. sftp://backup@host/srv/backups".into(),
        ));
    }
    let mut loc = SftpLocation {
        user: Some(decoded(url.username())?).filter(|u| !u.is_empty()),
        host,
        port: url.port(),
        root,
        key: None,
        known_hosts: "strict".into(),
    };
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "key" => {
                if !v.starts_with('/') {
                    return Err(e(format!(
                        "key={v:?}: give the private key file's absolute path"
                    )));
                }
                loc.key = Some(v.to_string());
            }
            "known_hosts" => {
                if !matches!(v.as_ref(), "strict" | "add" | "accept") {
                    return Err(e(format!(
                        "known_hosts={v:?}: use strict (default), add (trust on first use) or accept (no check)"
                    )));
                }
                loc.known_hosts = v.to_string();
            }
            other => return Err(unknown_param("sftp", other, "key, known_hosts")),
        }
    }
    Ok(loc)
}

fn parse_webdav(url: &Url) -> Result<WebdavLocation, ValidationErrors> {
    let e = |m: String| ValidationErrors::single("", m);
    no_credentials_in(
        url,
        "put it in WEBDAV_PASSWORD (or name another variable with password_env=)",
    )?;
    let host = url.host_str().unwrap_or_default().to_string();
    if host.is_empty() {
        return Err(e(
            "a webdav destination needs a host: webdav://host/collection".into(),
        ));
    }
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    };
    let mut tls = true;
    let mut loc = WebdavLocation {
        endpoint: String::new(),
        root: decoded(url.path().trim_matches('/'))?,
        user: Some(decoded(url.username())?).filter(|u| !u.is_empty()),
        password: Credential::Env("WEBDAV_PASSWORD".into()),
        timeout_secs: None,
    };
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "tls" => {
                tls = match v.as_ref() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(e(format!("tls={v:?}: use true or false"))),
                }
            }
            "user" => loc.user = Some(v.to_string()),
            "password_env" | "password" => loc.password = cred_param(&k, &v)?,
            "timeout" => loc.timeout_secs = Some(timeout_param(&v)?),
            other => {
                return Err(unknown_param(
                    "webdav",
                    other,
                    "tls, user, password=secret:NAME, password_env, timeout",
                ));
            }
        }
    }
    loc.endpoint = format!("{}://{authority}", if tls { "https" } else { "http" });
    Ok(loc)
}

/// Bucket (GCS) and container (Azure) names: lowercase, digits and a few
/// separators, 3 to 63 characters.
fn bucket_name(
    url: &Url,
    what: &str,
    extra: &[char],
    example: &str,
) -> Result<String, ValidationErrors> {
    let name = url.host_str().unwrap_or_default().to_string();
    let ok = (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(name)
    } else {
        Err(ValidationErrors::single(
            "",
            format!(
                "{name:?} is not a {what} name: 3 to 63 lowercase letters, digits or {}, e.g. {example}",
                extra
                    .iter()
                    .map(|c| format!("'{c}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    }
}

fn parse_gcs(url: &Url) -> Result<GcsLocation, ValidationErrors> {
    no_credentials_in(
        url,
        "put the service account key file's path in GOOGLE_APPLICATION_CREDENTIALS",
    )?;
    let mut loc = GcsLocation {
        bucket: bucket_name(url, "bucket", &['-', '_', '.'], "gcs://my-backups/app")?,
        prefix: decoded(url.path().trim_matches('/'))?,
        endpoint: None,
        credential: Credential::Env("GOOGLE_APPLICATION_CREDENTIALS".into()),
        timeout_secs: None,
    };
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "endpoint" => loc.endpoint = Some(http_endpoint(&v)?),
            "credential_env" | "credential" => loc.credential = cred_param(&k, &v)?,
            "timeout" => loc.timeout_secs = Some(timeout_param(&v)?),
            other => {
                return Err(unknown_param(
                    "gcs",
                    other,
                    "endpoint, credential=secret:NAME, credential_env, timeout",
                ));
            }
        }
    }
    Ok(loc)
}

fn parse_azblob(url: &Url) -> Result<AzblobLocation, ValidationErrors> {
    let e = |m: String| ValidationErrors::single("", m);
    no_credentials_in(url, "put the account key in AZURE_STORAGE_KEY")?;
    let mut loc = AzblobLocation {
        container: bucket_name(
            url,
            "container",
            &['-'],
            "azblob://backups/app?account=myaccount",
        )?,
        prefix: decoded(url.path().trim_matches('/'))?,
        account: String::new(),
        endpoint: None,
        key: Credential::Env("AZURE_STORAGE_KEY".into()),
        timeout_secs: None,
    };
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "account" => {
                let ok = (3..=24).contains(&v.len())
                    && v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
                if !ok {
                    return Err(e(format!(
                        "account={v:?} is not a storage account name: 3 to 24 lowercase letters and digits"
                    )));
                }
                loc.account = v.to_string();
            }
            "endpoint" => loc.endpoint = Some(http_endpoint(&v)?),
            "key_env" | "key" => loc.key = cred_param(&k, &v)?,
            "timeout" => loc.timeout_secs = Some(timeout_param(&v)?),
            other => {
                return Err(unknown_param(
                    "azblob",
                    other,
                    "account, endpoint, key=secret:NAME, key_env, timeout",
                ));
            }
        }
    }
    if loc.account.is_empty() {
        return Err(e(
            "an azblob destination needs its storage account: azblob://container/prefix?account=NAME".into(),
        ));
    }
    Ok(loc)
}

fn parse_s3(url: &Url) -> Result<S3Location, ValidationErrors> {
    let e = |m: String| ValidationErrors::single("", m);
    if !url.username().is_empty() || url.password().is_some() {
        return Err(e(
            "an s3 destination holds no credentials: put them in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or name other variables with access_key_env= and secret_key_env=)".into(),
        ));
    }
    let bucket = url.host_str().unwrap_or_default().to_string();
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !valid_bucket {
        return Err(e(format!(
            "{bucket:?} is not a bucket name: 3 to 63 lowercase letters, digits, '-' or '.', e.g. s3://my-backups/app"
        )));
    }
    let prefix = decoded(url.path().trim_matches('/'))?;
    let mut loc = S3Location {
        bucket,
        prefix,
        endpoint: None,
        region: None,
        path_style: false,
        access_key: Credential::Env("AWS_ACCESS_KEY_ID".into()),
        secret_key: Credential::Env("AWS_SECRET_ACCESS_KEY".into()),
        timeout_secs: None,
    };
    let mut path_style = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "endpoint" => loc.endpoint = Some(http_endpoint(&v)?),
            "region" => {
                // The region becomes part of AWS's host name
                // (s3.REGION.amazonaws.com): only a region's characters.
                let ok = !v.is_empty()
                    && v.len() <= 40
                    && v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if !ok {
                    return Err(e(format!(
                        "region={v:?} is not a region name: lowercase letters, digits and '-', e.g. eu-west-3"
                    )));
                }
                loc.region = Some(v.to_string())
            }
            "path_style" => {
                path_style = Some(match v.as_ref() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(e(format!("path_style={v:?}: use true or false"))),
                })
            }
            "access_key_env" | "access_key" => loc.access_key = cred_param(&k, &v)?,
            "secret_key_env" | "secret_key" => loc.secret_key = cred_param(&k, &v)?,
            "timeout" => loc.timeout_secs = Some(timeout_param(&v)?),
            other => {
                return Err(e(format!(
                    "unknown parameter {other:?} for an s3 destination; supported: endpoint, region, path_style, access_key=secret:NAME, secret_key=secret:NAME, access_key_env, secret_key_env, timeout"
                )));
            }
        }
    }
    loc.path_style = path_style.unwrap_or(loc.endpoint.is_some());
    Ok(loc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_canonicalises() {
        let cases = [
            ("file:///var/backups/sauve", "file:///var/backups/sauve"),
            ("/var/backups/sauve", "file:///var/backups/sauve"),
            ("file:///srv/with%20space", "file:///srv/with%20space"),
        ];
        for (input, canonical) in cases {
            let d = Destination::parse(input).unwrap();
            assert_eq!(d.uri(), canonical, "{input}");
            assert_eq!(Destination::parse(&d.uri()).unwrap(), d, "{input}");
        }
    }

    #[test]
    fn s3_uris() {
        let cases = [
            ("s3://backups", "s3://backups"),
            ("s3://backups/app/db/", "s3://backups/app/db"),
            (
                "s3://b-1.x/p?endpoint=http://127.0.0.1:3900/&region=garage",
                "s3://b-1.x/p?endpoint=http%3A%2F%2F127.0.0.1%3A3900&region=garage",
            ),
            (
                "s3://bkt?endpoint=https://r2.example&path_style=false&access_key_env=R2_KEY&secret_key_env=R2_SECRET",
                "s3://bkt?endpoint=https%3A%2F%2Fr2.example&path_style=false&access_key_env=R2_KEY&secret_key_env=R2_SECRET",
            ),
            ("s3://bkt/p?timeout=2m", "s3://bkt/p?timeout=120s"),
            (
                "s3://bkt?endpoint=http://h:3900&access_key=secret:s3-id&secret_key=secret:s3",
                "s3://bkt?endpoint=http%3A%2F%2Fh%3A3900&access_key=secret%3As3-id&secret_key=secret%3As3",
            ),
        ];
        for (input, canonical) in cases {
            let d = Destination::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(d.uri(), canonical, "{input}");
            assert_eq!(Destination::parse(&d.uri()).unwrap(), d, "{input}");
        }
        let Destination::S3(s) = Destination::parse("s3://bkt/x?endpoint=http://h:1").unwrap()
        else {
            panic!()
        };
        assert!(s.path_style, "path style by default with an endpoint");
        assert_eq!(s.access_key, Credential::Env("AWS_ACCESS_KEY_ID".into()));
        let ep = |uri: &str| {
            Destination::parse(uri)
                .unwrap()
                .endpoint()
                .map(|e| e.to_string())
        };
        assert_eq!(
            ep("s3://bkt/x?endpoint=http://h:1").as_deref(),
            Some("h:1 (bucket bkt)")
        );
        assert_eq!(
            ep("s3://bkt?region=eu-west-3").as_deref(),
            Some("s3.eu-west-3.amazonaws.com:443 (bucket bkt)")
        );
        assert_eq!(
            ep("webdav://Dav.Example/x").as_deref(),
            Some("dav.example:443")
        );
        assert_eq!(ep("webdav://h:81/x?tls=false").as_deref(), Some("h:81"));
        assert_eq!(ep("sftp://u@h/x").as_deref(), Some("h:22"));
        assert_eq!(
            ep("azblob://c1x?account=acct").as_deref(),
            Some("acct.blob.core.windows.net:443 (bucket c1x)")
        );
        assert_eq!(ep("/var/backups"), None);
        let refusals = [
            ("s3://bkt?access_key=AKIAXXXX", "secret's name"),
            ("s3://bkt?region=evil.com/", "not a region name"),
            ("s3://bkt?region=a%40b", "not a region name"),
            ("s3://bkt?secret_key_env=SAUVE_CRON_SECRET", "never sent"),
            (
                "webdav://h/x?user=u&password_env=SAUVE_PASSPHRASE",
                "never sent",
            ),
            ("webdav://h/x?password=hunter2", "secret's name"),
            ("s3://KEY:hunter2pass@bkt/x", "holds no credentials"),
            ("s3://ab/x", "not a bucket name"),
            ("s3://Bad_Bucket/x", "not a bucket name"),
            ("s3://bkt?endpoint=ftp://x", "not an http(s) URL"),
            ("s3://bkt?path_style=yes", "use true or false"),
            ("s3://bkt?access_key_env=1x", "not an environment variable"),
            ("s3://bkt?acl=public", "unknown parameter"),
            ("s3://bkt?timeout=soon", "timeout=30s"),
            ("s3://bkt?timeout=0s", "timeout=30s"),
        ];
        for (input, needle) in refusals {
            let msg = Destination::parse(input).unwrap_err().to_string();
            assert!(msg.contains(needle), "{input}: {msg}");
            assert!(!msg.contains("hunter2pass"), "{input}: leaks a secret");
        }
    }

    #[test]
    fn sftp_webdav_gcs_and_azblob_uris() {
        // (input, canonical)
        let cases = [
            (
                "sftp://backup@host/srv/backups/",
                "sftp://backup@host/srv/backups",
            ),
            (
                "sftp://backup@10.0.0.2:2222/srv/b?key=/etc/sauve/id_ed25519&known_hosts=add",
                "sftp://backup@10.0.0.2:2222/srv/b?key=%2Fetc%2Fsauve%2Fid_ed25519&known_hosts=add",
            ),
            ("sftp://host/d?known_hosts=strict", "sftp://host/d"),
            (
                "webdav://dav.example/backups/",
                "webdav://dav.example/backups",
            ),
            (
                "webdav://me@127.0.0.1:8080/b?tls=false&password_env=DAV_PW&timeout=1m",
                "webdav://127.0.0.1:8080/b?tls=false&user=me&password_env=DAV_PW&timeout=60s",
            ),
            ("gcs://my_bucket.x/app", "gcs://my_bucket.x/app"),
            (
                "webdav://nc.example/remote.php/dav/files/jos%C3%A9/My%20Backups?user=jos%C3%A9",
                "webdav://nc.example/remote.php/dav/files/jos%C3%A9/My%20Backups?user=jos%C3%A9",
            ),
            (
                "sftp://alice%40corp.com@h/srv/my%20dir",
                "sftp://alice%40corp.com@h/srv/my%20dir",
            ),
            (
                "gcs://bkt?credential_env=GCS_KEY_FILE&endpoint=http://127.0.0.1:4443/",
                "gcs://bkt?endpoint=http%3A%2F%2F127.0.0.1%3A4443&credential_env=GCS_KEY_FILE",
            ),
            (
                "azblob://backups/app?account=acme01",
                "azblob://backups/app?account=acme01",
            ),
            (
                "azblob://backups?account=devstoreaccount1&endpoint=http://127.0.0.1:10000/devstoreaccount1&key_env=AZ_KEY",
                "azblob://backups?account=devstoreaccount1&endpoint=http%3A%2F%2F127.0.0.1%3A10000%2Fdevstoreaccount1&key_env=AZ_KEY",
            ),
        ];
        for (input, canonical) in cases {
            let d = Destination::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(d.uri(), canonical, "{input}");
            assert_eq!(Destination::parse(&d.uri()).unwrap(), d, "{input}");
            assert!(d.is_remote());
        }
        let Destination::Webdav(w) = Destination::parse("webdav://h/x").unwrap() else {
            panic!()
        };
        assert_eq!(w.endpoint, "https://h", "TLS unless told otherwise");
        let Destination::Webdav(w) =
            Destination::parse("webdav://nc.example/files/My%20Backups?user=jos%C3%A9").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            w.root, "files/My Backups",
            "decoded once, encoded by OpenDAL"
        );
        assert_eq!(w.user.as_deref(), Some("josé"));
        let Destination::Sftp(s) =
            Destination::parse("sftp://alice%40corp.com@h/srv/my%20dir").unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (s.user.as_deref(), s.root.as_str()),
            (Some("alice@corp.com"), "/srv/my dir")
        );
        let refusals = [
            ("sftp://u:hunter2pass@h/d", "holds no password"),
            ("sftp://h", "needs a directory"),
            ("sftp://h/d?key=id_rsa", "absolute path"),
            ("sftp://h/d?known_hosts=maybe", "use strict"),
            ("sftp://h/d?port=22", "unknown parameter"),
            ("webdav://u:hunter2pass@h/d", "holds no password"),
            ("webdav://h/d?tls=no", "use true or false"),
            (
                "webdav://h/d?password_env=a-b",
                "not an environment variable",
            ),
            ("gcs://Bad/x", "not a bucket name"),
            ("gcs://bkt?endpoint=ftp://x", "not an http(s) URL"),
            (
                "s3://bkt?endpoint=https://k:hunter2pass@h",
                "scheme, host, port and path only",
            ),
            (
                "azblob://backups?account=abc&endpoint=https://a.blob.core.windows.net%3Fsig%3Dhunter2pass",
                "scheme, host, port and path only",
            ),
            ("azblob://backups/x", "needs its storage account"),
            ("azblob://Back_ups?account=a1b", "not a container name"),
            (
                "azblob://backups?account=Not-Valid",
                "not a storage account name",
            ),
            ("azblob://backups?account=abc&sas=x", "unknown parameter"),
        ];
        for (input, needle) in refusals {
            let msg = Destination::parse(input).unwrap_err().to_string();
            assert!(msg.contains(needle), "{input}: {msg}");
            assert!(!msg.contains("hunter2pass"), "{input}: leaks a secret");
        }
    }

    #[test]
    fn refusals() {
        let cases = [
            ("file://host/x", "three slashes"),
            ("file:///", "root directory"),
            ("/", "root directory"),
            ("file:///x?a=b", "no parameters"),
            ("ftp://x/y", "unknown destination scheme"),
            ("relative/dir", "not a destination URI"),
        ];
        for (input, needle) in cases {
            let msg = Destination::parse(input).unwrap_err().to_string();
            assert!(msg.contains(needle), "{input}: {msg}");
        }
    }
}
