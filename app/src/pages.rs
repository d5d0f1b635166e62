//! One table of pages: each page's path, who may see it, what the server loads before it
//! renders, and its place in the navigation. The session guard, the preload and the nav
//! read it; a test in `server/tests/api/pages.rs` checks that the router's routes are
//! exactly these paths, so a page cannot be added to one and forgotten in another.

/// Who may open a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user (customers and operator staff).
    SignedIn,
    /// A signed-in customer; operator staff without an account are sent to `/admin`.
    Customer,
    /// A signed-in user; the page and its server functions refuse anyone but an admin.
    Admin,
}

/// What the server loads for a page before rendering it, so the page renders in one
/// synchronous pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preload {
    Nothing,
    /// The account's license context (the header, feature gates).
    License,
    /// The license context and the dashboard's data, from one read of the overview.
    Dashboard,
}

/// Who sees a page's link in the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    Hidden,
    /// Signed-in users with an account.
    Customer(&'static str),
    /// Every signed-in user.
    Everyone(&'static str),
    /// Admins.
    Admin(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub path: &'static str,
    pub access: Access,
    pub preload: Preload,
    pub nav: Nav,
}

const fn page(path: &'static str, access: Access, preload: Preload, nav: Nav) -> Page {
    Page { path, access, preload, nav }
}

/// Every page, in navigation order.
pub const PAGES: &[Page] = &[
    page("/dashboard", Access::Customer, Preload::Dashboard, Nav::Customer("Dashboard")),
    page("/keys", Access::Customer, Preload::Nothing, Nav::Customer("API keys")),
    page("/notifications", Access::Customer, Preload::Nothing, Nav::Customer("Notifications")),
    page("/settings/alerts", Access::Customer, Preload::License, Nav::Hidden),
    page("/analytics", Access::Customer, Preload::License, Nav::Customer("Analytics")),
    page("/export", Access::Customer, Preload::License, Nav::Customer("Export")),
    page("/upgrade", Access::Customer, Preload::Nothing, Nav::Hidden),
    page("/plans", Access::Public, Preload::Nothing, Nav::Everyone("Plans")),
    page("/account", Access::SignedIn, Preload::Nothing, Nav::Everyone("Account")),
    page("/admin", Access::Admin, Preload::Nothing, Nav::Admin("Admin")),
    page("/admin/requests", Access::Admin, Preload::Nothing, Nav::Admin("Requests")),
    page("/signin", Access::Public, Preload::Nothing, Nav::Hidden),
    page("/signup", Access::Public, Preload::Nothing, Nav::Hidden),
    page("/welcome", Access::Public, Preload::Nothing, Nav::Hidden),
    page("/forgot-password", Access::Public, Preload::Nothing, Nav::Hidden),
    page("/reset-password", Access::Public, Preload::Nothing, Nav::Hidden),
];

/// The page at exactly `path` (a trailing slash ignored).
pub fn find(path: &str) -> Option<&'static Page> {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    PAGES.iter().find(|p| p.path == path)
}

/// The page whose rule covers `path`: the page itself, or the nearest page above it
/// (`/admin/anything` is guarded as `/admin`), so a path no page serves is guarded too.
pub fn guarding(path: &str) -> Option<&'static Page> {
    PAGES
        .iter()
        .filter(|p| path.strip_prefix(p.path).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
        .max_by_key(|p| p.path.len())
}

/// Loads what the signed-in page at `path` shows and puts it in the request's extensions
/// (see [`crate::preloaded`]). The server's session layer calls it for page loads, so the
/// page then renders in one synchronous pass: no resource to spawn and no Suspense
/// boundary to resolve, which was the largest share of a page's CPU after the data
/// itself. It runs the same loaders as the `get_dashboard` and `get_license` server
/// functions, for the session's own account.
#[cfg(feature = "ssr")]
pub async fn preload(state: &crate::state::AppState, viewer: &engine::auth::Viewer, path: &str, extensions: &mut axum::http::Extensions) {
    use crate::error::AppError;
    use crate::state::Preloaded;
    let Some(page) = find(path) else { return };
    let Some(account) = viewer.account.as_ref() else { return };
    // Every page's header shows the unread notifications; a failed count shows none.
    let unread = state.engine.unread_notifications(account).await.unwrap_or(0);
    extensions.insert(Preloaded(crate::api::notifications::Unread(unread)));
    if page.preload == Preload::Nothing {
        return;
    }
    // The license context and the dashboard share one read of the overview.
    let read = state.engine.overview_read(account, state.engine.now()).await.map_err(AppError::from);
    let license = match &read {
        Ok(read) => crate::api::upgrade::load_license(state, account, read).await.map(Some),
        Err(err) => Err(err.clone()),
    };
    extensions.insert(Preloaded(license));
    if page.preload == Preload::Dashboard {
        let dashboard = match read {
            Ok(read) => crate::api::overview::load_dashboard(state, account, read).await,
            Err(err) => Err(err),
        };
        extensions.insert(Preloaded(dashboard));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_subpaths_are_guarded_by_their_page() {
        for (i, a) in PAGES.iter().enumerate() {
            assert!(PAGES[i + 1..].iter().all(|b| b.path != a.path), "{} is listed twice", a.path);
        }
        assert_eq!(guarding("/admin/requests").map(|p| p.path), Some("/admin/requests"));
        assert_eq!(guarding("/admin/unknown").map(|p| p.access), Some(Access::Admin));
        assert_eq!(guarding("/dashboard/").map(|p| p.path), Some("/dashboard"));
        assert_eq!(guarding("/dashboardx").map(|p| p.path), None, "a prefix of a word is not a subpath");
        assert_eq!(find("/export/").map(|p| p.preload), Some(Preload::License));
    }
}
