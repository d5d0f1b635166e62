//! `/notifications`: what the account was told about its usage and license, newest first,
//! with a way to mark each (or all) read. The unread count is the badge in every page's
//! header.
//!
//! Server HTML in a live region: each form is sent by the browser and the list is read
//! again, so the badge and the list change together.

use crate::api::notifications::{list_notifications, MarkNotificationsRead, NotificationPage};
use crate::components::error_panel::ErrorPanel;
use crate::components::frame::{FormError, Frame};
use crate::components::SMALL_BUTTON;
use crate::islands::LiveRegion;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use model::{AlertKind, Notification};


#[component]
pub fn NotificationsPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| list_notifications());
    view! {
        <Frame>
            <LiveRegion>
                <main class="mx-auto max-w-3xl px-4 py-6">
                    <h1 class="mb-1 text-xl font-semibold">"Notifications"</h1>
                    <p class="mb-4 text-sm text-slate-600">
                        "Thresholds your usage crossed, limits reached, and changes to your license and plan: at most one a day for each. "
                        <a href="/settings/alerts" class="font-medium text-indigo-700 underline" data-testid="alert-settings-link">"Alert settings"</a>
                    </p>
                    <Suspense fallback=|| ()>
                        {move || page.get().map(|result| match result {
                            Ok(page) => view! { <NotificationList page /> }.into_any(),
                            Err(error) => view! { <ErrorPanel error title="We couldn't load your notifications." /> }.into_any(),
                        })}
                    </Suspense>
                </main>
            </LiveRegion>
        </Frame>
    }
}

#[component]
fn NotificationList(page: NotificationPage) -> impl IntoView {
    let NotificationPage { unread, items } = page;
    if items.is_empty() {
        return view! {
            <p class="rounded-xl border border-slate-200 bg-white p-4 text-sm text-slate-600" data-testid="no-notifications">
                "Nothing yet. You will be told here when a meter reaches its warning threshold or its limit."
            </p>
        }
        .into_any();
    }
    view! {
        <div class="mb-3 flex flex-wrap items-center justify-between gap-2">
            <p class="text-sm text-slate-700" data-testid="unread-summary">
                {match unread { 0 => "All read.".to_owned(), 1 => "1 unread.".to_owned(), n => format!("{n} unread.") }}
            </p>
            {(unread > 0).then(|| view! {
                <form action=MarkNotificationsRead::url() method="post" data-enhance="">
                    <input type="hidden" name="id" value="" />
                    <button type="submit" class=SMALL_BUTTON data-testid="mark-all-read">"Mark all read"</button>
                    <FormError />
                </form>
            })}
        </div>
        <ul class="space-y-3" data-testid="notifications">
            {items.into_iter().map(|item| view! { <Item item /> }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn Item(item: Notification) -> impl IntoView {
    let (tone, label) = match item.kind {
        AlertKind::Exceeded => ("border-red-200 bg-red-50", "Limit reached"),
        AlertKind::ThresholdCrossed => ("border-amber-200 bg-amber-50", "Threshold"),
        AlertKind::LicenseExpiring => ("border-sky-200 bg-sky-50", "License"),
        AlertKind::LicenseStatusChanged => ("border-red-200 bg-red-50", "License"),
        AlertKind::PlanChanged => ("border-indigo-200 bg-indigo-50", "Plan"),
    };
    let tone = if item.read { "border-slate-200 bg-white" } else { tone };
    let when = item.created_at.format("%-d %b %Y, %H:%M UTC").to_string();
    view! {
        <li class=format!("rounded-xl border p-4 {tone}") data-testid="notification" data-kind=item.kind.as_str() data-read=item.read.to_string()>
            <div class="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
                <h2 class="font-semibold text-slate-900">
                    {(!item.read).then(|| view! { <span class="sr-only">"Unread: "</span> })}
                    {item.title.clone()}
                </h2>
                <span class="text-xs text-slate-500">{label} " · " <time datetime=item.created_at.to_rfc3339()>{when}</time></span>
            </div>
            <p class="mt-1 text-sm text-slate-700">{item.body.clone()}</p>
            {(!item.read).then(|| view! {
                <form action=MarkNotificationsRead::url() method="post" data-enhance="" class="mt-2">
                    <input type="hidden" name="id" value=item.id.clone() />
                    <button type="submit" class=SMALL_BUTTON data-testid="mark-read">"Mark read"</button>
                    <FormError />
                </form>
            })}
        </li>
    }
}
