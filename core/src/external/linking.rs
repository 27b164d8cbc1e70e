//! Which user an external identity signs in as: GoTrue's account-linking rules
//! (`DetermineAccountLinking`), decided from what the database found.
//!
//! - The identity (provider, subject) exists: its user.
//! - Otherwise, only an address the provider verified (or any, with `mailer_autoconfirm`) can
//!   link: one user holding it (as their address or an identity's) gets the new identity; more
//!   than one is refused; none gets a new user.
//! - An unverified address never links, and never takes an address another user holds: the new
//!   user then has no email.

use uuid::Uuid;

/// What the database found for a profile.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Found {
    /// The user who holds the identity (provider, subject).
    pub identity_owner: Option<Uuid>,
    /// Distinct users holding the (verified) address, through a user row or an identity
    /// (never SSO users: another linking domain).
    pub address_holders: Vec<Uuid>,
    /// Some user already holds the address (verified or not).
    pub address_taken: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Sign in as the identity's user.
    Existing(Uuid),
    /// Link the identity to this user, then sign in as them.
    Link(Uuid),
    /// A new user, with this address (or none).
    Create { email: Option<String> },
    /// More than one user holds the address: refused (GoTrue's "Multiple accounts").
    Ambiguous,
}

/// `email`: the profile's address; `linkable`: the provider verified it, or the instance
/// confirms addresses without mail (`mailer_autoconfirm`).
pub fn decide(found: &Found, email: Option<&str>, linkable: bool) -> Decision {
    if let Some(owner) = found.identity_owner {
        return Decision::Existing(owner);
    }
    let Some(email) = email else {
        return Decision::Create { email: None };
    };
    if !linkable {
        return Decision::Create {
            email: (!found.address_taken).then(|| email.to_owned()),
        };
    }
    match found.address_holders.as_slice() {
        [] => Decision::Create {
            email: Some(email.to_owned()),
        },
        [one] => Decision::Link(*one),
        _ => Decision::Ambiguous,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn gotrues_rules() {
        let none = Found::default();
        let holder = Found {
            address_holders: vec![id(2)],
            address_taken: true,
            ..Found::default()
        };
        // Known identity wins over everything.
        let known = Found {
            identity_owner: Some(id(1)),
            ..holder.clone()
        };
        assert_eq!(
            decide(&known, Some("a@b.co"), false),
            Decision::Existing(id(1))
        );
        // Verified address held by one user: linked.
        assert_eq!(decide(&holder, Some("a@b.co"), true), Decision::Link(id(2)));
        // Unverified: never linked, never takes the address.
        assert_eq!(
            decide(&holder, Some("a@b.co"), false),
            Decision::Create { email: None }
        );
        assert_eq!(
            decide(&none, Some("a@b.co"), false),
            Decision::Create {
                email: Some("a@b.co".into())
            }
        );
        assert_eq!(
            decide(&none, Some("a@b.co"), true),
            Decision::Create {
                email: Some("a@b.co".into())
            }
        );
        assert_eq!(decide(&none, None, true), Decision::Create { email: None });
        let two = Found {
            address_holders: vec![id(2), id(3)],
            address_taken: true,
            ..Found::default()
        };
        assert_eq!(decide(&two, Some("a@b.co"), true), Decision::Ambiguous);
    }
}
