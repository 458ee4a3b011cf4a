//! Who may moderate whom. Pure: the caller loads the standing from the store.
//!
//! Ranks, highest first: tenant admin; the stream's owner; moderators (the
//! stream's appointed ones and tenant-role moderators); everyone else.
//! Moderating needs at least moderator rank; banning or timing someone out
//! needs a rank strictly above theirs, so a moderator can never act against
//! the owner, an admin, or another moderator.

use crate::auth::Role;
use crate::store::standing::StreamStanding;

/// A user's rank on one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    Viewer,
    Moderator,
    Owner,
    Admin,
}

impl Rank {
    pub fn of(standing: &StreamStanding) -> Rank {
        if standing.role == Role::Admin {
            Rank::Admin
        } else if standing.is_owner {
            Rank::Owner
        } else if standing.is_stream_moderator || standing.role == Role::Moderator {
            Rank::Moderator
        } else {
            Rank::Viewer
        }
    }

    /// May pin, delete, clear, time out, ban (below its rank) and set slow mode.
    pub fn can_moderate(self) -> bool {
        self >= Rank::Moderator
    }

    /// May ban or time out someone of rank `target`.
    pub fn can_ban(self, target: Rank) -> bool {
        self.can_moderate() && self > target
    }

    /// The badge this rank shows next to a name in chat.
    pub fn badge(self) -> Option<crate::chat::Badge> {
        use crate::chat::Badge;
        match self {
            Rank::Admin => Some(Badge::Admin),
            Rank::Owner => Some(Badge::Streamer),
            Rank::Moderator => Some(Badge::Moderator),
            Rank::Viewer => None,
        }
    }

    /// May appoint stream moderators: the owner and admins.
    pub fn can_appoint(self) -> bool {
        self >= Rank::Owner
    }

    /// May start and end the stream: the owner and admins.
    pub fn can_run_stream(self) -> bool {
        self >= Rank::Owner
    }
}

/// Tenant-wide powers (bans on every stream, blocked terms) belong to admins.
pub fn can_moderate_tenant(role: Role) -> bool {
    role == Role::Admin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(role: Role, is_owner: bool, is_stream_moderator: bool) -> StreamStanding {
        StreamStanding {
            role,
            is_owner,
            is_stream_moderator,
        }
    }

    #[test]
    fn ranks() {
        assert_eq!(Rank::of(&standing(Role::Admin, false, false)), Rank::Admin);
        assert_eq!(
            Rank::of(&standing(Role::Streamer, true, false)),
            Rank::Owner
        );
        assert_eq!(
            Rank::of(&standing(Role::Viewer, false, true)),
            Rank::Moderator
        );
        assert_eq!(
            Rank::of(&standing(Role::Moderator, false, false)),
            Rank::Moderator
        );
        assert_eq!(
            Rank::of(&standing(Role::Streamer, false, false)),
            Rank::Viewer
        );
        assert_eq!(
            Rank::of(&standing(Role::Analyst, false, false)),
            Rank::Viewer
        );
    }

    #[test]
    fn bans_go_strictly_down() {
        assert!(Rank::Moderator.can_ban(Rank::Viewer));
        assert!(!Rank::Moderator.can_ban(Rank::Moderator));
        assert!(!Rank::Moderator.can_ban(Rank::Owner));
        assert!(!Rank::Moderator.can_ban(Rank::Admin));
        assert!(Rank::Owner.can_ban(Rank::Moderator));
        assert!(!Rank::Owner.can_ban(Rank::Admin));
        assert!(Rank::Admin.can_ban(Rank::Owner));
        assert!(!Rank::Viewer.can_ban(Rank::Viewer));
    }
}
