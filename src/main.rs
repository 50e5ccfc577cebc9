//! Entry point: parse the command line, resolve the configuration, set up logging, run the command,
//! and map the outcome to the exit code with one line on stderr.

use std::{io::Write, process::ExitCode, time::Duration};

use shoe_producer::{
    app::cli::{CliError, Invocation},
    app::config,
    app::logging,
    commands,
    settings::exit::Failure,
    settings::LogFormat,
};

// musl's malloc hands memory back to the kernel so eagerly that a produce run spent about three times
// glibc's system time in page faults; with jemalloc (and build.rs's memcpy) the static x86_64 musl binary
// costs about what the glibc one does. On aarch64 jemalloc cut a produce run's system time to 0.3-0.5x
// and its CPU to 0.92-0.95x of musl's malloc, measured under qemu (README, Building and packaging).
// `--version` names the allocator.
#[cfg(all(
    target_env = "musl",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let invocation = match Invocation::parse_from(std::env::args_os()) {
        Ok(invocation) => invocation,
        Err(CliError::Display(help)) => {
            let _ = help.print();
            return ExitCode::SUCCESS;
        }
        Err(CliError::Usage(line)) => return fail(LogFormat::Text, Failure::usage(line)),
    };
    let early_format = invocation.early_log_format();
    let resolved = match invocation.resolve(&config::process_env) {
        Ok(resolved) => resolved,
        Err(error) => return fail(early_format, error.into()),
    };
    let format = resolved.config.log_format;
    let color = resolved.config.color;
    if let Err(error) = logging::init(format, color, invocation.verbose, invocation.quiet) {
        return fail(format, error.into());
    }
    for warning in &resolved.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return fail(
                format,
                Failure::runtime(format!("cannot start the async runtime: {error}")),
            )
        }
    };
    let outcome = runtime.block_on(commands::dispatch(invocation.command, &resolved.config));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(format, failure),
    }
}

/// Prints the failure's one line on stderr and returns its exit code.
fn fail(format: LogFormat, failure: Failure) -> ExitCode {
    let _ = std::io::stdout().flush();
    logging::print_failure(format, &failure);
    ExitCode::from(failure.exit_code())
}
