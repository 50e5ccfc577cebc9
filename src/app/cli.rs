//! The command line as users meet it, built from the setting declarations.
//!
//! clap's builder API rather than its derive: the declarations are a table, and the derive would need
//! a struct field per setting restating its flag, help and default — a second copy of each declaration.
//! A loop over the table gives each command exactly the flags it takes (`sample --help` shows only
//! sample's), with `[env: …]`, `[default: …]` and `[possible values: …]` in the help.
//!
//! Values stay text here: `config` merges them with the environment and the `--config` file and
//! validates them all in one place, so a bad value gets the same one-line message whatever its source.
//! clap does not read environment variables itself; `config` does, through an injectable lookup.

use std::ffi::{OsStr, OsString};

use clap::{
    builder::{PossibleValue, TypedValueParser},
    error::{ContextKind, ContextValue, ErrorKind},
    parser::ValueSource,
    Arg, ArgAction, ArgMatches,
};
use clap_complete::Shell;

use crate::{
    app::{
        command::Command,
        config::{
            declarations::{self, ALL},
            setting::{Kind, Spec},
            ConfigError, Layer, Origin, Resolved,
        },
    },
    settings::LogFormat,
    support::quoted::quoted,
};

const AFTER_HELP: &str = "\
Each setting is taken from, in order of precedence: a command-line flag, then its environment \
variable, then the --config file, then the default shown. An empty environment variable counts as \
unset; an empty flag or file value is an error. Without --count or --duration, produce runs until \
SIGINT/SIGTERM/SIGHUP (a second signal stops at once: exit code 130 SIGINT, 143 SIGTERM, 129 SIGHUP).

Exit codes: 0 every record acknowledged; 1 runtime failure (a record failed, broker or registry \
unreachable, credentials rejected); 2 invalid usage or configuration (found before any network I/O).";

/// How `--help` describes each command, and how a parsed command line names it.
trait CommandText: Sized {
    fn about(self) -> &'static str;
    fn from_name(name: &str, matches: &ArgMatches) -> Option<Self>;
}

impl CommandText for Command {
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
            Self::Completions(_) => {
                "Print a shell completion script, e.g. `shoe-producer completions bash > \
                 /etc/bash_completion.d/shoe-producer`"
            }
            Self::Man => "Print the man page (roff)",
        }
    }

    fn from_name(name: &str, matches: &ArgMatches) -> Option<Self> {
        Some(match name {
            "produce" => Self::Produce,
            "check" => Self::Check,
            "register" => Self::Register,
            "sample" => Self::Sample,
            "completions" => Self::Completions(*matches.get_one::<Shell>("shell")?),
            "man" => Self::Man,
            _ => return None,
        })
    }
}

/// The whole command line: produce's flags at the top (no command means produce), and each command
/// with its own.
pub fn command() -> clap::Command {
    let root = clap::Command::new("shoe-producer")
        .version(env!("CARGO_PKG_VERSION"))
        .long_version(super::build_info::long_version())
        .about(
            "Generates random Shoe events, registers their Protobuf schema in a Schema Registry \
             and produces them to Kafka in Confluent's wire format.",
        )
        .after_help(AFTER_HELP)
        .max_term_width(110);
    let mut root = with_settings(root, Command::Produce);
    for command in Command::WITH_SETTINGS {
        let sub = clap::Command::new(command.name())
            .about(command.about())
            .after_help(AFTER_HELP);
        root = root.subcommand(with_settings(sub, command));
    }
    root.subcommand(
        clap::Command::new("completions")
            .about(Command::Completions(Shell::Bash).about())
            .arg(
                Arg::new("shell")
                    .required(true)
                    .value_name("SHELL")
                    .value_parser(clap::value_parser!(Shell))
                    .help("The shell to complete for"),
            ),
    )
    .subcommand(
        clap::Command::new("man")
            .about(Command::Man.about())
            .hide(true),
    )
}

/// Adds an argument for every setting `command` takes.
fn with_settings(mut clap_command: clap::Command, command: Command) -> clap::Command {
    for setting in ALL {
        let spec = setting.spec();
        if spec.takes(command) {
            clap_command = clap_command.arg(argument(spec));
        }
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
                    _ => CliError::Usage(one_line_error(&error, &args)),
                })
            }
        };
        let (command, sub) = match matches.subcommand() {
            Some((name, sub)) => {
                let command = Command::from_name(name, sub)
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
        // Flags before the command were parsed as produce's: they must be flags of this command too.
        let before = given(&matches, Command::Produce);
        let after = sub.map(|sub| given(sub, command)).unwrap_or_default();
        if sub.is_some() {
            for (spec, _) in &before {
                if !spec.takes(command) {
                    return Err(CliError::Usage(format!(
                        "{}; {}",
                        not_an_option(&format!("--{}", spec.long), command),
                        help_hint(Some(command))
                    )));
                }
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
        // Checked here rather than by clap, so `-v sample -q` (either side of the command) is caught too.
        if invocation.verbose > 0 && invocation.quiet > 0 {
            return Err(CliError::Usage(
                "-v/--verbose and -q/--quiet cannot be used together; give one".to_owned(),
            ));
        }
        Ok(invocation)
    }

    /// The configuration for this command line: its flags over the environment (read through
    /// `env`), the `--config` file and the defaults.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Resolved, ConfigError> {
        let mut flags = Layer::default();
        for (spec, text) in self.flags() {
            flags.insert(spec, text, Origin::Flag)?;
        }
        super::config::resolve(self.command, flags, env)
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

    /// How to write errors until the configuration is resolved: as `--log-format` says, if it
    /// says `json`, else as text.
    pub fn early_log_format(&self) -> LogFormat {
        match self.flag(declarations::LOG_FORMAT.spec.long) {
            Some(format) if format.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

enum Given {
    Text(String),
    Count(u8),
}

/// The settings of `command` that `matches` holds from the command line.
fn given(matches: &ArgMatches, command: Command) -> Vec<(&'static Spec, Given)> {
    let mut given = Vec::new();
    for setting in ALL {
        let spec = setting.spec();
        if !spec.takes(command) || matches.value_source(spec.long) != Some(ValueSource::CommandLine)
        {
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

fn not_an_option(flag: &str, command: Command) -> String {
    format!("{flag} is not an option of `{}`", command.name())
}

/// Where to look next, at the end of a usage line.
fn help_hint(command: Option<Command>) -> String {
    match command {
        Some(command) if command != Command::Produce => {
            format!(
                "run `shoe-producer {} --help` for its options",
                command.name()
            )
        }
        _ => "run `shoe-producer --help` for the commands and options".to_owned(),
    }
}

/// Turns a clap error into the single line we print: clap's first line, which names the offending
/// argument or command, its tips (`tip: a similar argument exists: '--count'`), and where to look
/// next. A flag that another command takes is named as not being an option of this one.
fn one_line_error(error: &clap::Error, args: &[OsString]) -> String {
    let mut rendered = error.render().to_string();
    // clap repeats what was typed as it is: escape it, so a control character cannot break the line.
    for kind in [
        ContextKind::InvalidArg,
        ContextKind::InvalidSubcommand,
        ContextKind::InvalidValue,
    ] {
        if let Some(ContextValue::String(typed)) = error.get(kind) {
            let escaped = quoted(typed);
            rendered = rendered.replace(typed.as_str(), &escaped[1..escaped.len() - 1]);
        }
    }
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first).to_owned();
    let extras: Vec<&str> = lines
        .filter(|line| line.starts_with("tip:") || line.starts_with("[possible values"))
        .collect();
    let command = command_being_parsed(args);
    let mut parts = Vec::new();
    match (error.kind(), error.get(ContextKind::InvalidArg), command) {
        (ErrorKind::UnknownArgument, Some(ContextValue::String(arg)), Some(command))
            if arg.starts_with("--") =>
        {
            let flag = arg.split('=').next().unwrap_or(arg);
            match declarations::find(flag.trim_start_matches('-')) {
                Some(setting) if !setting.spec().takes(command) => {
                    parts.push(not_an_option(flag, command))
                }
                _ => parts.push(first),
            }
        }
        (ErrorKind::UnknownArgument, Some(ContextValue::String(arg)), _) => {
            match option_missing_its_value(args, arg) {
                Some((option, value)) => parts.push(format!(
                    "{option} takes a value, and {} starts with '-', so it was read as an option: \
                     write {} if that is the value",
                    quoted(&value),
                    quoted(&format!("{option}={value}"))
                )),
                None => parts.push(first),
            }
        }
        _ => parts.push(first),
    }
    parts.extend(extras.into_iter().map(str::to_owned));
    parts.push(help_hint(command));
    parts.join("; ")
}

/// When the unexpected `arg` (`-5` of `--linger -5ms`) begins a word that follows a long option taking
/// a value, that option and the whole word: the user most likely meant the word as its value.
fn option_missing_its_value(args: &[OsString], arg: &str) -> Option<(String, String)> {
    let words: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    words.windows(2).find_map(|pair| {
        let (option, value) = (pair[0], pair[1]);
        let name = option.strip_prefix("--")?;
        let takes_value = declarations::find(name).is_some_and(|s| s.spec().kind == Kind::Value);
        (takes_value && value.starts_with(arg) && value.starts_with('-'))
            .then(|| (option.to_owned(), value.to_owned()))
    })
}

/// The command clap was parsing when it stopped: the subcommand it found, else produce. `None` when
/// even a lenient parse fails.
fn command_being_parsed(args: &[OsString]) -> Option<Command> {
    let matches = command()
        .ignore_errors(true)
        .try_get_matches_from(args)
        .ok()?;
    match matches.subcommand() {
        Some((name, sub)) => match name {
            "completions" => Some(Command::Completions(
                sub.get_one::<Shell>("shell")
                    .copied()
                    .unwrap_or(Shell::Bash),
            )),
            _ => Command::from_name(name, sub),
        },
        None => Some(Command::Produce),
    }
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
    fn a_value_starting_with_a_dash_is_named_with_its_option_and_the_way_to_pass_it() {
        for (args, option, value) in [
            (&["--linger", "-5ms"][..], "--linger", "-5ms"),
            (
                &["--topic", "-shoes", "--count", "5"][..],
                "--topic",
                "-shoes",
            ),
            (&["sample", "--seed", "-x"][..], "--seed", "-x"),
        ] {
            let line = usage(args);
            assert!(line.contains(&format!("{option} takes a value")), "{line}");
            assert!(
                line.contains(&format!("write '{option}={value}'")),
                "{line}"
            );
        }
        // An unknown short flag that follows no option is clap's own message.
        assert!(usage(&["-z"]).contains("unexpected argument '-z'"));
        // The hint's spelling is accepted: the value reaches its parser.
        assert!(parse(&["--topic=-shoes"]).is_ok());
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
    fn a_flag_of_another_command_is_refused_naming_the_command() {
        let message = usage(&["sample", "--rate", "5"]);
        assert!(
            message.starts_with("--rate is not an option of `sample`"),
            "{message}"
        );
        assert!(message.contains("shoe-producer sample --help"), "{message}");
        let message = usage(&["sample", "--metrics-addr=:9100"]);
        assert!(
            message.starts_with("--metrics-addr is not an option of `sample`"),
            "{message}"
        );
        let message = usage(&["--rate", "5", "sample"]);
        assert!(
            message.starts_with("--rate is not an option of `sample`"),
            "{message}"
        );
        let message = usage(&["register", "--bootstrap-server", "b:1"]);
        assert!(
            message.starts_with("--bootstrap-server is not an option of `register`"),
            "{message}"
        );
    }

    #[test]
    fn every_flag_of_another_command_is_refused() {
        for command in Command::WITH_SETTINGS {
            for setting in ALL {
                let spec = setting.spec();
                if spec.takes(command) || spec.short.is_some() {
                    continue;
                }
                let flag = format!("--{}", spec.long);
                let mut args = vec![command.name(), flag.as_str()];
                if spec.kind == Kind::Value {
                    args.push("1");
                }
                let message = usage(&args);
                let expected = format!("{flag} is not an option of `{}`", command.name());
                assert!(message.starts_with(&expected), "{message}");
            }
        }
    }

    #[test]
    fn typos_keep_clap_tips() {
        let message = usage(&["--cout", "5"]);
        assert!(
            message.contains("tip: a similar argument exists: '--count'"),
            "{message}"
        );
        let message = usage(&["--compresion", "lz4"]);
        assert!(message.contains("'--compression'"), "{message}");
        let message = usage(&["smaple"]);
        assert!(
            message.contains("tip: a similar subcommand exists: 'sample'"),
            "{message}"
        );
        let message = usage(&["sample", "--cuont", "3"]);
        assert!(message.contains("'--count'"), "{message}");
        assert!(message.contains("shoe-producer sample --help"), "{message}");
    }

    #[test]
    fn bootstrap_server_is_an_alias() {
        let invocation = parse(&["check", "--bootstrap-server", "b:1"]).unwrap();
        assert_eq!(invocation.flag("bootstrap-servers"), Some("b:1"));
    }

    #[test]
    fn negative_numbers_and_empty_values_reach_validation() {
        assert_eq!(parse(&["--rate", "-5"]).unwrap().flag("rate"), Some("-5"));
        assert_eq!(parse(&["--count", ""]).unwrap().flag("count"), Some(""));
        assert_eq!(parse(&["--duration="]).unwrap().flag("duration"), Some(""));
    }

    #[test]
    fn verbose_and_quiet_conflict() {
        for args in [
            &["-v", "-q"][..],
            &["-v", "sample", "-q"],
            &["sample", "-qv"],
        ] {
            let message = usage(args);
            assert!(message.contains("-q/--quiet"), "{args:?}: {message}");
        }
    }

    #[test]
    fn unknown_subcommand_is_one_line_naming_it() {
        let message = usage(&["frobnicate"]);
        assert!(message.contains("frobnicate"), "{message}");
    }

    #[test]
    fn what_was_typed_is_echoed_escaped() {
        assert!(usage(&["--a\nb"]).contains(r"'--a\nb'"));
        assert!(!usage(&["frob\x01nicate"]).contains('\x01'));
        assert!(usage(&["completions", "ba\nsh"]).contains(r"'ba\nsh'"));
    }

    #[test]
    fn completions_take_a_shell() {
        assert_eq!(
            parse(&["completions", "zsh"]).unwrap().command,
            Command::Completions(Shell::Zsh)
        );
        let message = usage(&["completions", "fsh"]);
        assert!(message.contains("fish"), "{message}");
        assert_eq!(parse(&["man"]).unwrap().command, Command::Man);
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
    fn each_command_shows_only_its_flags() {
        let sample = help(&["sample", "--help"]);
        for flag in [
            "--count",
            "--seed",
            "--id-start",
            "--instance",
            "--log-format",
        ] {
            assert!(sample.contains(flag), "{flag} missing:\n{sample}");
        }
        for flag in ["--rate", "--acks", "--bootstrap-servers", "--metrics-addr"] {
            assert!(!sample.contains(flag), "{flag} shown:\n{sample}");
        }
        let produce = help(&["--help"]);
        assert!(produce.contains("[env: BOOTSTRAP_SERVERS]"), "{produce}");
        assert!(produce.contains("[default: 5ms]"), "{produce}");
        let flowing = produce.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flowing.contains("[possible values: all, 1]"), "{produce}");
        assert!(
            flowing.contains("flag, then its environment variable, then the --config file"),
            "{produce}"
        );
    }
}
