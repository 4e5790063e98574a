//! The callback state machine (docs/product.md §2.2): REGISTERED → UNPROCESSED (assign),
//! UNPROCESSED → COMPLETED (complete), UNPROCESSED → CANCELLED (cancel assignment),
//! CANCELLED → UNPROCESSED (assign again). Call attempts need UNPROCESSED and keep the state.

use switchboard_proto::callback::v1::CallbackState;

/// What someone wants to do to a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Assign,
    CancelAssignment,
    Connect,
    Complete,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::CancelAssignment => "cancel assignment",
            Action::Connect => "connect",
            Action::Complete => "complete",
        }
    }

    /// The states the action may start from.
    pub fn allowed_from(self) -> &'static [CallbackState] {
        match self {
            Action::Assign => &[CallbackState::Registered, CallbackState::Cancelled],
            Action::CancelAssignment | Action::Connect | Action::Complete => {
                &[CallbackState::Unprocessed]
            }
        }
    }

    fn state_after(self, from: CallbackState) -> CallbackState {
        match self {
            Action::Assign => CallbackState::Unprocessed,
            Action::CancelAssignment => CallbackState::Cancelled,
            Action::Connect => from,
            Action::Complete => CallbackState::Completed,
        }
    }
}

/// The state after `action`, or why it is refused, naming the current and the needed states
/// (for example "callback is COMPLETED, connect needs UNPROCESSED").
pub fn transition(action: Action, from: CallbackState) -> Result<CallbackState, String> {
    let allowed = action.allowed_from();
    if allowed.contains(&from) {
        return Ok(action.state_after(from));
    }
    let needed = allowed
        .iter()
        .map(|state| short_name(*state))
        .collect::<Vec<_>>()
        .join(" or ");
    Err(format!(
        "callback is {}, {} needs {needed}",
        short_name(from),
        action.name()
    ))
}

/// "REGISTERED", "UNPROCESSED", … as in the API's enum without its prefix.
pub fn short_name(state: CallbackState) -> &'static str {
    match state {
        CallbackState::Unspecified => "UNSPECIFIED",
        CallbackState::Registered => "REGISTERED",
        CallbackState::Unprocessed => "UNPROCESSED",
        CallbackState::Completed => "COMPLETED",
        CallbackState::Cancelled => "CANCELLED",
    }
}

/// The Korean label of a state as the screens show it (등록, 미처리, 완료, 취소).
pub fn korean_label(state: CallbackState) -> &'static str {
    match state {
        CallbackState::Unspecified => "",
        CallbackState::Registered => "등록",
        CallbackState::Unprocessed => "미처리",
        CallbackState::Completed => "완료",
        CallbackState::Cancelled => "취소",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CallbackState::*;

    const STATES: [CallbackState; 4] = [Registered, Unprocessed, Completed, Cancelled];

    #[test]
    fn exactly_the_transitions_of_the_spec() {
        let allowed = [
            (Action::Assign, Registered, Unprocessed),
            (Action::Assign, Cancelled, Unprocessed),
            (Action::CancelAssignment, Unprocessed, Cancelled),
            (Action::Complete, Unprocessed, Completed),
            (Action::Connect, Unprocessed, Unprocessed),
        ];
        for action in [
            Action::Assign,
            Action::CancelAssignment,
            Action::Connect,
            Action::Complete,
        ] {
            for from in STATES {
                let expected = allowed
                    .iter()
                    .find(|(a, f, _)| *a == action && *f == from)
                    .map(|(_, _, to)| *to);
                assert_eq!(
                    transition(action, from).ok(),
                    expected,
                    "{action:?} {from:?}"
                );
            }
        }
    }

    #[test]
    fn completed_is_final() {
        for action in [
            Action::Assign,
            Action::CancelAssignment,
            Action::Connect,
            Action::Complete,
        ] {
            assert!(transition(action, Completed).is_err());
        }
    }

    #[test]
    fn refusals_name_both_states() {
        assert_eq!(
            transition(Action::Connect, Completed).unwrap_err(),
            "callback is COMPLETED, connect needs UNPROCESSED"
        );
        assert_eq!(
            transition(Action::Assign, Unprocessed).unwrap_err(),
            "callback is UNPROCESSED, assign needs REGISTERED or CANCELLED"
        );
    }
}
