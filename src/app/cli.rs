//! The command line as users meet it: every flag, its environment variable and its default, defined
//! and documented once, here.
//!
//! Values stay strings at this stage: `config` merges them with the `--config` file and validates them
//! all in one place, so a bad value gets the same one-line message whether it came from a flag, an
//! environment variable or the file. clap's own defaults are shown in `--help` but count as "not
//! given" (see [`Invocation`]), which lets a config file override them.

use std::{ffi::OsString, path::PathBuf};

use crate::support::secret::Secret;
use clap::{
    parser::ValueSource, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand,
};

const PRECEDENCE: &str = "\
Each setting is taken from, in order of precedence: a command-line flag, then its environment \
variable, then the --config file, then the default shown. Without --count or --duration, produce \
runs until SIGINT/SIGTERM (a second signal stops at once, exit code 130).

Exit codes: 0 every record acknowledged; 1 runtime failure (a record failed, broker or registry \
unreachable, credentials rejected); 2 invalid usage or configuration (found before any network I/O).";

/// shoe-producer: random Shoe events, Protobuf in Confluent's wire format, produced to Kafka.
#[derive(Debug, Parser)]
#[command(
    name = "shoe-producer",
    version,
    long_version = super::build_info::long_version(),
    about = "Generates random Shoe events, registers their Protobuf schema in a Schema Registry and \
             produces them to Kafka in Confluent's wire format.",
    after_help = PRECEDENCE,
    max_term_width = 110
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub producer: ProducerArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What to do; `produce` when none is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Generate, serialize and produce shoes (the default command).
    Produce,
    /// Connect to Kafka and the Schema Registry and print what was reached; exit 0 when all is well, 1
    /// otherwise.
    Check,
    /// Register (or look up) the schema for the subject and print its id.
    Register,
    /// Print --count generated shoes as JSON lines (10 by default); no network.
    Sample,
}

/// Where and how to reach Kafka.
#[derive(Debug, Args)]
#[command(next_help_heading = "Kafka connection")]
pub struct KafkaArgs {
    /// Brokers to bootstrap from, host:port[,host:port…]. Required for produce and check.
    #[arg(
        long,
        env = "BOOTSTRAP_SERVERS",
        value_name = "HOST:PORT,…",
        global = true
    )]
    pub bootstrap_servers: Option<String>,

    /// SASL username (Confluent Cloud: the Kafka API key). Required unless PLAINTEXT/SSL.
    #[arg(long, env = "KAFKA_API_KEY", value_name = "KEY", global = true)]
    pub kafka_api_key: Option<String>,

    /// SASL password (Confluent Cloud: the Kafka API secret). Required unless PLAINTEXT/SSL.
    #[arg(
        long,
        env = "KAFKA_API_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        value_parser = secret,
        global = true
    )]
    pub kafka_api_secret: Option<Secret>,

    /// SASL_SSL, SSL, SASL_PLAINTEXT or PLAINTEXT.
    #[arg(
        long,
        env = "KAFKA_SECURITY_PROTOCOL",
        value_name = "PROTOCOL",
        default_value = "SASL_SSL",
        global = true
    )]
    pub security_protocol: String,

    /// PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    #[arg(
        long,
        env = "KAFKA_SASL_MECHANISM",
        value_name = "MECHANISM",
        default_value = "PLAIN",
        global = true
    )]
    pub sasl_mechanism: String,

    /// PEM file of CA certificates trusted for the brokers besides the bundled Mozilla roots.
    #[arg(
        long,
        env = "KAFKA_SSL_CA_LOCATION",
        value_name = "FILE",
        global = true
    )]
    pub kafka_ca_file: Option<String>,

    /// Topic to produce to (it must exist unless --create-topic).
    #[arg(
        long,
        env = "KAFKA_TOPIC",
        value_name = "TOPIC",
        default_value = "shoes",
        global = true
    )]
    pub topic: String,
}

/// Where and how to reach the Schema Registry.
#[derive(Debug, Args)]
#[command(next_help_heading = "Schema Registry")]
pub struct RegistryArgs {
    /// Base URL, http:// or https://, without credentials. Required for produce and register.
    #[arg(long, env = "SCHEMA_REGISTRY_URL", value_name = "URL", global = true)]
    pub schema_registry_url: Option<String>,

    /// Basic-auth user (Confluent Cloud: the Schema Registry API key).
    #[arg(
        long,
        env = "SCHEMA_REGISTRY_API_KEY",
        value_name = "KEY",
        global = true
    )]
    pub schema_registry_api_key: Option<String>,

    /// Basic-auth password (Confluent Cloud: the Schema Registry API secret).
    #[arg(
        long,
        env = "SCHEMA_REGISTRY_API_SECRET",
        value_name = "SECRET",
        hide_env_values = true,
        value_parser = secret,
        global = true
    )]
    pub schema_registry_api_secret: Option<Secret>,

    /// PEM file of CA certificates trusted for the registry besides the bundled Mozilla roots.
    #[arg(
        long,
        env = "SCHEMA_REGISTRY_SSL_CA_LOCATION",
        value_name = "FILE",
        global = true
    )]
    pub schema_registry_ca_file: Option<String>,

    /// Subject naming: topic (<topic>-value), record (main.Shoe) or topic-record (<topic>-main.Shoe).
    #[arg(long, value_name = "STRATEGY", default_value = "topic", global = true)]
    pub subject_name_strategy: String,

    /// Only look the schema up, never register it (for read-only API keys).
    #[arg(long, global = true)]
    pub no_auto_register: bool,

    /// Use the subject's latest version; refuse it if it is not this producer's schema.
    #[arg(long, global = true)]
    pub use_latest_version: bool,
}

/// How much to produce, how fast, and which ids.
#[derive(Debug, Args)]
#[command(next_help_heading = "Run control")]
pub struct RunArgs {
    /// Stop after N records (sample: print N shoes, 10 by default).
    #[arg(long, value_name = "N", allow_negative_numbers = true, global = true)]
    pub count: Option<String>,

    /// Stop after this long, e.g. 30s, 5m, 1h30m.
    #[arg(
        long,
        value_name = "DURATION",
        allow_negative_numbers = true,
        global = true
    )]
    pub duration: Option<String>,

    /// Records per second, smoothed by a token bucket; 0 means unlimited.
    #[arg(
        long,
        value_name = "N",
        default_value = "0",
        allow_negative_numbers = true,
        global = true
    )]
    pub rate: String,

    /// Generator seed: the same seed gives the same shoes. Random (and logged) when not given.
    #[arg(long, value_name = "N", allow_negative_numbers = true, global = true)]
    pub seed: Option<String>,

    /// First shoe id; ids increase by one per record. Give instances disjoint ranges to scale out.
    #[arg(
        long,
        value_name = "N",
        default_value = "1",
        allow_negative_numbers = true,
        global = true
    )]
    pub id_start: String,

    /// Create the topic at start if it does not exist.
    #[arg(long, global = true)]
    pub create_topic: bool,

    /// Partitions of a topic made by --create-topic.
    #[arg(
        long,
        value_name = "N",
        default_value = "6",
        allow_negative_numbers = true,
        global = true
    )]
    pub partitions: String,

    /// Replication factor of a topic made by --create-topic; -1 takes the broker's default.
    #[arg(
        long,
        value_name = "N",
        default_value = "-1",
        allow_negative_numbers = true,
        global = true
    )]
    pub replication_factor: String,
}

/// The batching producer's knobs, named as Kafka users know them.
#[derive(Debug, Args)]
#[command(next_help_heading = "Producer")]
pub struct ProducerArgs {
    /// Acknowledgements to wait for: all (-1), 1 (leader only) or 0 (none).
    #[arg(
        long,
        value_name = "ACKS",
        default_value = "all",
        allow_negative_numbers = true,
        global = true
    )]
    pub acks: String,

    /// none, gzip, snappy, lz4 or zstd.
    #[arg(long, value_name = "CODEC", default_value = "none", global = true)]
    pub compression: String,

    /// How long a partition's batch may wait to fill (linger.ms), e.g. 5ms.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "5ms",
        allow_negative_numbers = true,
        global = true
    )]
    pub linger: String,

    /// Bytes that close a partition's batch (batch.size).
    #[arg(
        long,
        value_name = "BYTES",
        default_value = "1048576",
        allow_negative_numbers = true,
        global = true
    )]
    pub batch_size: String,

    /// Produce requests in flight per partition.
    #[arg(
        long,
        value_name = "N",
        default_value = "5",
        allow_negative_numbers = true,
        global = true
    )]
    pub max_in_flight: String,

    /// Bytes of records buffered before the generator waits (buffer.memory).
    #[arg(
        long,
        value_name = "BYTES",
        default_value = "33554432",
        allow_negative_numbers = true,
        global = true
    )]
    pub buffer_memory: String,

    /// Time from send to a record's final report; retries stop then (delivery.timeout.ms).
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "120s",
        allow_negative_numbers = true,
        global = true
    )]
    pub delivery_timeout: String,

    /// Partition choice: murmur2 (Java's default for keyed records), random or round-robin.
    #[arg(
        long,
        value_name = "PARTITIONER",
        default_value = "murmur2",
        global = true
    )]
    pub partitioner: String,
}

/// Where settings come from and what the run shows while it works.
#[derive(Debug, Args)]
#[command(next_help_heading = "Output and configuration")]
pub struct OutputArgs {
    /// Read settings from FILE: YAML whose keys are the long flag names (bootstrap-servers: …), or a
    /// Confluent client.properties (bootstrap.servers=…, as the Cloud console hands it out). The
    /// format follows the extension (.yaml/.yml, .properties), else the content.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// More log output: -v debug, -vv trace. RUST_LOG, when set, overrides -v/-q.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Less log output: -q warnings and errors only, -qq errors only.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,

    /// Serve Prometheus metrics on http://HOST:PORT/metrics (e.g. 0.0.0.0:9100).
    #[arg(long, value_name = "HOST:PORT", global = true)]
    pub metrics_addr: Option<String>,

    /// Keep serving /metrics this long after the summary, so a scraper sees the final values (not
    /// after a signal; a signal during the wait ends it).
    #[arg(long, value_name = "DURATION", default_value = "0s", global = true)]
    pub metrics_linger: String,

    /// Progress line interval on stderr (a live bar when stderr is a terminal); 0s turns it off.
    #[arg(long, value_name = "DURATION", default_value = "5s", global = true)]
    pub progress_interval: String,

    /// text or json; json makes every log line and the final summary one JSON object per line.
    #[arg(long, value_name = "FORMAT", default_value = "text", global = true)]
    pub log_format: String,
}

/// Keeps API secrets in [`Secret`] from the moment clap reads them, so `{:?}` never shows them.
fn secret(text: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(text))
}

/// The parsed command line: typed access to the command and the output switches, and the raw
/// matches that say where each setting came from (flag, environment variable or clap's default).
pub struct Invocation {
    pub cli: Cli,
    pub matches: ArgMatches,
}

impl std::fmt::Debug for Invocation {
    /// Only the typed view: clap's raw matches would print the secrets' text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("cli", &self.cli)
            .finish_non_exhaustive()
    }
}

/// Where clap found a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgSource {
    Flag,
    Env,
    Default,
}

impl Invocation {
    /// Parses `args` (the first item is the program name) and the environment.
    pub fn parse_from<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = Cli::command().try_get_matches_from(args)?;
        let cli = Cli::from_arg_matches(&matches)?;
        Ok(Self { cli, matches })
    }

    /// The command to run: `produce` when none was given.
    pub fn command(&self) -> Command {
        self.cli.command.unwrap_or(Command::Produce)
    }

    /// The value clap holds for the argument `id` (a field name such as `bootstrap_servers`) and where it
    /// came from. Switches (`--create-topic`) read `"true"` when given and are absent otherwise.
    pub fn value(&self, id: &str) -> Option<(String, ArgSource)> {
        let source = match self.matches.value_source(id)? {
            ValueSource::CommandLine => ArgSource::Flag,
            ValueSource::EnvVariable => ArgSource::Env,
            _ => ArgSource::Default,
        };
        if let Ok(Some(switch)) = self.matches.try_get_one::<bool>(id) {
            return (*switch && source != ArgSource::Default).then(|| ("true".to_owned(), source));
        }
        if let Ok(Some(secret)) = self.matches.try_get_one::<Secret>(id) {
            return Some((secret.expose().to_owned(), source));
        }
        let text = self.matches.get_one::<String>(id)?.clone();
        Some((text, source))
    }
}

/// Turns a clap error into the single line we print: the first line of clap's message, which names the
/// offending argument or subcommand, plus where to look next.
pub fn one_line_error(error: &clap::Error) -> String {
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

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn produce_is_the_default_command() {
        let invocation = Invocation::parse_from(["shoe-producer", "--count", "3"]).unwrap();
        assert_eq!(invocation.command(), Command::Produce);
        assert_eq!(
            invocation.value("count"),
            Some(("3".into(), ArgSource::Flag))
        );
    }

    #[test]
    fn options_are_accepted_after_the_subcommand() {
        let invocation =
            Invocation::parse_from(["shoe-producer", "sample", "--count", "4", "--seed", "9"])
                .unwrap();
        assert_eq!(invocation.command(), Command::Sample);
        assert_eq!(invocation.value("count").unwrap().0, "4");
        assert_eq!(invocation.value("seed").unwrap().0, "9");
    }

    #[test]
    fn defaults_are_marked_as_defaults_and_switches_only_when_given() {
        let invocation = Invocation::parse_from(["shoe-producer", "--create-topic"]).unwrap();
        assert_eq!(
            invocation.value("compression"),
            Some(("none".into(), ArgSource::Default))
        );
        assert_eq!(
            invocation.value("create_topic"),
            Some(("true".into(), ArgSource::Flag))
        );
        assert_eq!(invocation.value("no_auto_register"), None);
    }

    #[test]
    fn negative_numbers_reach_validation_instead_of_clap() {
        let invocation = Invocation::parse_from(["shoe-producer", "--rate", "-5"]).unwrap();
        assert_eq!(invocation.value("rate").unwrap().0, "-5");
    }

    #[test]
    fn unknown_subcommand_is_one_line_naming_it() {
        let error = Invocation::parse_from(["shoe-producer", "frobnicate"]).unwrap_err();
        let line = one_line_error(&error);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("frobnicate"), "{line}");
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn secrets_are_read_but_never_debug_printed() {
        let invocation =
            Invocation::parse_from(["shoe-producer", "--kafka-api-secret", "s3cr3t-DISTINCTIVE"])
                .unwrap();
        assert_eq!(
            invocation.value("kafka_api_secret"),
            Some(("s3cr3t-DISTINCTIVE".into(), ArgSource::Flag))
        );
        assert!(!format!("{invocation:?}").contains("DISTINCTIVE"));
    }

    #[test]
    fn help_states_the_precedence_and_hides_secret_values() {
        let help = Cli::command().render_long_help().to_string();
        let flowing = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flowing.contains("flag, then its environment variable, then the --config file"),
            "{help}"
        );
        assert!(help.contains("KAFKA_API_SECRET"));
        assert_eq!(help.matches("--bootstrap-servers").count(), 1, "{help}");
    }
}
