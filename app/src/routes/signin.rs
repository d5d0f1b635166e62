//! `/signin` and `/signup`.

use crate::api::auth::{signup_enabled, SignIn, SignUp};
use crate::components::frame::{action_error, ActionError};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

pub(crate) const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-base shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500";
pub(crate) const BUTTON: &str = "w-full rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2 disabled:opacity-60";

#[component]
pub(crate) fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <main class="mx-auto w-full max-w-sm px-4 py-12">
            <a href="/" class="mb-8 flex items-center justify-center gap-2 text-lg font-semibold">
                <span class="inline-block h-7 w-7 rounded-md bg-indigo-600" aria-hidden="true"></span>
                "Tollgate"
            </a>
            <div class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
                <h1 class="mb-4 text-xl font-semibold">{title}</h1>
                {children()}
            </div>
        </main>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.with(|q| q.get("next").unwrap_or_default());
    let pending = action.pending();
    let signup = Resource::new(|| (), |_| signup_enabled());
    view! {
        <AuthCard title="Sign in">
            <ActionForm action>
                <input type="hidden" name="next" value=next />
                <div class="space-y-4">
                    <div>
                        <label for="email" class="block text-sm font-medium">"Email"</label>
                        <input id="email" name="email" type="text" inputmode="email" autocomplete="username" required
                               data-testid="signin-email" class=INPUT />
                    </div>
                    <div>
                        <label for="password" class="block text-sm font-medium">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required
                               data-testid="signin-password" class=INPUT />
                    </div>
                    <ActionError error=action_error(action.value()) testid="signin-error" />
                    <button type="submit" class=BUTTON data-testid="signin-submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </div>
            </ActionForm>
            <Suspense fallback=|| ()>
                {move || signup.get().and_then(Result::ok).filter(|on| *on).map(|_| view! {
                    <p class="mt-4 text-center text-sm text-slate-600">
                        "New here? " <a href="/signup" class="font-medium text-indigo-700 hover:underline">"Create an account"</a>
                    </p>
                })}
            </Suspense>
        </AuthCard>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let pending = action.pending();
    view! {
        <AuthCard title="Create your account">
            <p class="mb-4 text-sm text-slate-600">"You start on the free plan; upgrade any time."</p>
            <ActionForm action>
                <div class="space-y-4">
                    <div>
                        <label for="account_name" class="block text-sm font-medium">"Company or project"</label>
                        <input id="account_name" name="account_name" type="text" autocomplete="organization" required class=INPUT />
                    </div>
                    <div>
                        <label for="email" class="block text-sm font-medium">"Email"</label>
                        <input id="email" name="email" type="text" inputmode="email" autocomplete="username" required class=INPUT />
                    </div>
                    <div>
                        <label for="password" class="block text-sm font-medium">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" class=INPUT />
                        <p class="mt-1 text-xs text-slate-500">"At least 8 characters."</p>
                    </div>
                    <ActionError error=action_error(action.value()) testid="signup-error" />
                    <button type="submit" class=BUTTON disabled=move || pending.get()>"Create account"</button>
                </div>
            </ActionForm>
            <p class="mt-4 text-center text-sm text-slate-600">
                "Have an account? " <a href="/signin" class="font-medium text-indigo-700 hover:underline">"Sign in"</a>
            </p>
        </AuthCard>
    }
}
