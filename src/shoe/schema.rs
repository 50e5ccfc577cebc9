//! The Shoe schema as the registry and the wire format see it: the `.proto` text we register and what
//! the compiled descriptor says about it (the record name and Confluent's message-index path).
//!
//! Both are derived from `proto/shoe.proto` and the descriptor `build.rs` compiled from it, never typed
//! in by hand, so renaming the package or adding a message before `Shoe` changes the subject name and
//! the framing together with the file.

use std::sync::OnceLock;

use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorProto, FileDescriptorSet};

/// The `.proto` source registered with the Schema Registry, byte for byte as in `proto/shoe.proto`.
pub const SHOE_PROTO: &str = include_str!("../../proto/shoe.proto");

/// The short name of the message this producer serializes (the only name not read from the descriptor).
pub(crate) const SHOE_MESSAGE: &str = "Shoe";

const DESCRIPTOR_SET_BYTES: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/shoe_descriptor.bin"));

/// What the compiled descriptor tells the rest of the program about `Shoe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ShoeSchema {
    /// Fully-qualified record name, `<package>.<message>` (`main.Shoe`).
    pub record_name: String,
    /// Confluent's message-index path of `Shoe` in its file (`[0]`: the file's first message).
    pub message_indexes: Vec<i32>,
}

/// The Shoe schema facts, computed once from the embedded descriptor.
pub(crate) fn shoe_schema() -> &'static ShoeSchema {
    static SCHEMA: OnceLock<ShoeSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let set = FileDescriptorSet::decode(DESCRIPTOR_SET_BYTES)
            .expect("build.rs wrote a valid FileDescriptorSet");
        let file = set
            .file
            .iter()
            .find(|file| file.name() == "shoe.proto")
            .expect("the descriptor set holds shoe.proto");
        let message_indexes =
            message_index_path(file, SHOE_MESSAGE).expect("shoe.proto defines the Shoe message");
        let record_name = match file.package() {
            "" => SHOE_MESSAGE.to_owned(),
            package => format!("{package}.{SHOE_MESSAGE}"),
        };
        ShoeSchema {
            record_name,
            message_indexes,
        }
    })
}

/// The path of message `name` (dotted for nested messages, relative to the package: `Outer.Inner`)
/// through the file's message declarations: the index among the top-level messages, then the index
/// among each enclosing message's nested types. `None` if the file has no such message.
pub(crate) fn message_index_path(file: &FileDescriptorProto, name: &str) -> Option<Vec<i32>> {
    let mut path = Vec::new();
    let mut level: &[DescriptorProto] = &file.message_type;
    for part in name.split('.') {
        let index = level.iter().position(|message| message.name() == part)?;
        path.push(i32::try_from(index).ok()?);
        level = &level[index].nested_type;
    }
    Some(path)
}

/// Why the Protobuf source `text` (a registry's copy of a schema) does not describe the message this
/// producer serializes, or `None` if it does.
///
/// Both texts are parsed, so formatting, comments, statement order and file options (`go_package`,
/// `java_package`, …) do not matter. What must match is everything that decides the bytes a consumer
/// reads: the syntax, the package, `Shoe`'s message-index path and `Shoe`'s fields (names, numbers,
/// types, labels). Messages other than `Shoe` may differ as long as `Shoe`'s path is unchanged.
pub fn difference_from_ours(text: &str) -> Option<String> {
    static OURS: OnceLock<FileDescriptorProto> = OnceLock::new();
    let ours = OURS.get_or_init(|| {
        protox_parse::parse("shoe.proto", SHOE_PROTO).expect("proto/shoe.proto parses")
    });
    let theirs = match protox_parse::parse("shoe.proto", text) {
        Ok(theirs) => theirs,
        Err(error) => {
            let reason = error.to_string();
            return Some(format!(
                "it does not parse as Protobuf ({})",
                reason.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
    };
    if theirs.syntax() != ours.syntax() {
        return Some(format!(
            "its syntax is `{}`, ours `{}`",
            theirs.syntax(),
            ours.syntax()
        ));
    }
    if theirs.package() != ours.package() {
        return Some(format!(
            "its package is `{}`, ours `{}`",
            theirs.package(),
            ours.package()
        ));
    }
    let expected_path = &shoe_schema().message_indexes;
    let Some(path) = message_index_path(&theirs, SHOE_MESSAGE) else {
        return Some(format!("it has no message {SHOE_MESSAGE}"));
    };
    if &path != expected_path {
        return Some(format!(
            "its {SHOE_MESSAGE} has message indexes {path:?}, ours {expected_path:?}"
        ));
    }
    fn find(file: &FileDescriptorProto) -> Option<&DescriptorProto> {
        file.message_type
            .iter()
            .find(|message| message.name() == SHOE_MESSAGE)
    }
    if find(&theirs) != find(ours) {
        let describe = |file: &FileDescriptorProto| {
            find(file)
                .map(|message| {
                    message
                        .field
                        .iter()
                        .map(|field| {
                            format!(
                                "{} {} = {}",
                                field.r#type().as_str_name(),
                                field.name(),
                                field.number()
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default()
        };
        return Some(format!(
            "its {SHOE_MESSAGE} is {{{}}}, ours {{{}}}",
            describe(&theirs),
            describe(ours)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shoe_is_first_message_of_package_main() {
        let schema = shoe_schema();
        assert_eq!(schema.record_name, "main.Shoe");
        assert_eq!(schema.message_indexes, vec![0]);
    }

    #[test]
    fn registered_text_is_the_contract_file() {
        assert!(SHOE_PROTO.contains("package main;"));
        assert!(SHOE_PROTO.contains("option go_package = \"./pb\";"));
        assert!(SHOE_PROTO.contains("message Shoe {"));
    }

    #[test]
    fn our_own_text_is_ours() {
        assert_eq!(difference_from_ours(SHOE_PROTO), None);
    }

    #[test]
    fn formatting_comments_order_and_file_options_do_not_matter() {
        // The shape Confluent's canonical form gives a schema: reordered statements, other spacing,
        // comments, extra file options.
        let reformatted = "// registered by another producer\nsyntax = \"proto3\";\n\noption java_package = \"x\";\npackage main;\n\nmessage Shoe {\n  int64 id = 1;\n  string brand = 2;\n  string name = 3;\n  double sale_price = 4;\n  double rating = 5;\n}\nmessage Later { string x = 1; }\n";
        assert_eq!(difference_from_ours(reformatted), None);
    }

    #[test]
    fn differences_that_change_the_bytes_are_named() {
        let edit = |from: &str, to: &str| {
            assert!(SHOE_PROTO.contains(from));
            difference_from_ours(&SHOE_PROTO.replace(from, to)).unwrap_or_default()
        };
        assert!(edit("package main;", "package shop;").contains("package is `shop`"));
        assert!(edit("int64 id = 1;", "string id = 1;").contains("TYPE_STRING id = 1"));
        assert!(edit("double rating = 5;", "double rating = 6;").contains("rating = 6"));
        assert!(edit(
            "double rating = 5;",
            "double rating = 5;\n  string color = 6;"
        )
        .contains("color"));
        assert!(edit("message Shoe", "message Boot").contains("no message Shoe"));
        assert!(edit("message Shoe", "message First {}\nmessage Shoe").contains("[1]"));
        assert!(edit("syntax = \"proto3\";", "syntax = \"proto2\";").contains("syntax"));
        assert!(difference_from_ours("{\"type\": \"record\"}")
            .unwrap()
            .starts_with("it does not parse as Protobuf"));
    }

    #[test]
    fn nested_and_later_messages_get_their_path() {
        let nested = |name: &str, inner: Vec<DescriptorProto>| DescriptorProto {
            name: Some(name.to_owned()),
            nested_type: inner,
            ..Default::default()
        };
        let file = FileDescriptorProto {
            message_type: vec![
                nested("A", vec![]),
                nested(
                    "B",
                    vec![nested("X", vec![]), nested("Y", vec![nested("Z", vec![])])],
                ),
            ],
            ..Default::default()
        };
        assert_eq!(message_index_path(&file, "A"), Some(vec![0]));
        assert_eq!(message_index_path(&file, "B"), Some(vec![1]));
        assert_eq!(message_index_path(&file, "B.Y.Z"), Some(vec![1, 1, 0]));
        assert_eq!(message_index_path(&file, "B.Q"), None);
        assert_eq!(message_index_path(&file, "C"), None);
    }
}
