//! What a setting's declaration holds, and the typed handle that reads it.
//!
//! A [`Spec`] is the untyped part — names, help, where the setting may come from, which commands
//! take it — from which the command line, the file readers, error labels and the README table are
//! derived. A [`Setting<T>`] adds the parser into `T`, so validation reads typed values through the
//! same handle. The declarations themselves live in `declarations.rs`, written with [`settings!`].

use crate::app::command::Command;

/// How a setting appears on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--flag VALUE`.
    Value,
    /// `--flag` alone: true when given. In a file: `true` or `false`.
    Switch,
    /// `-v`, `-vv`: how often it was given. Command line only.
    Count,
}

/// The group a setting is listed under in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Heading {
    Kafka,
    Registry,
    Run,
    Producer,
    Output,
}

impl Heading {
    #[cfg(test)]
    pub(crate) const ALL: [Heading; 5] = [
        Self::Kafka,
        Self::Registry,
        Self::Run,
        Self::Producer,
        Self::Output,
    ];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::Kafka => "Kafka connection",
            Self::Registry => "Schema Registry",
            Self::Run => "Run control",
            Self::Producer => "Producer",
            Self::Output => "Output and configuration",
        }
    }
}

/// A Confluent `client.properties` key that sets a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    /// The value as written.
    Text(&'static str),
    /// A number of milliseconds (`linger.ms=20`), read as that duration.
    Millis(&'static str),
    /// One part of a value that holds several (`sasl.jaas.config`, `basic.auth.user.info`); the
    /// properties reader splits it.
    Part(&'static str),
    /// `true`/`false` meaning the opposite of the switch (`auto.register.schemas=false` is
    /// `--no-auto-register`).
    Negated(&'static str),
}

impl Property {
    pub fn key(self) -> &'static str {
        match self {
            Self::Text(key) | Self::Millis(key) | Self::Part(key) | Self::Negated(key) => key,
        }
    }
}

/// Everything about a setting except its type.
#[derive(Debug)]
pub struct Spec {
    /// The long flag without dashes; also the YAML key and the setting's identity.
    pub long: &'static str,
    pub short: Option<char>,
    /// Other long flags (and YAML keys) for the same setting.
    pub aliases: &'static [&'static str],
    /// The environment variable; an empty one counts as unset.
    pub env: Option<&'static str>,
    /// The `client.properties` keys that set it.
    pub properties: &'static [Property],
    /// Whether a YAML `--config` file may set it (its key is `long`).
    pub in_file: bool,
    /// The default, as text the setting's parser reads; shown in `--help`.
    pub default: Option<&'static str>,
    /// The commands that cannot run without it.
    pub required_by: &'static [Command],
    pub value_name: &'static str,
    /// One paragraph; written as the declaration's doc comment.
    pub help: &'static str,
    /// The values of an enumeration, as shown (`[possible values: …]`).
    pub possible: fn() -> Vec<&'static str>,
    pub kind: Kind,
    /// The commands that take it; any other command refuses the flag.
    pub commands: &'static [Command],
    pub heading: Heading,
    /// Never printed: not in errors, not in `Debug`.
    pub secret: bool,
}

impl Spec {
    /// What every declaration starts from; `long`, `help` and `commands` are always given.
    pub(crate) const BASE: Spec = Spec {
        long: "",
        short: None,
        aliases: &[],
        env: None,
        properties: &[],
        in_file: true,
        default: None,
        required_by: &[],
        value_name: "VALUE",
        help: "",
        possible: super::parse::free_form,
        kind: Kind::Value,
        commands: &[],
        heading: Heading::Output,
        secret: false,
    };

    /// `--flag / ENV_VAR` (or `--flag` alone), as messages name the setting.
    pub(crate) fn label(&self) -> String {
        match self.env {
            Some(env) => format!("--{} / {env}", self.long),
            None => format!("--{}", self.long),
        }
    }

    /// The help paragraph on one line.
    pub(crate) fn help_text(&self) -> String {
        self.help.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Whether `command` takes this setting.
    pub fn takes(&self, command: Command) -> bool {
        self.commands.contains(&command)
    }

    /// Whether `name` (dashes or underscores) is this setting's long flag or an alias of it.
    pub(crate) fn is_named(&self, name: &str) -> bool {
        let name = name.replace('_', "-");
        self.long == name || self.aliases.contains(&name.as_str())
    }
}

/// A declared setting and its parser into `T`.
pub(crate) struct Setting<T: 'static> {
    pub spec: Spec,
    pub parse: fn(&str) -> Result<T, String>,
}

impl<T> Setting<T> {
    /// The declared default, parsed. Every declared default parses: a unit test reads them all.
    pub(crate) fn default_value(&self) -> Option<T> {
        let text = self.spec.default?;
        Some((self.parse)(text).unwrap_or_else(|reason| {
            panic!(
                "the default of --{} does not parse: {reason}",
                self.spec.long
            )
        }))
    }
}

/// A setting with its type erased, for what is done to every setting alike.
pub(crate) trait AnySetting: Sync {
    fn spec(&self) -> &Spec;
    /// Whether `text` parses, without keeping the value (the declarations' own test).
    #[cfg(test)]
    fn check(&self, text: &str) -> Result<(), String>;
}

impl<T> AnySetting for Setting<T> {
    fn spec(&self) -> &Spec {
        &self.spec
    }
    #[cfg(test)]
    fn check(&self, text: &str) -> Result<(), String> {
        (self.parse)(text).map(drop)
    }
}

/// Declares settings: each is a `pub static NAME: Setting<Type>` built from its doc comment (the
/// help), its parser and the [`Spec`] fields that differ from [`Spec::BASE`]; `ALL` lists them in
/// order, so a setting cannot be declared and then forgotten.
macro_rules! settings {
    ($(
        $(#[doc = $help:literal])+
        $name:ident: $type:ty = $parse:expr, { $($field:ident: $value:expr),* $(,)? }
    )+) => {
        $(
            $(#[doc = $help])+
            pub(crate) static $name: Setting<$type> = Setting {
                spec: Spec {
                    help: concat!($($help, "\n"),+),
                    $($field: $value,)*
                    ..Spec::BASE
                },
                parse: $parse,
            };
        )+

        /// Every setting, in the order `--help` and the README list them.
        pub(crate) static ALL: &[&dyn AnySetting] = &[$(&$name),+];
    };
}

pub(crate) use settings;
