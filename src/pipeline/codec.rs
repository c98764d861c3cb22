//! The artifact format, both ways: zstd (multithreaded, with frame checksums)
//! then, optionally, age. Artifacts are plain `.zst` or `.zst.age` files that
//! `zstd -d` and `age -d`/`rage -d` open without Sauve.

use crate::domain::Encryption;
use age::secrecy::SecretString;
use std::io::{self, Read, Write};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error(
        "the encryption passphrase variable {0} is not set in Sauve's environment; set it to the passphrase the job encrypts with"
    )]
    PassphraseUnset(String),
    #[error("cannot read the age identity file {path}: {reason}")]
    IdentityFile { path: String, reason: String },
    #[error(
        "this backup is encrypted to age recipients; pass the matching identity (private key) file with --identity FILE or SAUVE_AGE_IDENTITY_FILE"
    )]
    NoIdentity,
    #[error("cannot decrypt: wrong passphrase or identity (age says: {0}). Nothing was restored")]
    WrongKey(String),
    #[error("the backup is encrypted but not with a passphrase; use --identity FILE")]
    NotPassphrase,
    #[error(
        "the backup is encrypted with a passphrase; set the passphrase variable (--passphrase-env)"
    )]
    NotRecipients,
    #[error("encryption setup failed: {0}")]
    Setup(String),
}

/// The scrypt work factor (log2 N) of passphrase-encrypted artifacts: N =
/// 2^16 with age's r = 8 takes 64 MiB and about 0.2 s once per artifact. age
/// would otherwise calibrate to ~1 s of this machine, up to 512 MiB each time
/// (the measured peak of a passphrase backup was 527 MiB). A passphrase is
/// guessed at offline, so what protects it is its length: the README asks for
/// a generated one, against which 2^16 is as good as 2^19. `age -d` opens
/// these artifacts as it opens any other (its limit is far above 2^16).
pub const SCRYPT_LOG_N: u8 = 16;

/// Encryption material resolved from the environment, for writing.
pub enum Sealer {
    Passphrase(SecretString),
    Recipients(Vec<age::x25519::Recipient>),
}

impl Sealer {
    pub fn resolve(enc: &Encryption) -> Result<Sealer, CodecError> {
        match enc {
            Encryption::Passphrase { env } => std::env::var(env)
                .ok()
                .filter(|v| !v.is_empty())
                .map(|v| Sealer::Passphrase(SecretString::from(v)))
                .ok_or_else(|| CodecError::PassphraseUnset(env.clone())),
            Encryption::Recipients(keys) => keys
                .iter()
                .map(|k| {
                    k.parse()
                        .map_err(|e: &str| CodecError::Setup(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Sealer::Recipients),
        }
    }

    fn encryptor(&self) -> Result<age::Encryptor, CodecError> {
        match self {
            Sealer::Passphrase(p) => {
                let mut r = age::scrypt::Recipient::new(p.clone());
                r.set_work_factor(SCRYPT_LOG_N);
                age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
                    .map_err(|e| CodecError::Setup(e.to_string()))
            }
            Sealer::Recipients(rs) => {
                age::Encryptor::with_recipients(rs.iter().map(|r| r as &dyn age::Recipient))
                    .map_err(|e| CodecError::Setup(e.to_string()))
            }
        }
    }
}

/// Keys for reading encrypted artifacts.
#[derive(Default)]
pub struct Keys {
    pub passphrase: Option<SecretString>,
    pub identities: Vec<Box<dyn age::Identity + Send + Sync>>,
}

impl Keys {
    pub fn from_passphrase_env(env: &str) -> Result<Keys, CodecError> {
        let pw = std::env::var(env)
            .ok()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| CodecError::PassphraseUnset(env.to_string()))?;
        Ok(Keys {
            passphrase: Some(SecretString::from(pw)),
            identities: Vec::new(),
        })
    }

    pub fn add_identity_file(&mut self, path: &Path) -> Result<(), CodecError> {
        let err = |reason: String| CodecError::IdentityFile {
            path: path.display().to_string(),
            reason,
        };
        let file = age::IdentityFile::from_file(path.display().to_string())
            .map_err(|e| err(e.to_string()))?;
        self.identities
            .extend(file.into_identities().map_err(|e| err(e.to_string()))?);
        Ok(())
    }
}

/// The write side after zstd: plain, or age-encrypted.
pub enum Sealed<W: Write> {
    Plain(W),
    Age(age::stream::StreamWriter<W>),
}

impl<W: Write> Sealed<W> {
    pub fn new(inner: W, sealer: Option<&Sealer>) -> Result<Self, CodecError> {
        match sealer {
            None => Ok(Sealed::Plain(inner)),
            Some(s) => s
                .encryptor()?
                .wrap_output(inner)
                .map(Sealed::Age)
                .map_err(|e| CodecError::Setup(e.to_string())),
        }
    }

    pub fn finish(self) -> io::Result<W> {
        match self {
            Sealed::Plain(w) => Ok(w),
            Sealed::Age(w) => w.finish(),
        }
    }
}

impl<W: Write> Write for Sealed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sealed::Plain(w) => w.write(buf),
            Sealed::Age(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sealed::Plain(w) => w.flush(),
            Sealed::Age(w) => w.flush(),
        }
    }
}

/// zstd over `inner`, with every core and frame checksums (so a corrupted
/// artifact fails decompression even without the manifest's sha256).
pub fn compressor<W: Write>(
    inner: W,
    level: i32,
) -> io::Result<zstd::stream::write::Encoder<'static, W>> {
    let mut enc = zstd::stream::write::Encoder::new(inner, level)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    enc.multithread(threads)?;
    enc.include_checksum(true)?;
    Ok(enc)
}

/// The read side: decrypt when `encrypted`, then decompress.
pub fn opener<'a, R: Read + 'a>(
    inner: R,
    encrypted: bool,
    keys: &Keys,
) -> Result<Box<dyn Read + 'a>, CodecError> {
    let plain: Box<dyn Read + 'a> = if encrypted {
        let dec = age::Decryptor::new(inner).map_err(|e| CodecError::WrongKey(e.to_string()))?;
        let reader = if dec.is_scrypt() {
            let pw = keys.passphrase.clone().ok_or(CodecError::NotRecipients)?;
            let id = age::scrypt::Identity::new(pw);
            dec.decrypt(std::iter::once(&id as &dyn age::Identity))
        } else {
            if keys.identities.is_empty() {
                return Err(if keys.passphrase.is_some() {
                    CodecError::NotPassphrase
                } else {
                    CodecError::NoIdentity
                });
            }
            dec.decrypt(
                keys.identities
                    .iter()
                    .map(|i| i.as_ref() as &dyn age::Identity),
            )
        }
        .map_err(|e| CodecError::WrongKey(e.to_string()))?;
        Box::new(reader)
    } else {
        Box::new(inner)
    };
    let decoder =
        zstd::stream::read::Decoder::new(plain).map_err(|e| CodecError::Setup(e.to_string()))?;
    Ok(Box::new(decoder))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(data: &[u8], sealer: Option<&Sealer>) -> Vec<u8> {
        let sealed = Sealed::new(Vec::new(), sealer).unwrap();
        let mut enc = compressor(sealed, 3).unwrap();
        enc.write_all(data).unwrap();
        enc.finish().unwrap().finish().unwrap()
    }

    fn open(bytes: &[u8], encrypted: bool, keys: &Keys) -> Result<Vec<u8>, String> {
        let mut r = opener(bytes, encrypted, keys).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        r.read_to_end(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    /// A passphrase artifact names its work factor in its header (`-> scrypt
    /// SALT LOG_N`): the fixed one, whatever this machine's speed, and it opens.
    #[test]
    fn passphrase_artifacts_use_the_fixed_work_factor() {
        let pw = SecretString::from("a generated passphrase of some length".to_string());
        let sealed = seal(b"data", Some(&Sealer::Passphrase(pw.clone())));
        let header = String::from_utf8_lossy(&sealed[..sealed.len().min(200)]);
        let stanza = header
            .lines()
            .find(|l| l.starts_with("-> scrypt "))
            .expect("a scrypt stanza");
        assert_eq!(
            stanza.split(' ').nth(3),
            Some(SCRYPT_LOG_N.to_string().as_str()),
            "{stanza}"
        );
        let keys = Keys {
            passphrase: Some(pw),
            ..Default::default()
        };
        assert_eq!(open(&sealed, true, &keys).unwrap(), b"data");
    }

    #[test]
    fn round_trips_and_refusals() {
        let data: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 1000).to_le_bytes())
            .collect();

        let plain = seal(&data, None);
        assert!(plain.len() < data.len() / 4, "compressible data compresses");
        assert_eq!(open(&plain, false, &Keys::default()).unwrap(), data);

        let id = age::x25519::Identity::generate();
        let sealed = seal(&data, Some(&Sealer::Recipients(vec![id.to_public()])));
        let mut keys = Keys::default();
        assert!(
            open(&sealed, true, &keys)
                .unwrap_err()
                .contains("--identity")
        );
        keys.identities.push(Box::new(id));
        assert_eq!(open(&sealed, true, &keys).unwrap(), data);
        let other = Keys {
            identities: vec![Box::new(age::x25519::Identity::generate())],
            ..Default::default()
        };
        assert!(
            open(&sealed, true, &other)
                .unwrap_err()
                .contains("wrong passphrase or identity")
        );

        let mut flipped = plain.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x40;
        assert!(
            open(&flipped, false, &Keys::default()).is_err(),
            "zstd checksums catch damage"
        );
    }
}
