use crate::api::auth::{current_user, SignOut};
use leptos::prelude::*;
use leptos_router::components::A;
use model::{Role, SessionUser};

/// The signed-in user, shared through context; read on the server for the page being
/// rendered. Sign-in, sign-up and sign-out are form posts that redirect, so each one
/// renders a new page for the new session.
#[derive(Clone, Copy)]
pub struct SessionContext(pub Resource<Result<Option<SessionUser>, crate::error::AppError>>);

/// Provides the session context; called once at the app root.
pub fn provide_session() {
    provide_context(SessionContext(Resource::new(|| (), |_| current_user())));
}

/// The top bar of every signed-in page: brand, navigation, who is signed in, sign-out.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let context = expect_context::<SessionContext>();
    let session = context.0;
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3">
                <a href="/dashboard" class="flex items-center gap-2 font-semibold text-slate-900">
                    <span class="inline-block h-6 w-6 rounded-md bg-indigo-600" aria-hidden="true"></span>
                    "Tollgate"
                </a>
                <Suspense fallback=|| ()>
                    {move || session.get().map(|user| match user {
                        Ok(Some(user)) => view! { <UserMenu user sign_out /> }.into_any(),
                        _ => view! { <a href="/signin" class="text-sm font-medium text-indigo-700 hover:underline">"Sign in"</a> }.into_any(),
                    })}
                </Suspense>
            </div>
        </header>
        {children()}
        <crate::components::upgrade_modal::UpgradeModalHost />
    }
}

#[component]
fn UserMenu(user: SessionUser, sign_out: ServerAction<SignOut>) -> impl IntoView {
    let is_admin = user.role == Role::Admin;
    let has_account = user.account_name.is_some();
    let link = "rounded px-2 py-1 text-slate-600 hover:bg-slate-100 hover:text-slate-900 aria-[current=page]:bg-slate-100 aria-[current=page]:font-semibold aria-[current=page]:text-slate-900";
    view! {
        <nav class="flex flex-wrap items-center gap-1 text-sm" aria-label="Main">
            <Show when=move || has_account>
                <A href="/dashboard" attr:class=link>"Dashboard"</A>
                <A href="/keys" attr:class=link>"API keys"</A>
                <A href="/analytics" attr:class=link>"Analytics"</A>
                <A href="/export" attr:class=link>"Export"</A>
            </Show>
            <A href="/plans" attr:class=link>"Plans"</A>
            <A href="/account" attr:class=link>"Account"</A>
            <Show when=move || is_admin>
                <A href="/admin" exact=true attr:class=link>"Admin"</A>
                <A href="/admin/requests" attr:class=link>"Requests"</A>
            </Show>
        </nav>
        <div class="flex min-w-0 items-center gap-2 text-sm">
            <span class="truncate text-slate-600" data-testid="user-email" title=user.email.clone()>{user.email.clone()}</span>
            <span class="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-600" data-testid="user-role">{user.role.as_str()}</span>
            <ActionForm action=sign_out>
                <button type="submit" data-testid="sign-out"
                    class="rounded-md border border-slate-300 px-2.5 py-1 text-slate-700 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500">
                    "Sign out"
                </button>
            </ActionForm>
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
