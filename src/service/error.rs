//! The one classification of every error the service returns: `kind()` says
//! whose fault it is and what kind of failure, and that kind is mapped once to
//! an exit code (the CLI) and once to an HTTP status (the API), here, side by
//! side, so the two cannot disagree.

use crate::domain::{RunKind, ValidationErrors};
use crate::pipeline::PipelineError;
use crate::pipeline::codec::CodecError;
use crate::pipeline::process::SourceError;
use crate::restore::RestoreError;
use crate::runner::RunError;
use crate::storage::StorageError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A run executed for the caller (in the foreground) failed.
    #[error("{kind} of job {job} failed (run {run_id}): {error}")]
    Run {
        kind: RunKind,
        job: String,
        run_id: String,
        /// Boxed: the run's error is large and every other variant small.
        error: Box<RunError>,
    },
    #[error(transparent)]
    Source(SourceError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Restore(#[from] RestoreError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("cannot write {path}: {source}")]
    Output {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A notification sent for the caller (`notify test`) did not go out.
    #[error("the test notification was not sent: {0}")]
    Notify(#[from] crate::notify::SendError),
    #[error("sign in, or send Authorization: Bearer <token> (sauve token create)")]
    Unauthorized,
    #[error("this needs the {0} permission, which the caller does not have")]
    Forbidden(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What kind of failure an error is. The exit code and the HTTP status follow
/// from it and from nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is wrong (a field, a URI, a key, a variable it names).
    Invalid,
    NotFound,
    /// The input is fine but clashes with the current state (a name taken, a
    /// job already running, a target that holds data).
    Conflict,
    Unauthorized,
    Forbidden,
    /// The work ran and failed for a reason outside Sauve: a source or a
    /// restore tool failed, an artifact is damaged.
    Failed,
    /// The metadata store or a storage service did not answer or refused.
    Unavailable,
    /// A bug or an impossible state in Sauve.
    Internal,
}

impl ErrorKind {
    /// 2 when the caller's input is at fault (fix the command), 1 when it failed.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Invalid
            | ErrorKind::NotFound
            | ErrorKind::Conflict
            | ErrorKind::Unauthorized
            | ErrorKind::Forbidden => 2,
            ErrorKind::Failed | ErrorKind::Unavailable | ErrorKind::Internal => 1,
        }
    }

    /// 4xx exactly when the exit code is 2.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::Invalid => 422,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::Failed => 502,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

fn store_kind(e: &StoreError) -> ErrorKind {
    match e {
        StoreError::NotFound { .. } => ErrorKind::NotFound,
        StoreError::Ambiguous { .. } | StoreError::UnsupportedUrl(_) => ErrorKind::Invalid,
        StoreError::JobExists(_)
        | StoreError::UserExists(_)
        | StoreError::AlreadyRunning(_)
        | StoreError::PurgeStarted(_)
        | StoreError::NewerSchema { .. } => ErrorKind::Conflict,
        StoreError::Open { .. } | StoreError::Query { .. } => ErrorKind::Unavailable,
        StoreError::Migrate(_) | StoreError::Corrupt(_) => ErrorKind::Internal,
    }
}

fn storage_kind(e: &StorageError) -> ErrorKind {
    match e {
        // The destination as written cannot be opened (a missing credential
        // variable, a bad setting): the caller's to fix.
        StorageError::Open { .. } => ErrorKind::Invalid,
        StorageError::Missing { .. } => ErrorKind::NotFound,
        StorageError::Op { .. } => ErrorKind::Unavailable,
        StorageError::Manifest(_) => ErrorKind::Failed,
    }
}

fn source_kind(e: &SourceError) -> ErrorKind {
    match e {
        SourceError::TargetRefused { .. } => ErrorKind::Conflict,
        SourceError::Credential(_) => ErrorKind::Invalid,
        _ => ErrorKind::Failed,
    }
}

fn codec_kind(e: &CodecError) -> ErrorKind {
    match e {
        // Keys are the caller's: a missing passphrase variable, a wrong one, an
        // identity file that does not open.
        CodecError::PassphraseUnset(_)
        | CodecError::IdentityFile { .. }
        | CodecError::NoIdentity
        | CodecError::WrongKey(_)
        | CodecError::NotPassphrase
        | CodecError::NotRecipients => ErrorKind::Invalid,
        CodecError::Setup(_) => ErrorKind::Internal,
    }
}

fn restore_kind(e: &RestoreError) -> ErrorKind {
    match e {
        RestoreError::Codec(c) => codec_kind(c),
        RestoreError::Source(s) => source_kind(s),
        RestoreError::Storage(s) => storage_kind(s),
        RestoreError::ChecksumMismatch { .. } | RestoreError::Decompress { .. } => {
            ErrorKind::Failed
        }
        RestoreError::Cancelled => ErrorKind::Failed,
        RestoreError::Internal(_) => ErrorKind::Internal,
    }
}

fn pipeline_kind(e: &PipelineError) -> ErrorKind {
    match e {
        PipelineError::Source(s) => source_kind(s),
        PipelineError::Codec(c) => codec_kind(c),
        PipelineError::AllDestinationsFailed(_) => ErrorKind::Unavailable,
        PipelineError::Cancelled => ErrorKind::Failed,
        PipelineError::Internal(_) => ErrorKind::Internal,
    }
}

fn notify_kind(e: &crate::notify::SendError) -> ErrorKind {
    use crate::notify::SendError;
    match e {
        // The channel as written cannot be used: the caller's to fix.
        SendError::Credential(_) | SendError::Invalid(_) => ErrorKind::Invalid,
        SendError::Refused { .. } | SendError::Unreachable { .. } | SendError::Smtp { .. } => {
            ErrorKind::Failed
        }
    }
}

fn run_kind(e: &RunError) -> ErrorKind {
    match e {
        RunError::Backup(p) => pipeline_kind(p),
        RunError::Restore(r) => restore_kind(r),
        RunError::Keys(c) => codec_kind(c),
        RunError::Invalid(_) => ErrorKind::Invalid,
        RunError::Store(s) => store_kind(s),
        RunError::Storage(s) => storage_kind(s),
        RunError::Gone(_) => ErrorKind::NotFound,
        RunError::Timeout { .. } | RunError::Cancelled => ErrorKind::Failed,
        RunError::LeaseLost => ErrorKind::Unavailable,
        RunError::Internal(_) => ErrorKind::Internal,
        RunError::Failed(_) | RunError::TestRestore(_) => ErrorKind::Failed,
    }
}

impl ServiceError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ServiceError::Invalid(_) => ErrorKind::Invalid,
            ServiceError::Store(e) => store_kind(e),
            ServiceError::Run { error, .. } => run_kind(error),
            ServiceError::Source(e) => source_kind(e),
            ServiceError::Storage(e) => storage_kind(e),
            ServiceError::Restore(e) => restore_kind(e),
            ServiceError::Codec(e) => codec_kind(e),
            ServiceError::Output { .. } => ErrorKind::Failed,
            ServiceError::Notify(e) => notify_kind(e),
            ServiceError::Unauthorized => ErrorKind::Unauthorized,
            ServiceError::Forbidden(_) => ErrorKind::Forbidden,
            ServiceError::Internal(_) => ErrorKind::Internal,
        }
    }

    /// A stable, more precise name than the kind, for the API's `code`.
    pub fn code(&self) -> &'static str {
        let restore = |r: &RestoreError| match r {
            RestoreError::Source(SourceError::TargetRefused { .. }) => Some("target_not_empty"),
            RestoreError::ChecksumMismatch { .. } => Some("corrupted"),
            RestoreError::Codec(_) => Some("keys"),
            _ => None,
        };
        let specific = match self {
            ServiceError::Store(StoreError::Ambiguous { .. }) => Some("ambiguous_id"),
            ServiceError::Store(StoreError::AlreadyRunning(_)) => Some("already_running"),
            ServiceError::Restore(r) => restore(r),
            ServiceError::Run { error, .. } => match error.as_ref() {
                RunError::Restore(r) => restore(r),
                RunError::Store(StoreError::AlreadyRunning(_)) => Some("already_running"),
                RunError::Keys(_) => Some("keys"),
                RunError::TestRestore(_) => Some("test_restore_failed"),
                _ => None,
            },
            ServiceError::Codec(_) => Some("keys"),
            _ => None,
        };
        specific.unwrap_or(match self.kind() {
            ErrorKind::Invalid => "invalid",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Failed => "failed",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        })
    }

    pub fn exit_code(&self) -> u8 {
        self.kind().exit_code()
    }

    pub fn http_status(&self) -> u16 {
        self.kind().http_status()
    }

    /// The fields at fault, for a 4xx answer that names them.
    pub fn validation(&self) -> Option<&ValidationErrors> {
        match self {
            ServiceError::Invalid(v) => Some(v),
            ServiceError::Run { error, .. } => match error.as_ref() {
                RunError::Invalid(v) => Some(v),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Errors of the runner's helpers (locating a backup) that the service passes
/// on as its own.
impl From<RunError> for ServiceError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::Invalid(v) => ServiceError::Invalid(v),
            RunError::Store(s) => ServiceError::Store(s),
            RunError::Storage(s) => ServiceError::Storage(s),
            RunError::Restore(r) => ServiceError::Restore(*r),
            RunError::Keys(c) => ServiceError::Codec(c),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names every variant without a wildcard: adding one fails to compile here
    /// until it has a sample below.
    fn variant(e: &ServiceError) -> &'static str {
        match e {
            ServiceError::Invalid(_) => "Invalid",
            ServiceError::Store(_) => "Store",
            ServiceError::Run { .. } => "Run",
            ServiceError::Source(_) => "Source",
            ServiceError::Storage(_) => "Storage",
            ServiceError::Restore(_) => "Restore",
            ServiceError::Codec(_) => "Codec",
            ServiceError::Output { .. } => "Output",
            ServiceError::Notify(_) => "Notify",
            ServiceError::Unauthorized => "Unauthorized",
            ServiceError::Forbidden(_) => "Forbidden",
            ServiceError::Internal(_) => "Internal",
        }
    }
    const VARIANTS: usize = 12;

    fn sql() -> sqlx::Error {
        sqlx::Error::PoolTimedOut
    }

    fn run(error: impl Into<RunError>) -> ServiceError {
        ServiceError::Run {
            kind: RunKind::Backup,
            job: "app".into(),
            run_id: "01r".into(),
            error: Box::new(error.into()),
        }
    }

    fn op() -> StorageError {
        StorageError::Op {
            op: "write",
            key: "k".into(),
            uri: "s3://b".into(),
            reason: "503".into(),
        }
    }

    fn refused() -> SourceError {
        SourceError::TargetRefused {
            target: "/srv/x".into(),
            why: "not empty".into(),
        }
    }

    fn tool_missing() -> SourceError {
        SourceError::ToolMissing {
            tool: "pg_dump",
            hint: "",
        }
    }

    fn unset() -> CodecError {
        CodecError::PassphraseUnset("P".into())
    }

    fn query() -> StoreError {
        StoreError::Query {
            what: "x",
            source: sql(),
        }
    }

    #[test]
    fn the_cli_and_the_api_agree_on_every_error() {
        use ErrorKind::*;
        let mismatch = RestoreError::ChecksumMismatch {
            backup_id: "b".into(),
            job: "j".into(),
            destination: "d".into(),
            key: "k".into(),
            expected: "e".into(),
            actual: "a".into(),
            expected_size: 1,
            actual_size: 2,
        };
        let not_found = StoreError::NotFound {
            what: "job",
            key: "x".into(),
        };
        let ambiguous = StoreError::Ambiguous {
            what: "run",
            key: "0".into(),
        };
        let open = StoreError::Open {
            url: "postgres://h/db".into(),
            source: sql(),
        };
        let output = ServiceError::Output {
            path: "/x".into(),
            source: std::io::Error::other("full"),
        };
        // (error, kind, exit code, HTTP status)
        let table: Vec<(ServiceError, ErrorKind, u8, u16)> = vec![
            (
                ValidationErrors::single("name", "bad").into(),
                Invalid,
                2,
                422,
            ),
            (not_found.into(), NotFound, 2, 404),
            (ambiguous.into(), Invalid, 2, 422),
            (
                StoreError::UnsupportedUrl("ftp://".into()).into(),
                Invalid,
                2,
                422,
            ),
            (StoreError::JobExists("a".into()).into(), Conflict, 2, 409),
            (StoreError::UserExists("a".into()).into(), Conflict, 2, 409),
            (
                StoreError::PurgeStarted("a".into()).into(),
                Conflict,
                2,
                409,
            ),
            (
                StoreError::AlreadyRunning("a".into()).into(),
                Conflict,
                2,
                409,
            ),
            (open.into(), Unavailable, 1, 503),
            (query().into(), Unavailable, 1, 503),
            (StoreError::Corrupt("x".into()).into(), Internal, 1, 500),
            (run(PipelineError::Source(tool_missing())), Failed, 1, 502),
            (run(PipelineError::Codec(unset())), Invalid, 2, 422),
            (
                run(PipelineError::AllDestinationsFailed(vec![])),
                Unavailable,
                1,
                503,
            ),
            (run(PipelineError::Cancelled), Failed, 1, 502),
            (run(RestoreError::Source(refused())), Conflict, 2, 409),
            (run(RestoreError::Storage(op())), Unavailable, 1, 503),
            (run(RestoreError::Cancelled), Failed, 1, 502),
            (run(RunError::Keys(unset())), Invalid, 2, 422),
            (
                run(RunError::Invalid(ValidationErrors::single("to", "bad"))),
                Invalid,
                2,
                422,
            ),
            (run(RunError::Store(query())), Unavailable, 1, 503),
            (run(RunError::Storage(op())), Unavailable, 1, 503),
            (run(RunError::Gone("deleted".into())), NotFound, 2, 404),
            (run(RunError::Timeout { secs: 1 }), Failed, 1, 502),
            (run(RunError::Cancelled), Failed, 1, 502),
            (run(RunError::LeaseLost), Unavailable, 1, 503),
            (run(RunError::Internal("x".into())), Internal, 1, 500),
            (ServiceError::Source(tool_missing()), Failed, 1, 502),
            (
                ServiceError::Source(SourceError::Credential(
                    crate::domain::CredentialError::Unknown(
                        crate::domain::SecretName::parse("db").unwrap(),
                    ),
                )),
                Invalid,
                2,
                422,
            ),
            (op().into(), Unavailable, 1, 503),
            (
                StorageError::Open {
                    uri: "s3://b".into(),
                    reason: "no key".into(),
                }
                .into(),
                Invalid,
                2,
                422,
            ),
            (
                StorageError::Missing {
                    uri: "s3://b".into(),
                    key: "k".into(),
                }
                .into(),
                NotFound,
                2,
                404,
            ),
            (mismatch.into(), Failed, 1, 502),
            (RestoreError::Source(refused()).into(), Conflict, 2, 409),
            (RestoreError::Internal("x".into()).into(), Internal, 1, 500),
            (unset().into(), Invalid, 2, 422),
            (CodecError::Setup("x".into()).into(), Internal, 1, 500),
            (output, Failed, 1, 502),
            (
                crate::notify::SendError::Refused {
                    host: "h".into(),
                    status: 503,
                    retryable: true,
                }
                .into(),
                Failed,
                1,
                502,
            ),
            (
                crate::notify::SendError::Unreachable {
                    host: "h".into(),
                    why: "refused".into(),
                }
                .into(),
                Failed,
                1,
                502,
            ),
            (
                crate::notify::SendError::Credential(crate::domain::CredentialError::Unknown(
                    crate::domain::SecretName::parse("hook").unwrap(),
                ))
                .into(),
                Invalid,
                2,
                422,
            ),
            (
                crate::notify::SendError::Invalid("bad key".into()).into(),
                Invalid,
                2,
                422,
            ),
            (ServiceError::Unauthorized, Unauthorized, 2, 401),
            (ServiceError::Forbidden("restore".into()), Forbidden, 2, 403),
            (ServiceError::Internal("x".into()), Internal, 1, 500),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for (e, kind, exit, status) in &table {
            seen.insert(variant(e));
            assert_eq!(e.kind(), *kind, "{e}");
            assert_eq!(e.exit_code(), *exit, "{e}");
            assert_eq!(e.http_status(), *status, "{e}");
            // The rule itself: the caller's fault is a 4xx and exit 2, a failure
            // is a 5xx and exit 1.
            assert_eq!(
                e.exit_code() == 2,
                (400..500).contains(&e.http_status()),
                "{e}"
            );
            assert!(!e.code().is_empty());
        }
        assert_eq!(seen.len(), VARIANTS, "every variant has a sample: {seen:?}");
    }

    #[test]
    fn specific_codes() {
        let e: ServiceError = StoreError::AlreadyRunning("a".into()).into();
        assert_eq!(e.code(), "already_running");
        let e: ServiceError = StoreError::UserExists("a".into()).into();
        assert_eq!(e.code(), "conflict");
        assert_eq!(
            run(RestoreError::Source(refused())).code(),
            "target_not_empty"
        );
        assert_eq!(run(RunError::Keys(unset())).code(), "keys");
    }
}
