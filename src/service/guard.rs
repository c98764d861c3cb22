//! What a caller may write, checked once for every way in (jobs created,
//! replaced or applied, sources and destinations tested, restore targets):
//! the rules of `domain::authority`, with local paths resolved here (symlinks
//! followed) so that `/srv/link -> /etc` is judged as `/etc`.

use super::{Actor, Sauve, ServiceError};
use crate::domain::authority::{self, Authority, PathRules, PathUse};
use crate::domain::{Destination, Job, Source, ValidationErrors};
use std::path::{Component, Path, PathBuf};

/// `path` as the kernel will see it now: made absolute against the working
/// directory, its longest existing prefix resolved by the kernel itself
/// (`link/..` is the link target's parent, not the link's), and only the
/// part that does not exist yet (which holds no symlink) folded by hand.
pub(super) fn resolve(path: &Path) -> PathBuf {
    let absolute = if path.is_relative() {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    } else {
        path.to_path_buf()
    };
    let parts: Vec<Component> = absolute.components().collect();
    for existing in (1..=parts.len()).rev() {
        let prefix: PathBuf = parts[..existing].iter().collect();
        let Ok(mut real) = prefix.canonicalize() else {
            continue;
        };
        for c in &parts[existing..] {
            match c {
                Component::ParentDir => {
                    real.pop();
                }
                Component::Normal(n) => real.push(n),
                Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            }
        }
        return real;
    }
    PathBuf::from("/")
}

/// The rules with every path resolved the same way as the paths checked.
pub(super) fn resolved_rules(allowed: &[PathBuf], protected: &[PathBuf]) -> PathRules {
    PathRules {
        allowed: allowed.iter().map(|p| resolve(p)).collect(),
        protected: protected.iter().map(|p| resolve(p)).collect(),
    }
}

/// The refusal when `who` is a remote caller without `exec` and `needed`:
/// a command runs a program on the server, so an admin hands `exec` out by
/// name (`--scope …,exec`), or the operator writes the job.
fn exec_refusal(who: Authority, needed: bool) -> Option<ServiceError> {
    (needed && matches!(who, Authority::Remote { exec: false, .. }))
        .then(|| ServiceError::Forbidden("exec".into()))
}

/// A retention policy removes backups: writing or changing one needs the
/// permission deleting a backup needs (`backups:write`), not only
/// `jobs:write`. The operator may always.
fn retention_refusal(who: Authority, job: &Job, before: Option<&Job>) -> Option<ServiceError> {
    // Where a policy with keep rules applies, and which: a destination added
    // with no rules, or a job without any, removes nothing.
    let policies = |j: &Job| -> Vec<(Destination, crate::policy::retention::Policy)> {
        j.destinations
            .iter()
            .cloned()
            .zip(j.retention.iter().cloned())
            .filter(|(_, p)| !p.rules.is_empty())
            .collect()
    };
    let (now, was) = (policies(job), before.map(policies).unwrap_or_default());
    let changed = now.len() != was.len() || now.iter().any(|p| !was.contains(p));
    (changed && matches!(who, Authority::Remote { delete: false, .. })).then(|| {
        ServiceError::Forbidden("backups:write (a retention policy removes backups)".into())
    })
}

fn done(errors: ValidationErrors) -> Result<(), ValidationErrors> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

impl Sauve {
    fn check_path(
        &self,
        who: Authority,
        field: &str,
        path: &Path,
        what: PathUse,
    ) -> ValidationErrors {
        match self.paths.check(&resolve(path), what, who) {
            Ok(()) => ValidationErrors::new(),
            Err(m) => ValidationErrors::single(field, m),
        }
    }

    /// Whether `actor` may store `job` over `before` (the job as stored).
    pub(super) async fn guard_job(
        &self,
        actor: &Actor,
        job: &Job,
        before: Option<&Job>,
    ) -> Result<(), ServiceError> {
        let who = actor.authority();
        if let Some(e) = exec_refusal(who, authority::job_needs_exec(job, before)) {
            return Err(e);
        }
        if let Some(e) = retention_refusal(who, job, before) {
            return Err(e);
        }
        let mut errors = match who {
            Authority::Operator => ValidationErrors::new(),
            Authority::Remote { .. } => authority::check_remote_job(job, before),
        };
        for (field, path, what) in authority::job_paths(job) {
            // Kept only if it was this very use: the operator's destination
            // does not become a remote caller's source.
            let kept = before.is_some_and(|b| {
                authority::job_paths(b)
                    .iter()
                    .any(|(_, p, u)| *p == path && *u == what)
            });
            if !kept {
                errors.extend_prefixed("", self.check_path(who, &field, &path, what));
            }
        }
        Ok(done(errors)?)
    }

    /// Whether `actor` may test this source (a connection is about to be made).
    pub(super) async fn guard_source(
        &self,
        actor: &Actor,
        source: &Source,
    ) -> Result<(), ServiceError> {
        let who = actor.authority();
        if let Some(e) = exec_refusal(who, matches!(source, Source::Command { .. })) {
            return Err(e);
        }
        let mut errors = ValidationErrors::new();
        if let Authority::Remote { .. } = who {
            authority::check_source(source, "source", &mut errors);
        }
        if let Source::Sqlite { path } | Source::Files { root: path, .. } = source {
            errors.extend_prefixed("", self.check_path(who, "source", path, PathUse::Source));
        }
        Ok(done(errors)?)
    }

    /// Whether `actor` may open this destination (to test it).
    pub(super) async fn guard_destination(
        &self,
        actor: &Actor,
        dest: &Destination,
        field: &str,
    ) -> Result<(), ServiceError> {
        let who = actor.authority();
        let mut errors = ValidationErrors::new();
        if let Authority::Remote { .. } = who {
            authority::check_destination(dest, field, &mut errors);
        }
        if let Destination::Local { root } = dest {
            errors.extend_prefixed("", self.check_path(who, field, root, PathUse::Destination));
        }
        Ok(done(errors)?)
    }

    /// Whether `actor` may send to this channel (to test it): a remote
    /// caller names secrets only, and no clear-text or internal host.
    pub(super) fn guard_channel(
        &self,
        actor: &Actor,
        channel: &crate::domain::Channel,
        field: &str,
    ) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let Authority::Remote { .. } = actor.authority() {
            authority::check_channel(channel, field, &mut errors);
        }
        errors.into_result(())
    }

    /// Whether `actor` may restore into `target` (a path, a database URI or
    /// the value handed to a job's restore command).
    pub(super) async fn guard_restore_target(
        &self,
        actor: &Actor,
        target: &crate::pipeline::sources::RestoreTarget,
    ) -> Result<(), ServiceError> {
        use crate::pipeline::sources::RestoreTarget;
        let who = actor.authority();
        let mut errors = ValidationErrors::new();
        match target {
            RestoreTarget::Sqlite(p) | RestoreTarget::Files(p) => {
                errors.extend_prefixed("", self.check_path(who, "to", p, PathUse::RestoreTarget));
                // Nor where backups are kept: a forced restore there would
                // replace the backups themselves.
                let target = resolve(p);
                for job in self.store.jobs().await? {
                    let Ok(valid) = job.spec.validate() else {
                        continue;
                    };
                    for d in &valid.destinations {
                        let crate::domain::Destination::Local { root } = d else {
                            continue;
                        };
                        let root = resolve(root);
                        if target.starts_with(&root) || root.starts_with(&target) {
                            errors.push(
                                "to",
                                format!(
                                    "{} cannot be a restore target: it holds or lies inside {}, where job {} keeps its backups, whatever --force says",
                                    p.display(),
                                    root.display(),
                                    job.name
                                ),
                            );
                        }
                    }
                }
            }
            RestoreTarget::Postgres(c) | RestoreTarget::Mysql(c) => {
                if let Authority::Remote { .. } = who {
                    authority::check_source(&Source::Postgres(c.clone()), "to", &mut errors);
                }
            }
            RestoreTarget::Command { .. } => {
                if let Some(e) = exec_refusal(who, true) {
                    return Err(e);
                }
            }
        }
        Ok(done(errors)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_folds_dots_and_follows_symlinks() {
        let dir = std::env::temp_dir().join(format!("sauve-guard-{}", crate::domain::new_id()));
        std::fs::create_dir_all(dir.join("real")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.join("etc-link")).unwrap();
        let base = dir.canonicalize().unwrap();
        assert_eq!(
            resolve(&dir.join("real/../real/./x/y")),
            base.join("real/x/y")
        );
        assert_eq!(
            resolve(&dir.join("etc-link/shadow")),
            PathBuf::from("/etc/shadow")
        );
        assert_eq!(resolve(Path::new("/../../etc")), PathBuf::from("/etc"));
        // The kernel's `..`: the parent of where the link points, not of the link.
        assert_eq!(
            resolve(&dir.join("etc-link/../root")),
            PathBuf::from("/root")
        );
        assert_eq!(resolve(&dir.join("nope/../real")), base.join("real"));
        let cwd = std::env::current_dir().unwrap().canonicalize().unwrap();
        assert_eq!(resolve(Path::new("./sauve-data")), cwd.join("sauve-data"));
        assert_eq!(resolve(Path::new(".")), cwd);
        assert_eq!(resolve(Path::new("/")), PathBuf::from("/"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
