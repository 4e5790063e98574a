//! Mail passwords by reference, as accounts name them: `env:NAME` (an environment variable) or
//! `file:/path` (a mounted secret file, a trailing newline dropped). Resolved at each use, so a
//! rotated secret is picked up without a restart; never logged.

/// Why a reference gives no secret (the message names the reference, never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved(pub String);

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The secret `reference` names.
pub fn resolve(reference: &str) -> Result<String, Unresolved> {
    if let Some(name) = reference.strip_prefix("env:") {
        return std::env::var(name)
            .map_err(|_| Unresolved(format!("the environment variable {name} is not set")));
    }
    if let Some(path) = reference.strip_prefix("file:") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Unresolved(format!("the secret file {path} cannot be read: {e}")))?;
        return Ok(text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text)
            .to_owned());
    }
    Err(Unresolved(
        "a secret reference must be env:NAME or file:/path".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_resolve_from_files_and_refuse_other_references() {
        let path = std::env::temp_dir().join(format!("sb-secret-{}", std::process::id()));
        std::fs::write(&path, "s3cret\n").unwrap();
        assert_eq!(
            resolve(&format!("file:{}", path.display())).unwrap(),
            "s3cret"
        );
        std::fs::remove_file(&path).unwrap();
        assert!(resolve(&format!("file:{}", path.display())).is_err());
        assert!(resolve("env:SWITCHBOARD_TEST_SURELY_UNSET_VARIABLE").is_err());
        assert!(resolve("plain-password").is_err());
    }
}
