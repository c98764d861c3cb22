//! The `sauve` binary: parses the command line and hands it to `cli`.
//! Exit codes: 0 success, 1 the operation failed, 2 the input was wrong; the
//! service's one error classification decides which (`ServiceError::kind`).

mod cli;

use std::io::IsTerminal;

fn main() -> std::process::ExitCode {
    let args = cli::config::parse_args();
    let json = matches!(&args.command, cli::args::Command::Serve(s) if s.log_format == cli::args::LogFormat::Json);
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SAUVE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    if json {
        // One JSON object per line, for log collectors (journald, Loki, …).
        logs.json()
            .flatten_event(true)
            .with_current_span(false)
            .init();
    } else {
        // Colours on a terminal only: a log file or journald gets plain text.
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::output::error_text(&e));
            let code = e
                .downcast_ref::<sauve::service::ServiceError>()
                .map_or(1, sauve::service::ServiceError::exit_code);
            std::process::ExitCode::from(code)
        }
    }
}
