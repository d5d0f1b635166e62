//! `/welcome?token=…`: an owner created by a purchase sets a password with a sign-in link,
//! and receives the account's first API key, once.
//!
//! The key must not survive a redirect, so the form is sent by the live region, which
//! shows the server function's answer in the hidden slot below and hides the form.

use super::signin::{AuthCard, BUTTON, INPUT};
use crate::api::auth::RedeemLink;
use crate::components::frame::FormError;
use crate::islands::LiveRegion;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

#[component]
pub fn WelcomePage() -> impl IntoView {
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
    view! {
        <AuthCard title="Welcome to Tollgate">
            <LiveRegion>
                <form action=RedeemLink::url() method="post" data-enhance="replace" data-reveal="welcome">
                    <input type="hidden" name="token" value=token />
                    <div class="space-y-4">
                        <p class="text-sm text-slate-600">"Thanks for your purchase. Choose a password to finish setting up your account."</p>
                        <div>
                            <label for="new-password" class="block text-sm font-medium">"Password"</label>
                            <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="8"
                                   data-testid="welcome-password" class=INPUT />
                            <p class="mt-1 text-xs text-slate-500">"At least 8 characters."</p>
                        </div>
                        <FormError testid="welcome-error" />
                        <button type="submit" class=BUTTON data-testid="welcome-submit">"Set password and sign in"</button>
                    </div>
                </form>
                <div data-testid="welcome-done" data-reveal-slot="welcome" hidden class="space-y-3">
                    <p role="status" class="text-green-800">"Your password is set and you are signed in."</p>
                    // A purchase's account gets a first key; a missing one hides this block.
                    <div data-optional="">
                        <p class="text-sm font-medium">"Your first API key"</p>
                        <p class="mt-1 break-all rounded-md bg-green-50 px-3 py-2 font-mono text-sm text-green-900" data-testid="first-key" data-json="plaintext"></p>
                        <p class="mt-1 text-xs text-slate-500">"Copy it now: it will not be shown again. You can create more under API keys."</p>
                    </div>
                    <a href="/dashboard" class="block rounded-md bg-indigo-600 px-4 py-2 text-center font-semibold text-white hover:bg-indigo-700">"Go to your dashboard"</a>
                </div>
            </LiveRegion>
        </AuthCard>
    }
}
