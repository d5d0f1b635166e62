//! `/account`: the signed-in user's password.

use crate::api::auth::ChangePassword;
use crate::components::frame::{action_error, ActionError, Frame};
use leptos::prelude::*;

const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 text-base focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500";

#[component]
pub fn AccountPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let done = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <Frame>
            <main class="mx-auto max-w-md px-4 py-6">
                <h1 class="mb-4 text-xl font-semibold">"Account"</h1>
                <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="pw-title">
                    <h2 id="pw-title" class="mb-3 font-semibold">"Change password"</h2>
                    <ActionForm action>
                        <div class="space-y-4">
                            <div>
                                <label for="current_password" class="block text-sm font-medium">"Current password"</label>
                                <input id="current_password" name="current_password" type="password" autocomplete="current-password" required class=INPUT />
                            </div>
                            <div>
                                <label for="new_password" class="block text-sm font-medium">"New password"</label>
                                <input id="new_password" name="new_password" type="password" autocomplete="new-password" required class=INPUT />
                            </div>
                            <label class="flex items-center gap-2 text-sm">
                                <input type="checkbox" name="sign_out_others" value="on" checked class="h-4 w-4" />
                                "Sign out my other sessions"
                            </label>
                            <ActionError error=action_error(action.value()) />
                            <Show when=done>
                                <p role="status" data-testid="password-changed" class="rounded-md bg-green-50 px-3 py-2 text-sm text-green-800">
                                    "Password changed."
                                </p>
                            </Show>
                            <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500">
                                "Change password"
                            </button>
                        </div>
                    </ActionForm>
                </section>
            </main>
        </Frame>
    }
}
