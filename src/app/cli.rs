//! The command line as users meet it, built from the setting declarations.
//!
//! clap's builder API rather than its derive: the declarations are a table, and the derive would need
//! a struct field per setting restating its flag, help and default — the copies this design removes.
//! A loop over the table gives the arguments, with `[env: …]`, `[default: …]` and
//! `[possible values: …]` in the help.
//!
//! Values stay text here: `config` merges them with the environment and the `--config` file and
//! validates them all in one place, so a bad value gets the same one-line message whatever its source.
//! clap does not read environment variables itself; `config` does, through an injectable lookup.

use std::ffi::{OsStr, OsString};

use clap::{
    builder::{PossibleValue, TypedValueParser},
    error::ErrorKind,
    parser::ValueSource,
    Arg, ArgAction, ArgMatches,
};

use crate::app::config::{
    declarations::{self, ALL},
    setting::{Kind, Spec},
};

const AFTER_HELP: &str = "\
Each setting is taken from, in order of precedence: a command-line flag, then its environment \
variable, then the --config file, then the default shown. Without --count or --duration, produce \
runs until SIGINT/SIGTERM (a second signal stops at once, exit code 130).

Exit codes: 0 every record acknowledged; 1 runtime failure (a record failed, broker or registry \
unreachable, credentials rejected); 2 invalid usage or configuration (found before any network I/O).";

/// What to do; `produce` when no command is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Generate, serialize and produce shoes (the default command).
    Produce,
    /// Connect to Kafka and the Schema Registry and print what was reached.
    Check,
    /// Register (or look up) the schema for the subject and print its id.
    Register,
    /// Print generated shoes as JSON lines; no network.
    Sample,
}

impl Command {
    /// The commands that take settings, in the order `--help` lists them.
    pub const WITH_SETTINGS: [Command; 4] = [
        Command::Produce,
        Command::Check,
        Command::Register,
        Command::Sample,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Produce => "produce",
            Self::Check => "check",
            Self::Register => "register",
            Self::Sample => "sample",
        }
    }

    fn about(self) -> &'static str {
        match self {
            Self::Produce => "Generate, serialize and produce shoes (the default command)",
            Self::Check => {
                "Connect to Kafka and the Schema Registry and print what was reached; exit 0 when \
                 all is well, 1 otherwise"
            }
            Self::Register => "Register (or look up) the schema for the subject and print its id",
            Self::Sample => {
                "Print --count generated shoes as JSON lines (10 by default); no network"
            }
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::WITH_SETTINGS.into_iter().find(|c| c.name() == name)
    }
}

/// The whole command line: every setting's flag at the top (no command means produce) and on each
/// command.
pub fn command() -> clap::Command {
    let root = clap::Command::new("shoe-producer")
        .version(env!("CARGO_PKG_VERSION"))
        .about(
            "Generates random Shoe events, registers their Protobuf schema in a Schema Registry \
             and produces them to Kafka in Confluent's wire format.",
        )
        .after_help(AFTER_HELP)
        .max_term_width(110);
    let mut root = with_settings(root);
    for command in Command::WITH_SETTINGS {
        let sub = clap::Command::new(command.name())
            .about(command.about())
            .after_help(AFTER_HELP);
        root = root.subcommand(with_settings(sub));
    }
    root
}

/// Adds an argument for every setting; validation reads those the command uses.
fn with_settings(mut clap_command: clap::Command) -> clap::Command {
    for setting in ALL {
        clap_command = clap_command.arg(argument(setting.spec()));
    }
    clap_command
}

fn argument(spec: &'static Spec) -> Arg {
    let mut help = spec.help_text();
    if let Some(env) = spec.env {
        help.push_str(&format!(" [env: {env}]"));
    }
    if let Some(default) = spec.default {
        help.push_str(&format!(" [default: {default}]"));
    }
    let mut arg = Arg::new(spec.long)
        .long(spec.long)
        .visible_aliases(spec.aliases)
        .help(help)
        .help_heading(spec.heading.title());
    if let Some(short) = spec.short {
        arg = arg.short(short);
    }
    if let Some(other) = spec.conflicts_with {
        arg = arg.conflicts_with(other);
    }
    match spec.kind {
        Kind::Value => arg
            .value_name(spec.value_name)
            .action(ArgAction::Set)
            .allow_negative_numbers(true)
            .value_parser(Text(spec)),
        Kind::Switch => arg.action(ArgAction::SetTrue),
        Kind::Count => arg.action(ArgAction::Count),
    }
}

/// Takes a value as text (validation comes later, with the other sources) while telling clap the
/// possible values, for help and completions.
#[derive(Clone)]
struct Text(&'static Spec);

impl TypedValueParser for Text {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        value.to_str().map(str::to_owned).ok_or_else(|| {
            clap::Error::raw(
                ErrorKind::InvalidUtf8,
                format!("--{}: the value is not valid UTF-8 text\n", self.0.long),
            )
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let names = (self.0.possible)();
        (!names.is_empty()).then(|| {
            Box::new(names.into_iter().map(PossibleValue::new))
                as Box<dyn Iterator<Item = PossibleValue>>
        })
    }
}

/// Why the command line was not run.
#[derive(Debug)]
pub enum CliError {
    /// `--help` or `--version`: clap's text, printed on stdout, exit 0.
    Display(clap::Error),
    /// Bad usage: one line, exit 2.
    Usage(String),
}

/// The parsed command line: the command, the settings given as flags (as text), and `-v`/`-q`.
#[derive(Clone)]
pub struct Invocation {
    pub command: Command,
    flags: Vec<(&'static Spec, String)>,
    pub verbose: u8,
    pub quiet: u8,
}

impl std::fmt::Debug for Invocation {
    /// Names the flags given, never their values (a secret may be among them).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given: Vec<&str> = self.flags.iter().map(|(spec, _)| spec.long).collect();
        f.debug_struct("Invocation")
            .field("command", &self.command)
            .field("flags", &given)
            .field("verbose", &self.verbose)
            .field("quiet", &self.quiet)
            .finish()
    }
}

impl Invocation {
    /// Parses `args` (the first item is the program name).
    pub fn parse_from<I, T>(args: I) -> Result<Self, CliError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let matches = match command().try_get_matches_from(&args) {
            Ok(matches) => matches,
            Err(error) => {
                return Err(match error.kind() {
                    ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                        CliError::Display(error)
                    }
                    _ => CliError::Usage(one_line_error(&error)),
                })
            }
        };
        let (command, sub) = match matches.subcommand() {
            Some((name, sub)) => {
                let command = Command::from_name(name)
                    .ok_or_else(|| CliError::Usage(format!("unknown command `{name}`")))?;
                (command, Some(sub))
            }
            None => (Command::Produce, None),
        };
        let mut invocation = Invocation {
            command,
            flags: Vec::new(),
            verbose: 0,
            quiet: 0,
        };
        let before = given(&matches);
        let after = sub.map(given).unwrap_or_default();
        if sub.is_some() {
            for (spec, _) in &before {
                if after.iter().any(|(other, _)| other.long == spec.long) {
                    return Err(CliError::Usage(format!(
                        "--{} is given both before and after `{}`; give it once",
                        spec.long,
                        command.name()
                    )));
                }
            }
        }
        for (spec, value) in before.into_iter().chain(after) {
            match (spec.kind, value) {
                (Kind::Count, Given::Count(n)) if spec.long == declarations::VERBOSE.spec.long => {
                    invocation.verbose = n
                }
                (Kind::Count, Given::Count(n)) => invocation.quiet = n,
                (_, Given::Text(text)) => invocation.flags.push((spec, text)),
                (_, Given::Count(_)) => {}
            }
        }
        if invocation.verbose > 0 && invocation.quiet > 0 {
            return Err(CliError::Usage(
                "-v/--verbose and -q/--quiet cannot be used together; give one".to_owned(),
            ));
        }
        Ok(invocation)
    }

    /// The settings given as flags, with their text (switches read `true`).
    pub fn flags(&self) -> impl Iterator<Item = (&'static Spec, &str)> + '_ {
        self.flags.iter().map(|(spec, text)| (*spec, text.as_str()))
    }

    /// The text given for the flag `--long`, if it was given.
    pub fn flag(&self, long: &str) -> Option<&str> {
        self.flags()
            .find(|(spec, _)| spec.long == long)
            .map(|(_, text)| text)
    }
}

enum Given {
    Text(String),
    Count(u8),
}

/// The settings that `matches` holds from the command line.
fn given(matches: &ArgMatches) -> Vec<(&'static Spec, Given)> {
    let mut given = Vec::new();
    for setting in ALL {
        let spec = setting.spec();
        if matches.value_source(spec.long) != Some(ValueSource::CommandLine) {
            continue;
        }
        let value = match spec.kind {
            Kind::Value => match matches.get_one::<String>(spec.long) {
                Some(text) => Given::Text(text.clone()),
                None => continue,
            },
            Kind::Switch => Given::Text("true".to_owned()),
            Kind::Count => Given::Count(matches.get_count(spec.long)),
        };
        given.push((spec, value));
    }
    given
}

/// Turns a clap error into the single line we print: the first line of clap's message, which names
/// the offending argument or subcommand, plus where to look next.
fn one_line_error(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let first = rendered
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    format!("{first}; run `shoe-producer --help` for the commands and options")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Invocation, CliError> {
        Invocation::parse_from(std::iter::once("shoe-producer").chain(args.iter().copied()))
    }

    fn usage(args: &[&str]) -> String {
        match parse(args) {
            Err(CliError::Usage(line)) => {
                assert!(!line.contains('\n'), "one line: {line}");
                line
            }
            other => panic!("{args:?}: expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn the_command_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn produce_is_the_default_command_with_its_flags_at_the_top() {
        let invocation = parse(&["--count", "3", "-vv"]).unwrap();
        assert_eq!(invocation.command, Command::Produce);
        assert_eq!(invocation.flag("count"), Some("3"));
        assert_eq!(invocation.verbose, 2);
    }

    #[test]
    fn flags_go_before_or_after_the_command() {
        let invocation = parse(&["--seed", "9", "sample", "--count", "4"]).unwrap();
        assert_eq!(invocation.command, Command::Sample);
        assert_eq!(invocation.flag("count"), Some("4"));
        assert_eq!(invocation.flag("seed"), Some("9"));
        let message = usage(&["--count", "1", "produce", "--count", "2"]);
        assert!(
            message.contains("given both before and after `produce`"),
            "{message}"
        );
    }

    #[test]
    fn negative_numbers_and_empty_values_reach_validation() {
        assert_eq!(parse(&["--rate", "-5"]).unwrap().flag("rate"), Some("-5"));
        assert_eq!(parse(&["--count", ""]).unwrap().flag("count"), Some(""));
        assert_eq!(parse(&["--duration="]).unwrap().flag("duration"), Some(""));
    }

    #[test]
    fn verbose_and_quiet_conflict() {
        let message = usage(&["-v", "-q"]);
        assert!(
            message.contains("--quiet") || message.contains("-q"),
            "{message}"
        );
    }

    #[test]
    fn unknown_subcommand_is_one_line_naming_it() {
        let message = usage(&["frobnicate"]);
        assert!(message.contains("frobnicate"), "{message}");
    }

    #[test]
    fn secrets_are_read_but_never_debug_printed() {
        let invocation = parse(&["--kafka-api-secret", "s3cr3t-DISTINCTIVE"]).unwrap();
        assert_eq!(
            invocation.flag("kafka-api-secret"),
            Some("s3cr3t-DISTINCTIVE")
        );
        assert!(!format!("{invocation:?}").contains("DISTINCTIVE"));
    }

    fn help(args: &[&str]) -> String {
        match parse(args) {
            Err(CliError::Display(error)) => error.render().to_string(),
            other => panic!("expected help, got {other:?}"),
        }
    }

    #[test]
    fn help_shows_defaults_variables_values_and_the_precedence() {
        let produce = help(&["--help"]);
        assert!(
            produce.contains("[possible values: all, 1, 0]"),
            "{produce}"
        );
        assert!(produce.contains("[env: BOOTSTRAP_SERVERS]"), "{produce}");
        assert!(produce.contains("[default: 5ms]"), "{produce}");
        let flowing = produce.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flowing.contains("flag, then its environment variable, then the --config file"),
            "{produce}"
        );
    }
}
