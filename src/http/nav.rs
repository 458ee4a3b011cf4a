//! The header every page shares: the language switch, the analytics link
//! for those who may read analytics, and who is logged in with Log out (or
//! Log in). `templates/nav.html` renders it.

use crate::auth::SessionUser;
use crate::http::api::analytics::sees_analytics;

/// What the header shows.
pub struct Nav {
    /// The logged-in user's name; `None` shows Log in.
    pub username: Option<String>,
    /// Analysts and admins get a link to the dashboard.
    pub show_analytics: bool,
    /// The Log out form's CSRF token.
    pub csrf_token: String,
    /// Marks the analytics link as the current page.
    pub on_analytics: bool,
}

impl Nav {
    /// The header for `user` (if logged in), posting Log out with `csrf_token`.
    pub fn new(user: Option<&SessionUser>, csrf_token: &str) -> Nav {
        Nav {
            username: user.map(|u| u.username.clone()),
            show_analytics: user.is_some_and(|u| sees_analytics(u.role)),
            csrf_token: csrf_token.to_owned(),
            on_analytics: false,
        }
    }

    /// The same header, on an analytics page.
    pub fn on_analytics(mut self) -> Nav {
        self.on_analytics = true;
        self
    }
}
