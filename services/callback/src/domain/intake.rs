//! What makes two IVR pushes "the same body": the normalised fields, apart from the request
//! time, which a retry may leave out.

use sha2::{Digest, Sha256};

/// The normalised fields of a push that a retry must repeat exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeBody<'a> {
    pub phone_e164: &'a str,
    pub caller_e164: &'a str,
    pub route_code: &'a str,
    /// The preferred window as Unix microseconds, when given.
    pub preferred_window: Option<(i64, i64)>,
    pub memo: &'a str,
}

impl IntakeBody<'_> {
    /// A digest of the fields, each length-prefixed so no two bodies share one.
    pub fn digest(&self) -> Vec<u8> {
        let mut hash = Sha256::new();
        for field in [
            self.phone_e164,
            self.caller_e164,
            self.route_code,
            self.memo,
        ] {
            hash.update((field.len() as u64).to_be_bytes());
            hash.update(field.as_bytes());
        }
        match self.preferred_window {
            Some((start, end)) => {
                hash.update([1]);
                hash.update(start.to_be_bytes());
                hash.update(end.to_be_bytes());
            }
            None => hash.update([0]),
        }
        hash.finalize().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> IntakeBody<'static> {
        IntakeBody {
            phone_e164: "+821012345678",
            caller_e164: "",
            route_code: "main",
            preferred_window: None,
            memo: "",
        }
    }

    #[test]
    fn every_field_counts() {
        let base = body().digest();
        assert_eq!(base, body().digest());
        let changed = [
            IntakeBody {
                phone_e164: "+821012345679",
                ..body()
            },
            IntakeBody {
                caller_e164: "+821012345678",
                ..body()
            },
            IntakeBody {
                route_code: "other",
                ..body()
            },
            IntakeBody {
                preferred_window: Some((1, 2)),
                ..body()
            },
            IntakeBody {
                memo: "x",
                ..body()
            },
        ];
        for other in changed {
            assert_ne!(other.digest(), base, "{other:?}");
        }
    }

    #[test]
    fn fields_cannot_shift_into_each_other() {
        let a = IntakeBody {
            route_code: "ab",
            memo: "c",
            ..body()
        };
        let b = IntakeBody {
            route_code: "a",
            memo: "bc",
            ..body()
        };
        assert_ne!(a.digest(), b.digest());
    }
}
