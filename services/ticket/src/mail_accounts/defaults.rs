//! The default reply account (mail_account.proto, `default_for_replies`). Pure.
//!
//! The invariant: while any account is active, exactly one active account is the default; an
//! inactive account is never the default; with no active account there is none. Every write
//! keeps it, under a lock of the table (`store::lock`), so no two writes decide at once:
//! - an active account that is not the default becomes it when no other active one is (the
//!   first account created, or one reactivated when none is active);
//! - making an account the default clears it on the others, in the same transaction; an
//!   inactive account cannot be made the default;
//! - the default stays the default while it is active: it moves by setting it on another
//!   account, never by clearing it (that would leave active accounts without one);
//! - deactivating the default is refused while other accounts are active (make one of them the
//!   default first); the last active account may be deactivated and then is not the default;
//! - deleting the default is refused (`DeleteMailAccount`); other accounts may go, since an
//!   inactive or non-default account carries no part of the invariant.

/// What the other accounts are, read under the lock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Others {
    pub any_active: bool,
    pub active_default: bool,
}

/// An account's two flags after a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flags {
    pub active: bool,
    pub default: bool,
}

/// The flags an account gets when it `was_default` and the write asks `active` and, when it
/// names it, `asked_default`; or why the write is refused (FAILED_PRECONDITION). When the
/// result is the default, the others' flag is cleared.
pub fn settle(
    was_default: bool,
    active: bool,
    asked_default: Option<bool>,
    others: Others,
) -> Result<Flags, &'static str> {
    if !active {
        if asked_default == Some(true) {
            return Err("an inactive account cannot be the default reply account");
        }
        if was_default && others.any_active {
            return Err(
                "the default reply account cannot be deactivated while other accounts are \
                 active; make another account the default first",
            );
        }
        return Ok(Flags {
            active,
            default: false,
        });
    }
    let default = asked_default.unwrap_or(was_default);
    if was_default && !default {
        return Err(
            "the default reply account stays the default while it is active; set \
             default_for_replies on another account instead",
        );
    }
    Ok(Flags {
        active,
        default: default || !others.active_default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NONE: Others = Others {
        any_active: false,
        active_default: false,
    };
    const WITH_DEFAULT: Others = Others {
        any_active: true,
        active_default: true,
    };

    fn flags(active: bool, default: bool) -> Result<Flags, &'static str> {
        Ok(Flags { active, default })
    }

    #[test]
    fn the_rule_case_by_case() {
        // (was_default, active, asked_default, others) → result
        let cases = [
            // The first account created becomes the default.
            (false, true, None, NONE, flags(true, true)),
            (false, true, Some(false), NONE, flags(true, true)),
            // Others have one: a new account is not, unless asked.
            (false, true, Some(false), WITH_DEFAULT, flags(true, false)),
            (false, true, Some(true), WITH_DEFAULT, flags(true, true)),
            // The default cannot be cleared while active.
            (true, true, Some(false), WITH_DEFAULT, Err("")),
            (true, true, Some(false), NONE, Err("")),
            // Nor deactivated while others are active, unless it is the last active one.
            (
                true,
                false,
                None,
                Others {
                    any_active: true,
                    active_default: false,
                },
                Err(""),
            ),
            (true, false, None, NONE, flags(false, false)),
            // An inactive account is never the default.
            (false, false, Some(true), NONE, Err("")),
            (false, false, None, WITH_DEFAULT, flags(false, false)),
            // Reactivated with no default around: it becomes the default.
            (
                false,
                true,
                None,
                Others {
                    any_active: true,
                    active_default: false,
                },
                flags(true, true),
            ),
        ];
        for (i, (was, active, asked, others, expected)) in cases.into_iter().enumerate() {
            let got = settle(was, active, asked, others);
            match expected {
                Ok(flags) => assert_eq!(got, Ok(flags), "case {i}"),
                Err(_) => assert!(got.is_err(), "case {i}: {got:?}"),
            }
        }
    }
}
