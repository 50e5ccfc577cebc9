//! User text echoed in a message, quoted so the message stays one line and shows what was given.
//!
//! An error is one line that log collectors and terminals take as it is: a value holding a newline
//! would split it, a control byte would garble the terminal. Every message that repeats what the user
//! typed (a value, a key, a path) passes it through [`quoted`].

/// `text` in single quotes, with control characters, `\` and `'` escaped: `'a\nb'`, `'a\x01b'`.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(quoted("a\nb"), r"'a\nb'");
        assert_eq!(quoted("a\x01b"), r"'a\x01b'");
        assert_eq!(quoted("tab\there\r"), r"'tab\there\r'");
        assert_eq!(quoted("it's a\\b"), r"'it\'s a\\b'");
        assert_eq!(quoted("\u{7f}\u{85}\u{2028}"), r"'\x7f\u{85}\u{2028}'");
        assert_eq!(quoted("größe ≥ 1"), "'größe ≥ 1'");
        assert_eq!(quoted(""), "''");
    }
}
