//! Plain types and their validation: jobs, sources, destinations, runs, backups.
//! Everything else points inward to this module; it depends on nothing of ours and
//! does no I/O.

pub mod destination;
pub mod job;
pub mod run;
pub mod source;
pub mod validation;

pub use destination::Destination;
pub use job::{CatchUp, Encryption, EncryptionSpec, Job, JobSpec, Overlap};
pub use run::{Backup, Run, RunState, Trigger};
pub use source::{CommandSpec, DbConn, Source, SourceSpec};
pub use validation::{FieldError, ValidationErrors};

/// Time-sortable unique id (ULID, lower case) for runs and backups.
pub fn new_id() -> String {
    ulid::Ulid::generate().to_string().to_ascii_lowercase()
}
