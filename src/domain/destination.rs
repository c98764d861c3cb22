//! Where backups go, parsed from a destination URI. Only `file://` exists today;
//! object storage adds its schemes here, and the rest of the code only ever sees
//! a [`Destination`] turned into an OpenDAL operator by `storage`.

use super::validation::ValidationErrors;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A directory on a local (or mounted) file system.
    Local { root: PathBuf },
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
            other => Err(e(format!(
                "unknown destination scheme {other:?}: use file:///abs/dir (object storage comes with the s3:// destination)"
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
        }
    }
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
