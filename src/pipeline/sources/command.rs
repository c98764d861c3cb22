//! Any command whose stdout is the backup (`redis-cli --rdb -`, `etcdctl snapshot`,
//! an export script), and the matching restore command fed the same bytes on stdin.

use super::super::process::{
    Cancel, SourceError, clean_command, find_tool, run_dump, run_feed, tool_version,
};
use crate::storage::manifest::SourceInfo;
use std::io::{Read, Write};
use std::path::PathBuf;

fn program(argv: &[String]) -> Result<PathBuf, SourceError> {
    let name = &argv[0];
    if name.contains('/') {
        let p = PathBuf::from(name);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(SourceError::Config(format!(
                "the command {name} does not exist"
            )))
        };
    }
    find_tool(&[name.as_str()])
        .ok_or_else(|| SourceError::Config(format!("the command {name:?} was not found in PATH")))
}

pub fn preflight(argv: &[String]) -> Result<SourceInfo, SourceError> {
    let p = program(argv)?;
    Ok(SourceInfo {
        kind: "command".into(),
        name: argv.join(" "),
        server_version: None,
        tool: tool_version(&p).or_else(|| Some(argv[0].clone())),
    })
}

pub fn dump(argv: &[String], cancel: &Cancel, out: &mut dyn Write) -> Result<String, SourceError> {
    let mut cmd = clean_command(program(argv)?);
    cmd.args(&argv[1..]);
    run_dump(&mut cmd, &argv[0], out, cancel)
}

pub fn restore(
    argv: &[String],
    to: Option<&str>,
    input: &mut dyn Read,
    cancel: &Cancel,
) -> Result<String, SourceError> {
    let mut cmd = clean_command(program(argv)?);
    cmd.args(&argv[1..]);
    if let Some(to) = to {
        cmd.env("SAUVE_RESTORE_TARGET", to);
    }
    run_feed(&mut cmd, &argv[0], input, cancel)
}
