//! `/keys`: the account's API keys. Owners create, rename, rotate and revoke them; members
//! see the list. A new key's plaintext is shown once, with a copy button.
//!
//! Server HTML in a live region: each form is sent by the browser, the list is read again,
//! and a new key's plaintext goes from the server function's answer into the page.

use crate::api::keys::{list_keys, CreateKey, KeyList, RenameKey, RevokeKey, RotateKey};
use crate::components::error_panel::ErrorPanel;
use crate::components::frame::{FormError, Frame};
use crate::components::{when, SMALL_BUTTON};
use crate::islands::LiveRegion;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use model::{ApiKeyView, KeyKind};

const INPUT: &str = "block w-full rounded-md border border-slate-300 px-3 py-2 text-base focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500";

#[component]
pub fn KeysPage() -> impl IntoView {
    let keys = Resource::new(|| (), |_| list_keys());
    view! {
        <Frame>
            <LiveRegion>
                <main class="mx-auto max-w-3xl px-4 py-6">
                    <h1 class="mb-1 text-xl font-semibold">"API keys"</h1>
                    <p class="mb-4 text-sm text-slate-600">
                        "Send a key as " <code class="rounded bg-slate-100 px-1">"Authorization: Bearer tg_…"</code>
                        ". Tollgate stores only a hash of each key, so a key can be shown only once."
                    </p>
                    <NewKey />
                    <Suspense fallback=|| ()>
                        {move || keys.get().map(|result| match result {
                            Ok(list) => view! { <KeyListView list /> }.into_any(),
                            Err(error) => view! { <ErrorPanel error title="We couldn't load your keys." /> }.into_any(),
                        })}
                    </Suspense>
                </main>
            </LiveRegion>
        </Frame>
    }
}

/// Where a key created or rotated just now is shown, once: the live region fills it from
/// the server function's answer, which only the browser ever holds.
#[component]
fn NewKey() -> impl IntoView {
    view! {
        <section role="status" data-testid="new-key" data-reveal-slot="new-key" hidden class="mb-4 rounded-xl border border-green-300 bg-green-50 p-4">
            <h2 class="font-semibold text-green-900">"Your new key “"<span data-json="key.name"></span>"”"</h2>
            <p class="mt-1 text-sm text-green-900">"Copy it now: it will not be shown again."</p>
            <div class="mt-3 flex flex-col gap-2 md:flex-row">
                <input readonly aria-label="The new API key" data-testid="new-key-value" data-json="plaintext" data-copy-source=""
                       class="min-w-0 flex-1 rounded-md border border-green-300 bg-white px-3 py-2 font-mono text-sm" />
                <div class="flex gap-2">
                    <button type="button" data-testid="copy-key" data-copy="" class="rounded-md bg-green-700 px-3 py-2 text-sm font-semibold text-white hover:bg-green-800 focus:outline-none focus:ring-2 focus:ring-green-600">
                        "Copy"
                    </button>
                    <button type="button" data-dismiss="" class=SMALL_BUTTON>"Done"</button>
                </div>
            </div>
        </section>
    }
}

#[component]
fn KeyListView(list: KeyList) -> impl IntoView {
    let KeyList { keys, can_manage, now } = list;
    let empty = keys.is_empty();
    view! {
        <Show when=move || can_manage fallback=|| view! {
            <p class="mb-4 rounded-md bg-slate-100 px-3 py-2 text-sm text-slate-700" data-testid="member-note">
                "Only the account's owners can create or revoke keys."
            </p>
        }>
            <section class="mb-6 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="create-title">
                <h2 id="create-title" class="mb-3 font-semibold">"Create a key"</h2>
                <form action=CreateKey::url() method="post" data-enhance="" data-reveal="new-key">
                    <div class="flex flex-col gap-3 md:flex-row md:items-end">
                        <div class="flex-1">
                            <label for="key-name" class="block text-sm font-medium">"Name"</label>
                            <input id="key-name" name="name" type="text" required maxlength="100" placeholder="production server"
                                   data-testid="key-name" class=INPUT />
                        </div>
                        <div>
                            <label for="key-env" class="block text-sm font-medium">"Environment"</label>
                            <select id="key-env" name="environment" class=INPUT data-testid="key-env">
                                <option value="live">"live"</option>
                                <option value="test">"test"</option>
                            </select>
                        </div>
                        <button type="submit" data-testid="create-key"
                            class="rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 disabled:opacity-60">
                            "Create key"
                        </button>
                    </div>
                    <FormError testid="create-error" class="mt-2" />
                </form>
            </section>
        </Show>
        <Show when=move || !empty fallback=|| view! { <p class="text-slate-500" data-testid="no-keys">"No keys yet."</p> }>
            <ul class="space-y-3" data-testid="key-list">
                {keys.clone().into_iter().map(|key| view! { <KeyItem key now can_manage /> }).collect_view()}
            </ul>
        </Show>
    }
}

#[component]
fn KeyItem(key: ApiKeyView, now: chrono::DateTime<chrono::Utc>, can_manage: bool) -> impl IntoView {
    let active = key.is_active(now);
    let (status, badge) = match (key.revoked_at, key.expires_at) {
        (Some(_), _) => ("Revoked", "bg-red-100 text-red-800"),
        (None, Some(t)) if t <= now => ("Expired", "bg-slate-200 text-slate-700"),
        (None, Some(_)) => ("Active, expires", "bg-yellow-100 text-yellow-900"),
        (None, None) => ("Active", "bg-green-100 text-green-800"),
    };
    let kind = match key.kind {
        KeyKind::Live => "live",
        KeyKind::Test => "test",
        KeyKind::Service => "service",
    };
    let manage = can_manage && active;
    let (rename_id, rotate_id, revoke_id) = (key.id.to_string(), key.id.to_string(), key.id.to_string());
    let (rename, rotate, revoke) = (RenameKey::url(), RotateKey::url(), RevokeKey::url());
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid="key-item" data-key-id=key.id.to_string() data-status=status>
            <div class="flex flex-wrap items-center justify-between gap-2">
                <span class="font-medium" data-testid="key-item-name">{key.name.clone()}</span>
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {badge}")>{status}</span>
            </div>
            <dl class="mt-2 grid grid-cols-2 gap-x-4 gap-y-1 text-sm md:grid-cols-4">
                <div><dt class="text-slate-500">"Key"</dt><dd class="font-mono" data-testid="key-prefix">{format!("{}…", key.prefix)}</dd></div>
                <div><dt class="text-slate-500">"Type"</dt><dd>{kind}</dd></div>
                <div><dt class="text-slate-500">"Created"</dt><dd>{when(&key.created_at)}</dd></div>
                <div><dt class="text-slate-500">"Last used"</dt><dd>{key.last_used_at.as_ref().map_or_else(|| "never".to_owned(), when)}</dd></div>
                {key.expires_at.map(|t| view! { <div><dt class="text-slate-500">"Expires"</dt><dd>{when(&t)}</dd></div> })}
            </dl>
            {manage.then(|| view! {
                <div class="mt-3 flex flex-col gap-2 border-t border-slate-100 pt-3 md:flex-row md:flex-wrap md:items-center">
                    <form action=rename method="post" data-enhance="">
                        <input type="hidden" name="id" value=rename_id />
                        <div class="flex gap-2">
                            <input name="name" type="text" required maxlength="100" aria-label="New name" placeholder="New name"
                                   class="min-w-0 flex-1 rounded-md border border-slate-300 px-2 py-1.5 text-sm" />
                            <button type="submit" class=SMALL_BUTTON>"Rename"</button>
                        </div>
                    </form>
                    <form action=rotate method="post" data-enhance="" data-reveal="new-key">
                        <input type="hidden" name="id" value=rotate_id />
                        <div class="flex gap-2">
                            <select name="grace_minutes" aria-label="Keep the old key working for" class="rounded-md border border-slate-300 px-2 py-1.5 text-sm">
                                <option value="0">"old key stops now"</option>
                                <option value="60">"old key works 1 hour"</option>
                                <option value="1440">"old key works 24 hours"</option>
                            </select>
                            <button type="submit" class=SMALL_BUTTON>"Rotate"</button>
                        </div>
                    </form>
                    <form action=revoke method="post" data-enhance="">
                        <input type="hidden" name="id" value=revoke_id />
                        <button type="submit" data-testid="revoke-key"
                            class="rounded-md border border-red-300 bg-white px-2.5 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50 focus:outline-none focus:ring-2 focus:ring-red-500">
                            "Revoke"
                        </button>
                    </form>
                    <FormError class="md:basis-full" />
                </div>
            })}
        </li>
    }
}
