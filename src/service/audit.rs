//! Who did what: every state-changing operation of the service records an
//! audit entry, whoever called it (the API, the dashboard, the CLI, platform
//! cron), so the log is complete by construction rather than by each caller
//! remembering. The CLI acts as `cli:<os user>`.

use super::{Sauve, ServiceError};
use crate::auth::{Principal, Scope};
use crate::domain::{Authority, Trigger};
use crate::store::AuditEntry;

/// The one asking for an operation, as the audit log names them.
#[derive(Debug, Clone)]
pub struct Actor {
    label: String,
    ip: Option<String>,
    trigger: Trigger,
    authority: Authority,
}

impl Actor {
    /// Someone at the command line, named by their OS account.
    pub fn cli() -> Actor {
        Actor {
            label: format!("cli:{}", os_user()),
            ip: None,
            trigger: Trigger::Manual,
            authority: Authority::Operator,
        }
    }

    /// An HTTP caller: a person signed in (their clicks are `manual` runs) or
    /// a program with a token (`api` runs).
    pub fn from_principal(principal: &Principal, ip: Option<String>) -> Actor {
        let trigger = match principal {
            Principal::User { .. } => Trigger::Manual,
            Principal::Token { .. } => Trigger::Api,
        };
        Actor {
            label: principal.label(),
            ip,
            trigger,
            authority: Authority::Remote {
                exec: principal.allows(Scope::Exec),
                delete: principal.allows(Scope::BackupsWrite),
            },
        }
    }

    /// Platform cron calling `/api/cron/backup`.
    pub fn cron(ip: Option<String>) -> Actor {
        Actor {
            label: "cron".into(),
            ip,
            trigger: Trigger::Cron,
            authority: Authority::Remote {
                exec: false,
                delete: false,
            },
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// What this actor may write: the operator anything, a remote caller
    /// named secrets, allowed paths, and commands only with `exec`.
    pub fn authority(&self) -> Authority {
        self.authority
    }

    /// What a run this actor asks for is triggered by.
    pub fn trigger(&self) -> Trigger {
        self.trigger
    }
}

/// The OS account running this process, from the password database (not
/// `$USER`, which any caller can set).
fn os_user() -> String {
    // SAFETY: getuid cannot fail; getpwuid_r writes only into the buffers we
    // pass, and pw_name points into `buf`, which outlives its use here.
    unsafe {
        let uid = libc::getuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found);
        if rc == 0 && !found.is_null() && !pwd.pw_name.is_null() {
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned()
        } else {
            format!("uid{uid}")
        }
    }
}

impl Sauve {
    /// Records what `actor` did. An audit entry that cannot be written is
    /// logged, not returned: the operation itself already happened.
    pub(super) async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        target: Option<&str>,
        detail: Option<&str>,
    ) {
        if let Err(e) = self
            .store
            .audit(&actor.label, action, target, detail, actor.ip.as_deref())
            .await
        {
            tracing::error!(error = %e, action, "could not write the audit log");
        }
    }

    pub async fn audit_log(
        &self,
        limit: i64,
        before: Option<&str>,
    ) -> Result<Vec<AuditEntry>, ServiceError> {
        Ok(self.store.audit_log(limit, before).await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cli_is_named_by_its_os_account() {
        let a = super::Actor::cli();
        assert!(
            a.label().starts_with("cli:") && a.label().len() > 4,
            "{}",
            a.label()
        );
        assert_eq!(a.trigger(), crate::domain::Trigger::Manual);
    }
}
