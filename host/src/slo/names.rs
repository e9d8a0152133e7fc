//! Names people give SLOs and objectives: printable text only. A name is a
//! ledger key, a Prometheus label, a log field and a line of `status`, and a
//! control character (NUL, newline, escape) in it is never meant.

use super::definition::FieldError;
use super::openslo::SloDoc;

/// Refuses an SLO whose `metadata.name` or an objective's `displayName`
/// holds a control character (C0, DEL or C1), naming the field.
pub(super) fn check_names(slo: &SloDoc) -> Result<(), FieldError> {
    printable("metadata.name", &slo.metadata.name)?;
    for (i, o) in slo.spec.objectives.iter().enumerate() {
        if let Some(name) = &o.display_name {
            printable(&format!("spec.objectives[{i}].displayName"), name)?;
        }
    }
    Ok(())
}

fn printable(field: &str, text: &str) -> Result<(), FieldError> {
    match text.chars().enumerate().find(|(_, c)| c.is_control()) {
        None => Ok(()),
        Some((at, c)) => Err((
            field.to_string(),
            format!(
                "must not hold control characters; character {} is U+{:04X}",
                at + 1,
                u32::from(c)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_names_pass_and_a_control_character_is_named_with_its_place() {
        assert!(printable("metadata.name", "orders-volume ✓ 5 rows").is_ok());
        for (text, place) in [
            ("a\0b", "character 2 is U+0000"),
            ("a\tb", "character 2 is U+0009"),
            ("ab\n", "character 3 is U+000A"),
            ("\x1b[31m", "character 1 is U+001B"),
            ("x\u{7f}", "character 2 is U+007F"),
            ("x\u{9b}", "character 2 is U+009B"),
        ] {
            let (field, message) = printable("metadata.name", text).unwrap_err();
            assert_eq!(field, "metadata.name");
            assert!(message.ends_with(place), "{text:?}: {message}");
        }
    }
}
