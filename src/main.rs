//! Entry point: parse the command line, run the command, map the outcome to the exit code.

fn main() -> std::process::ExitCode {
    eprintln!("shoe-producer: the producer is not built yet");
    std::process::ExitCode::from(1)
}
