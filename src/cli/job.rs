//! `sauve job …`: create, change, list, show, delete, apply and export jobs.

use super::args::{JobCommand, JobFile};
use super::output::{self, print_next_fire};
use anyhow::Context;
use sauve::domain::{EncryptionSpec, JobSpec, SourceSpec};
use sauve::service::{Actor, Sauve, ServiceError};

pub(super) async fn command(sauve: &Sauve, cmd: JobCommand) -> anyhow::Result<()> {
    let actor = Actor::cli();
    match cmd {
        JobCommand::Create {
            name,
            source,
            destinations,
            compression_level,
            encrypt_passphrase_env,
            encrypt_recipients,
            schedule,
            tz,
            keep,
            notify,
            max_age,
            remind_every,
        } => {
            let encryption = (encrypt_passphrase_env.is_some() || !encrypt_recipients.is_empty())
                .then_some(EncryptionSpec {
                    passphrase_env: encrypt_passphrase_env,
                    recipients: encrypt_recipients,
                });
            let job = sauve
                .create_job(
                    &actor,
                    JobSpec {
                        compression_level,
                        encryption,
                        schedule,
                        timezone: tz,
                        retention: keep.spec(),
                        notify,
                        max_age,
                        remind_every,
                        ..JobSpec::new(name, SourceSpec::Uri(source), destinations)
                    },
                )
                .await?;
            println!("created job {}", job.name);
            print_next_fire(&job.spec);
        }
        JobCommand::SetSchedule {
            name,
            spec,
            tz,
            clear,
        } => {
            let mut job = sauve.job(&name).await?.spec;
            if clear {
                job.schedule = None;
                job.timezone = None;
            } else {
                job.schedule = spec;
                job.timezone = tz.or(job.timezone);
            }
            let job = sauve.update_job(&actor, job).await?;
            match &job.spec.schedule {
                None => println!("job {name} has no schedule: it runs only on demand"),
                Some(_) => print_next_fire(&job.spec),
            }
        }
        JobCommand::List { json } => {
            let jobs = sauve.jobs().await?;
            if json {
                let list: Vec<_> = jobs.iter().map(|j| &j.spec).collect();
                output::json(&list)?;
            } else if jobs.is_empty() {
                println!(
                    "no jobs yet: create one with `sauve job create NAME --source URI --dest URI`"
                );
            } else {
                println!(
                    "{:<24} {:<9} {:<28} {:<26} DESTINATIONS",
                    "NAME", "SOURCE", "SCHEDULE", "NEXT RUN"
                );
                for j in jobs {
                    let kind = j
                        .spec
                        .validate()
                        .map(|v| v.source.kind())
                        .unwrap_or("invalid");
                    let schedule = match (&j.spec.schedule, &j.spec.timezone) {
                        (None, _) => "on demand".to_string(),
                        (Some(s), None) => s.clone(),
                        (Some(s), Some(tz)) => format!("{s} ({tz})"),
                    };
                    let next = match sauve.next_fire(&j).await? {
                        Some(t) => {
                            let tz = j.spec.timezone.as_deref().unwrap_or("UTC");
                            jiff::tz::TimeZone::get(tz)
                                .map(|z| {
                                    t.to_zoned_datetime(z)
                                        .strftime("%Y-%m-%d %H:%M:%S %:z")
                                        .to_string()
                                })
                                .unwrap_or_else(|_| t.to_string())
                        }
                        None => "-".to_string(),
                    };
                    println!(
                        "{:<24} {:<9} {:<28} {:<26} {}",
                        j.name,
                        kind,
                        schedule,
                        next,
                        j.spec.destination_uris().collect::<Vec<_>>().join(", ")
                    );
                }
            }
        }
        JobCommand::Show { name, json } => {
            let job = sauve.job(&name).await?;
            if json {
                output::json(&job.spec)?;
            } else {
                print!(
                    "{}",
                    toml::to_string(&JobFile {
                        job: vec![job.spec]
                    })?
                );
            }
        }
        JobCommand::Delete { name } => {
            sauve.delete_job(&actor, &name).await?;
            println!("deleted job {name} (its backups stay in storage and in `sauve backup list`)");
        }
        JobCommand::Apply { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let parsed: JobFile = toml::from_str(&text).map_err(|e| {
                ServiceError::Invalid(sauve::domain::ValidationErrors::single(
                    file.display().to_string(),
                    format!("not a valid job file: {e}"),
                ))
            })?;
            for (job, created) in sauve.apply_jobs(&actor, parsed.job).await? {
                println!(
                    "{} job {}",
                    if created { "created" } else { "updated" },
                    job.name
                );
            }
        }
        JobCommand::Export { name } => {
            let specs = match name {
                Some(n) => vec![sauve.job(&n).await?.spec],
                None => sauve.jobs().await?.into_iter().map(|j| j.spec).collect(),
            };
            print!("{}", toml::to_string(&JobFile { job: specs })?);
        }
    }
    Ok(())
}
