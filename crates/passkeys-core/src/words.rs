//! Quantities as a person reads them in a message.

/// `1 second`, `90 seconds`, `5 minutes`, `3 hours`, rounded to the
/// nearest unit (299 s is "5 minutes").
pub(crate) fn duration_in_words(seconds: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match seconds {
        0..=119 => plural(seconds, "second"),
        120..=7199 => plural((seconds + 30) / 60, "minute"),
        _ => plural((seconds + 1800) / 3600, "hour"),
    }
}

#[cfg(test)]
mod tests {
    use super::duration_in_words;

    #[test]
    fn one_is_singular_and_each_unit_rounds() {
        assert_eq!(duration_in_words(1), "1 second");
        assert_eq!(duration_in_words(60), "60 seconds");
        assert_eq!(duration_in_words(299), "5 minutes");
        assert_eq!(duration_in_words(300), "5 minutes");
        assert_eq!(duration_in_words(7200), "2 hours");
    }
}
