//! Kafka's rules for topic names, checked the same way by every stage and tool.

/// The longest topic name Kafka accepts.
pub const MAX_NAME: usize = 249;

/// A Kafka topic name: 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a topic name must not be empty".into());
    }
    if name == "." || name == ".." {
        return Err(format!("{name:?} is not a legal topic name"));
    }
    if name.len() > MAX_NAME {
        return Err(format!(
            "topic name of {} characters; Kafka allows at most {MAX_NAME}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "{name:?} has {c:?}; topic names use only letters, digits, '.', '_' and '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_rules() {
        assert!(check_name("orders.v1_x-y").is_ok());
        assert!(check_name("a b").is_err());
        assert!(check_name("..").is_err());
        assert!(check_name("").is_err());
        assert!(check_name(&"x".repeat(250)).is_err());
        assert!(check_name(&"x".repeat(249)).is_ok());
    }
}
