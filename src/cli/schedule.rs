//! `sauve schedule next`: a schedule's next slots, from the schedule alone.

use super::args::ScheduleCommand;
use super::output::json;
use sauve::service::{ServiceError, preview_schedule};

pub(super) fn command(cmd: ScheduleCommand) -> anyhow::Result<()> {
    let ScheduleCommand::Next {
        spec,
        tz,
        from,
        count,
        json: as_json,
    } = cmd;
    let from = from.unwrap_or_else(jiff::Timestamp::now);
    let preview = preview_schedule(&spec, &tz, from, count).map_err(ServiceError::Invalid)?;
    if as_json {
        return json(&preview);
    }
    println!("{}", preview.description);
    for t in &preview.next {
        println!("  {t}");
    }
    Ok(())
}
