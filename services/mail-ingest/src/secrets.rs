//! An account's IMAP or SMTP password from its `secret_ref` (mail_account.proto): `env:NAME` or
//! `file:/path`. Resolved at every login, so a rotated secret is used without a restart; the
//! value never reaches a log or an error message (only the reference does).

use std::fmt;

/// A password, kept out of `Debug` output.
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Resolves `reference` from the process's environment and files.
pub fn resolve(reference: &str) -> Result<Secret, String> {
    resolve_with(
        reference,
        |name| std::env::var(name).ok(),
        |path| std::fs::read(path).map_err(|e| e.kind().to_string()),
    )
}

/// Resolves `reference` with `env` (a variable's value) and `read` (a file's bytes). Pure but
/// for those two. A file's one trailing newline (as editors and `echo` leave) is not part of
/// the password.
pub fn resolve_with(
    reference: &str,
    env: impl FnOnce(&str) -> Option<String>,
    read: impl FnOnce(&str) -> Result<Vec<u8>, String>,
) -> Result<Secret, String> {
    let reference = reference.trim();
    if let Some(name) = reference.strip_prefix("env:") {
        return match env(name) {
            Some(value) if !value.is_empty() => Ok(Secret(value)),
            Some(_) => Err(format!("the secret {reference} is empty")),
            None => Err(format!("the secret {reference} is not set")),
        };
    }
    if let Some(path) = reference.strip_prefix("file:") {
        let bytes =
            read(path).map_err(|why| format!("cannot read the secret {reference}: {why}"))?;
        let mut text =
            String::from_utf8(bytes).map_err(|_| format!("the secret {reference} is not UTF-8"))?;
        if text.ends_with('\n') {
            text.pop();
            if text.ends_with('\r') {
                text.pop();
            }
        }
        if text.is_empty() {
            return Err(format!("the secret {reference} is empty"));
        }
        return Ok(Secret(text));
    }
    if reference.is_empty() {
        return Err("the account has no secret_ref".into());
    }
    Err("the secret_ref is neither env:NAME nor file:/path".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn no_file(_: &str) -> Result<Vec<u8>, String> {
        Err("not found".into())
    }

    #[test]
    fn env_names_a_variable() {
        let secret = resolve_with(
            "env:IMAP_PASSWORD",
            |name| (name == "IMAP_PASSWORD").then(|| "s3cret".to_owned()),
            no_file,
        )
        .unwrap();
        assert_eq!(secret.expose(), "s3cret");
        let missing = resolve_with("env:IMAP_PASSWORD", no_env, no_file).unwrap_err();
        assert_eq!(missing, "the secret env:IMAP_PASSWORD is not set");
    }

    #[test]
    fn a_file_loses_one_trailing_newline() {
        let read = |text: &'static str| move |_: &str| Ok(text.as_bytes().to_vec());
        let file = |text| resolve_with("file:/run/secrets/imap", no_env, read(text));
        assert_eq!(file("pw\n").unwrap().expose(), "pw");
        assert_eq!(file("pw\r\n").unwrap().expose(), "pw");
        assert_eq!(file("pw\n\n").unwrap().expose(), "pw\n");
        assert_eq!(file(" pw ").unwrap().expose(), " pw ");
        assert!(file("\n").is_err());
    }

    #[test]
    fn errors_name_the_reference_never_the_value() {
        let unreadable = resolve_with("file:/nope", no_env, no_file).unwrap_err();
        assert_eq!(unreadable, "cannot read the secret file:/nope: not found");
        assert!(resolve_with("vault:x", no_env, no_file).is_err());
        assert!(resolve_with("", no_env, no_file).is_err());
        let secret = resolve_with("env:X", |_| Some("hidden".into()), no_file).unwrap();
        assert!(!format!("{secret:?}").contains("hidden"));
    }
}
