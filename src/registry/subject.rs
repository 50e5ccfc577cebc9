//! Subject names, as Confluent's serializers derive them from the topic and the record name, so this
//! producer and any Confluent client configured with the same strategy share one subject.

use crate::{settings::SubjectNameStrategy, shoe::schema};

/// The subject under which the Shoe schema lives for `topic`:
/// `Topic` → `<topic>-value`, `Record` → `main.Shoe`, `TopicRecord` → `<topic>-main.Shoe`
/// (the record name comes from the compiled descriptor: package + message).
pub fn subject_name(strategy: SubjectNameStrategy, topic: &str) -> String {
    let record_name = &schema::shoe_schema().record_name;
    match strategy {
        SubjectNameStrategy::Topic => format!("{topic}-value"),
        SubjectNameStrategy::Record => record_name.clone(),
        SubjectNameStrategy::TopicRecord => format!("{topic}-{record_name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_strategy_names_the_subject_like_confluent() {
        assert_eq!(
            subject_name(SubjectNameStrategy::Topic, "shoes"),
            "shoes-value"
        );
        assert_eq!(
            subject_name(SubjectNameStrategy::Record, "shoes"),
            "main.Shoe"
        );
        assert_eq!(
            subject_name(SubjectNameStrategy::TopicRecord, "shoes"),
            "shoes-main.Shoe"
        );
    }
}
