//! Where backups go, parsed from a destination URI: `file:///dir` (or a bare
//! absolute path) and `s3://bucket/prefix?endpoint=…&region=…&path_style=…` for
//! AWS S3 and compatible services. The rest of the code only ever sees a
//! [`Destination`] turned into an OpenDAL operator by `storage`.
//!
//! Credentials never appear in a URI: an S3 destination names the environment
//! variables that hold them (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` unless
//! `access_key_env=`/`secret_key_env=` say otherwise), so a URI can be stored,
//! logged and shown.

use super::validation::ValidationErrors;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A directory on a local (or mounted) file system.
    Local { root: PathBuf },
    /// A bucket (and key prefix) of an S3-compatible service.
    S3(S3Location),
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
    pub access_key_env: String,
    pub secret_key_env: String,
}

impl Destination {
    pub fn parse(uri: &str) -> Result<Destination, ValidationErrors> {
        let e = |m: String| ValidationErrors::single("", m);
        // A bare absolute path is what people type first; accept it as file://.
        if uri.starts_with('/') {
            return Ok(Destination::Local {
                root: PathBuf::from(uri),
            });
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
            other => Err(e(format!(
                "unknown destination scheme {other:?}: use file:///abs/dir or s3://bucket/prefix"
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
                    uri.push_str(&s.prefix);
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
                if s.access_key_env != "AWS_ACCESS_KEY_ID" {
                    q.append_pair("access_key_env", &s.access_key_env);
                }
                if s.secret_key_env != "AWS_SECRET_ACCESS_KEY" {
                    q.append_pair("secret_key_env", &s.secret_key_env);
                }
                let q = q.finish();
                if !q.is_empty() {
                    uri.push('?');
                    uri.push_str(&q);
                }
                uri
            }
        }
    }
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
    let prefix = url.path().trim_matches('/').to_string();
    let mut loc = S3Location {
        bucket,
        prefix,
        endpoint: None,
        region: None,
        path_style: false,
        access_key_env: "AWS_ACCESS_KEY_ID".into(),
        secret_key_env: "AWS_SECRET_ACCESS_KEY".into(),
    };
    let mut path_style = None;
    for (k, v) in url.query_pairs() {
        match k.as_ref() {
            "endpoint" => {
                let ok = Url::parse(&v).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https") && u.host_str().is_some()
                });
                if !ok {
                    return Err(e(format!(
                        "endpoint={v:?} is not an http(s) URL, e.g. endpoint=https://s3.example.com"
                    )));
                }
                loc.endpoint = Some(v.trim_end_matches('/').to_string());
            }
            "region" => loc.region = Some(v.to_string()),
            "path_style" => {
                path_style = Some(match v.as_ref() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(e(format!("path_style={v:?}: use true or false"))),
                })
            }
            "access_key_env" | "secret_key_env" => {
                if !super::source::is_env_name(&v) {
                    return Err(e(format!("{k}={v:?} is not an environment variable name")));
                }
                if k == "access_key_env" {
                    loc.access_key_env = v.to_string();
                } else {
                    loc.secret_key_env = v.to_string();
                }
            }
            other => {
                return Err(e(format!(
                    "unknown parameter {other:?} for an s3 destination; supported: endpoint, region, path_style, access_key_env, secret_key_env"
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
        assert_eq!(s.access_key_env, "AWS_ACCESS_KEY_ID");
        let refusals = [
            ("s3://KEY:hunter2pass@bkt/x", "holds no credentials"),
            ("s3://ab/x", "not a bucket name"),
            ("s3://Bad_Bucket/x", "not a bucket name"),
            ("s3://bkt?endpoint=ftp://x", "not an http(s) URL"),
            ("s3://bkt?path_style=yes", "use true or false"),
            ("s3://bkt?access_key_env=1x", "not an environment variable"),
            ("s3://bkt?acl=public", "unknown parameter"),
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
