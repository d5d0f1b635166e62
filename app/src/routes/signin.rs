//! `/signin` and `/signup`.

use crate::api::auth::{password_reset_available, signup_enabled, RequestPasswordReset, ResetPassword, SignIn, SignUp};
use crate::islands::LiveRegion;
use leptos::server_fn::ServerFn;
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
    let reset = Resource::new(|| (), |_| password_reset_available());
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
                {move || reset.get().and_then(Result::ok).filter(|on| *on).map(|_| view! {
                    <p class="mt-3 text-center text-sm">
                        <a href="/forgot-password" class="text-indigo-700 hover:underline" data-testid="forgot-link">"Forgot your password?"</a>
                    </p>
                })}
            </Suspense>
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

/// `/forgot-password`: asks for a reset link by email. The answer never says whether the
/// address has an account.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let available = Resource::new(|| (), |_| password_reset_available());
    view! {
        <AuthCard title="Reset your password">
            <Suspense fallback=|| ()>
                {move || available.get().map(|on| if on.unwrap_or(false) {
                    view! {
                        <LiveRegion>
                            <form action=RequestPasswordReset::url() method="post" data-enhance="replace" data-reveal="forgot">
                                <div class="space-y-4">
                                    <p class="text-sm text-slate-600">"Enter the email you sign in with. We will send a link to choose a new password."</p>
                                    <div>
                                        <label for="email" class="block text-sm font-medium">"Email"</label>
                                        <input id="email" name="email" type="text" inputmode="email" autocomplete="username" required
                                               data-testid="forgot-email" class=INPUT />
                                    </div>
                                    <crate::components::frame::FormError testid="forgot-error" />
                                    <button type="submit" class=BUTTON data-testid="forgot-submit">"Email me a link"</button>
                                </div>
                            </form>
                            <p data-testid="forgot-done" data-reveal-slot="forgot" data-json="" hidden role="status" class="text-green-800"></p>
                        </LiveRegion>
                    }.into_any()
                } else {
                    view! {
                        <p class="text-sm text-slate-700" data-testid="forgot-off">
                            "This server sends no email, so a password cannot be reset here. Ask your administrator for a sign-in link."
                        </p>
                    }.into_any()
                })}
            </Suspense>
            <p class="mt-4 text-center text-sm text-slate-600"><a href="/signin" class="text-indigo-700 hover:underline">"Back to sign in"</a></p>
        </AuthCard>
    }
}

/// `/reset-password?token=…`: chooses a new password with the emailed link.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
    let pending = action.pending();
    view! {
        <AuthCard title="Choose a new password">
            <ActionForm action>
                <input type="hidden" name="token" value=token />
                <div class="space-y-4">
                    <div>
                        <label for="new-password" class="block text-sm font-medium">"New password"</label>
                        <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="8"
                               data-testid="reset-password" class=INPUT />
                        <p class="mt-1 text-xs text-slate-500">"At least 8 characters. Every other session is signed out."</p>
                    </div>
                    <ActionError error=action_error(action.value()) testid="reset-error" />
                    <button type="submit" class=BUTTON data-testid="reset-submit" disabled=move || pending.get()>"Set password and sign in"</button>
                </div>
            </ActionForm>
        </AuthCard>
    }
}
