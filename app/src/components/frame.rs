use crate::api::auth::SignOut;
use leptos::server_fn::ServerFn;
use leptos::prelude::*;

const NAV_LINK: &str = "rounded px-2 py-1 text-slate-600 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-slate-100 aria-[current=page]:font-semibold aria-[current=page]:text-slate-900";
use crate::pages::{Nav, PAGES};
use model::{Role, SessionUser};

/// The signed-in user, shared through context: read on the server for the page being
/// rendered, from the session the server's middleware resolved before the page. Sign-in,
/// sign-up and sign-out are form posts that redirect, so each one renders a new page for
/// the new session.
#[derive(Clone)]
pub struct SessionContext(pub Option<SessionUser>);

/// Provides the session context; called once at the app root.
pub fn provide_session() {
    #[cfg(feature = "ssr")]
    let user = crate::state::current_viewer().map(|viewer| viewer.public());
    #[cfg(not(feature = "ssr"))]
    let user = None;
    provide_context(SessionContext(user));
}

/// The top bar of every signed-in page: brand, navigation, who is signed in, sign-out.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let user = expect_context::<SessionContext>().0;
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3">
                <a href="/dashboard" class="flex items-center gap-2 font-semibold text-slate-900">
                    <span class="inline-block h-6 w-6 rounded-md bg-indigo-600" aria-hidden="true"></span>
                    "Tollgate"
                </a>
                {match user {
                    Some(user) => view! { <UserMenu user /> }.into_any(),
                    None => view! { <a href="/signin" class="text-sm font-medium text-indigo-700 hover:underline">"Sign in"</a> }.into_any(),
                }}
            </div>
        </header>
        {children()}
        <crate::components::upgrade_modal::UpgradeModalHost />
    }
}

#[component]
fn UserMenu(user: SessionUser) -> impl IntoView {
    let is_admin = user.role == Role::Admin;
    let has_account = user.account_name.is_some();
    // The page is rendered once, on the server: plain links, marked current from the path.
    let path = leptos_router::hooks::use_location().pathname.get_untracked();
    let unread = crate::preloaded::<crate::api::notifications::Unread>().unwrap_or_default().0;
    let link = move |href: &'static str, label: &'static str| {
        let current = path == href || (href != "/admin" && path.starts_with(href) && path[href.len()..].starts_with('/'));
        // The notifications link carries the unread count as a badge, which follows the
        // page's live region when it refreshes (`data-sync`).
        let badge = (href == "/notifications").then(|| {
            let shown = if unread > 99 { "99+".to_owned() } else { unread.to_string() };
            view! {
                <span data-sync="unread">
                    {(unread > 0).then(|| view! {
                        <span class="ml-1 inline-flex justify-center rounded-full bg-red-600 px-1.5 text-xs font-semibold text-white"
                              data-testid="unread-badge" data-count=unread.to_string()>
                            {shown}<span class="sr-only">" unread"</span>
                        </span>
                    })}
                </span>
            }
        });
        view! { <a href=href aria-current=current.then_some("page") class=NAV_LINK>{label}{badge}</a> }
    };
    // Pages of a customer account follow it live (`/api/live`); an admin's or a visitor's
    // have no account to follow.
    let follows = has_account.then(|| view! { <span hidden data-live-account=""></span> });
    // The navigation is the page table's, in its order.
    let shown = move |nav: Nav| match nav {
        Nav::Customer(label) => has_account.then_some(label),
        Nav::Everyone(label) => Some(label),
        Nav::Admin(label) => is_admin.then_some(label),
        Nav::Hidden => None,
    };
    view! {
        <nav class="flex flex-wrap items-center gap-1 text-sm" aria-label="Main">
            {PAGES.iter().filter_map(|page| shown(page.nav).map(|label| link(page.path, label))).collect_view()}
        </nav>
        <div class="flex min-w-0 items-center gap-2 text-sm">
            {follows}
            <span class="truncate text-slate-600" data-testid="user-email" title=user.email.clone()>{user.email.clone()}</span>
            <span class="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600" data-testid="user-role">{user.role.as_str()}</span>
            <form action=SignOut::url() method="post">
                <button type="submit" data-testid="sign-out"
                    class="rounded-md border border-slate-300 px-2.5 py-1 text-slate-700 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500">
                    "Sign out"
                </button>
            </form>
        </div>
    }
}

/// An inline message for a failed action, or nothing.
#[component]
pub fn ActionError(#[prop(into)] error: Signal<Option<String>>, #[prop(optional)] testid: &'static str) -> impl IntoView {
    view! {
        <Show when=move || error.get().is_some()>
            <p role="alert" data-testid=if testid.is_empty() { "action-error" } else { testid }
               class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
                {move || error.get().unwrap_or_default()}
            </p>
        </Show>
    }
}

/// The error of an action's last result, as text.
pub fn action_error<T, S>(value: S) -> Signal<Option<String>>
where
    T: 'static,
    S: Get<Value = Option<Result<T, crate::error::AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || match value.get() {
        Some(Err(err)) => Some(err.to_string()),
        _ => None,
    })
}

/// Where a form sent by a live region shows a refusal that is not about one field: hidden
/// until then (see [`crate::islands::LiveRegion`]).
#[component]
pub fn FormError(#[prop(optional)] testid: &'static str, #[prop(optional)] class: &'static str) -> impl IntoView {
    view! {
        <p data-error-for="" hidden data-testid=if testid.is_empty() { "action-error" } else { testid }
           class=format!("rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800 {class}")></p>
    }
}
