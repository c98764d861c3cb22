//! Jobs: create, replace, apply a file of them, delete, read. A job whose
//! schedule changes gets its next fire time recomputed here.

use super::{Actor, Sauve, ServiceError};
use crate::domain::{JobSpec, ValidationErrors};
use crate::store::StoredJob;

impl Sauve {
    pub async fn create_job(
        &self,
        actor: &Actor,
        spec: JobSpec,
    ) -> Result<StoredJob, ServiceError> {
        let valid = spec.validate()?;
        self.guard_job(actor, &valid, None).await?;
        let job = self.store.create_job(&spec).await?;
        self.reschedule(&job).await?;
        self.audit(actor, "job.create", Some(&job.name), None).await;
        Ok(job)
    }

    /// Stores `spec` over the job of that name (or creates it); the next fire
    /// time moves only when the schedule itself changed.
    async fn put_job(&self, spec: &JobSpec) -> Result<(StoredJob, bool), ServiceError> {
        let before = self.store.job(&spec.name).await.ok();
        let (job, created) = self.store.upsert_job(spec).await?;
        let changed = before.is_none_or(|b| {
            (b.spec.schedule.as_deref(), b.spec.timezone.as_deref())
                != (spec.schedule.as_deref(), spec.timezone.as_deref())
        });
        if changed {
            self.reschedule(&job).await?;
        }
        Ok((job, created))
    }

    /// Replaces the spec of an existing job.
    pub async fn update_job(
        &self,
        actor: &Actor,
        spec: JobSpec,
    ) -> Result<StoredJob, ServiceError> {
        let valid = spec.validate()?;
        let before = self.store.job(&spec.name).await?;
        self.guard_job(actor, &valid, before.spec.validate().ok().as_ref())
            .await?;
        let job = self.put_job(&spec).await?.0;
        self.audit(actor, "job.update", Some(&job.name), None).await;
        Ok(job)
    }

    /// Creates the job, or replaces the one of that name (the API's PUT):
    /// one job, so its errors name its own fields (`schedule`), not a
    /// file's entry (`job[0].schedule`).
    pub async fn upsert_job(
        &self,
        actor: &Actor,
        spec: JobSpec,
    ) -> Result<(StoredJob, bool), ServiceError> {
        let valid = spec.validate()?;
        let before = self.store.job(&spec.name).await.ok();
        let before = before.and_then(|b| b.spec.validate().ok());
        self.guard_job(actor, &valid, before.as_ref()).await?;
        let (job, created) = self.put_job(&spec).await?;
        let action = if created { "job.create" } else { "job.update" };
        self.audit(actor, action, Some(&job.name), None).await;
        Ok((job, created))
    }

    /// Validates every spec first: a file with one bad job changes nothing.
    pub async fn apply_jobs(
        &self,
        actor: &Actor,
        specs: Vec<JobSpec>,
    ) -> Result<Vec<(StoredJob, bool)>, ServiceError> {
        let mut errors = ValidationErrors::new();
        let mut seen = std::collections::HashSet::new();
        for (i, spec) in specs.iter().enumerate() {
            match spec.validate() {
                Err(e) => errors.extend_prefixed(&format!("job[{i}]"), e),
                Ok(valid) => {
                    let before = self.store.job(&spec.name).await.ok();
                    let before = before.and_then(|b| b.spec.validate().ok());
                    match self.guard_job(actor, &valid, before.as_ref()).await {
                        Err(ServiceError::Invalid(e)) => {
                            errors.extend_prefixed(&format!("job[{i}]"), e)
                        }
                        Err(other) => return Err(other),
                        Ok(()) => {}
                    }
                }
            }
            if !seen.insert(spec.name.clone()) {
                errors.push(
                    format!("job[{i}].name"),
                    format!("{:?} appears twice in the file", spec.name),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let mut out = Vec::new();
        for spec in &specs {
            let (job, created) = self.put_job(spec).await?;
            let action = if created { "job.create" } else { "job.update" };
            self.audit(actor, action, Some(&job.name), None).await;
            out.push((job, created));
        }
        Ok(out)
    }

    pub async fn job(&self, name: &str) -> Result<StoredJob, ServiceError> {
        Ok(self.store.job(name).await?)
    }

    pub async fn jobs(&self) -> Result<Vec<StoredJob>, ServiceError> {
        Ok(self.store.jobs().await?)
    }

    pub async fn delete_job(&self, actor: &Actor, name: &str) -> Result<(), ServiceError> {
        self.store.delete_job(name).await?;
        self.audit(actor, "job.delete", Some(name), None).await;
        Ok(())
    }
}
