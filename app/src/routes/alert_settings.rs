//! `/settings/alerts`: where the account's alerts go and when. Email (on this server or
//! not), each meter's thresholds (percentages or amounts, the `custom_alert_thresholds`
//! feature), webhook endpoints (the `webhooks` feature: add, test, roll the secret, turn
//! off, delete) and the delivery log.
//!
//! Server HTML in a live region: each form is sent by the browser and the page is read
//! again; a new secret is shown once in a revealed slot and never stored in the page.

use crate::api::alerts::{
    alert_page, AddWebhook, AlertView, DeleteWebhook, EnableWebhook, MeterThresholds, RollWebhook, SaveEmailSettings, TestWebhook,
};
use crate::api::upgrade::SetAlertThreshold;
use crate::components::error_panel::ErrorPanel;
use crate::components::frame::{FormError, Frame};
use crate::components::license::FeatureGate;
use crate::components::SMALL_BUTTON;
use crate::islands::LiveRegion;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use model::quota::format_number;
use model::{DeliveryView, WebhookEndpoint};

const CARD: &str = "rounded-xl border border-slate-200 bg-white p-4 shadow-sm";
const INPUT: &str = "w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base md:text-sm";
const SAVE: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 disabled:opacity-60";

#[component]
pub fn AlertSettingsPage() -> impl IntoView {
    crate::components::license::provide_license();
    let page = Resource::new(|| (), |_| alert_page());
    view! {
        <Frame>
            <LiveRegion>
                <main class="mx-auto max-w-3xl space-y-4 px-4 py-6" data-testid="alert-settings-page">
                    <div>
                        <h1 class="mb-1 text-xl font-semibold">"Alert settings"</h1>
                        <p class="text-sm text-slate-600">
                            "Where you hear about your usage and license, and when. Every alert also appears under "
                            <a href="/notifications" class="text-indigo-700 underline">"Notifications"</a>"."
                        </p>
                    </div>
                    <Suspense fallback=|| ()>
                        {move || page.get().map(|result| match result {
                            Ok(page) => view! { <Sections page /> }.into_any(),
                            Err(error) => view! { <ErrorPanel error title="We couldn't load your alert settings." /> }.into_any(),
                        })}
                    </Suspense>
                </main>
            </LiveRegion>
        </Frame>
    }
}

#[component]
fn Sections(page: AlertView) -> impl IntoView {
    let AlertView { settings, meters, endpoints, event_types, deliveries, can_manage } = page;
    view! {
        <section class=CARD aria-labelledby="email-title" data-testid="email-settings">
            <h2 id="email-title" class="mb-1 font-semibold">"Email"</h2>
            {if !settings.email_available {
                view! {
                    <p class="text-sm text-slate-700" data-testid="email-off">
                        "Email is off on this server: its operator has not set up a mail server. Alerts reach you here and by webhook."
                    </p>
                }.into_any()
            } else {
                let recipients = if settings.recipients.is_empty() { "nobody (email is off)".to_owned() } else { settings.recipients.join(", ") };
                view! {
                    <p class="mb-3 text-sm text-slate-600" data-testid="email-recipients">{format!("Alerts are emailed to {recipients}.")}</p>
                    {can_manage.then(|| view! {
                        <form action=SaveEmailSettings::url() method="post" data-enhance="" class="space-y-3">
                            <label class="flex items-center gap-2 text-sm">
                                <input type="checkbox" name="email_enabled" value="on" checked=settings.email_enabled data-testid="email-enabled" class="h-4 w-4" />
                                "Email me alerts"
                            </label>
                            <label class="block text-sm">"Send them to (empty: the account's owners)"
                                <input name="email_to" type="text" inputmode="email" value=settings.email_to.clone().unwrap_or_default()
                                       placeholder="alerts@example.com" data-testid="email-to" class=format!("mt-1 {INPUT}") />
                            </label>
                            <FormError testid="email-error" />
                            <button type="submit" class=SAVE data-testid="email-save">"Save"</button>
                        </form>
                    })}
                }.into_any()
            }}
        </section>

        <section class=CARD aria-labelledby="thresholds-title" data-testid="threshold-settings">
            <h2 id="thresholds-title" class="mb-1 font-semibold">"Thresholds"</h2>
            <p class="mb-3 text-sm text-slate-600">
                "Each meter alerts at its warning point and at its limit. Set your own, up to five per meter: a percentage of the limit (80%) or an amount (1000)."
            </p>
            <FeatureGate feature="custom_alert_thresholds">
                <ul class="space-y-3">
                    {meters.clone().into_iter().map(|meter| view! { <MeterRow meter can_manage /> }).collect_view()}
                </ul>
            </FeatureGate>
        </section>

        <section class=CARD aria-labelledby="webhooks-title" data-testid="webhook-settings">
            <h2 id="webhooks-title" class="mb-1 font-semibold">"Webhooks"</h2>
            <p class="mb-3 text-sm text-slate-600">
                {format!("Signed HTTPS requests (Standard Webhooks) to your endpoints, for: {}.", event_types.join(", "))}
            </p>
            <FeatureGate feature="webhooks">
                <SecretSlot />
                {can_manage.then(|| view! {
                    <form action=AddWebhook::url() method="post" data-enhance="" data-reveal="webhook-secret" class="mb-3 flex flex-col gap-2 md:flex-row md:items-start">
                        <label class="flex-1 text-sm"><span class="sr-only">"Endpoint URL"</span>
                            <input name="url" type="url" required placeholder="https://example.com/webhooks/tollgate" data-testid="webhook-url" class=INPUT />
                        </label>
                        <button type="submit" class=SAVE data-testid="webhook-add">"Add endpoint"</button>
                        <FormError testid="webhook-error" class="md:self-center" />
                    </form>
                })}
                {if endpoints.is_empty() {
                    view! { <p class="text-sm text-slate-600" data-testid="no-endpoints">"No endpoints yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="space-y-2" data-testid="endpoints">
                            {endpoints.into_iter().map(|endpoint| view! { <EndpointRow endpoint can_manage /> }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </FeatureGate>
        </section>

        <section class=CARD aria-labelledby="log-title" data-testid="delivery-log">
            <div class="mb-2 flex items-center justify-between gap-2">
                <h2 id="log-title" class="font-semibold">"Delivery log"</h2>
                <button type="button" data-action="refresh" class=SMALL_BUTTON data-testid="log-refresh">"Refresh"</button>
            </div>
            {if deliveries.is_empty() {
                view! { <p class="text-sm text-slate-600" data-testid="no-deliveries">"Nothing sent yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100">
                        {deliveries.into_iter().map(|d| view! { <DeliveryRow delivery=d /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn MeterRow(meter: MeterThresholds, can_manage: bool) -> impl IntoView {
    // The limit itself always alerts.
    let current = if meter.custom.is_empty() {
        format!("{}% (default) and the limit", format_number(meter.default_percent))
    } else if meter.custom.iter().any(|t| !t.absolute && t.value >= 100.0) {
        meter.custom.iter().map(|t| t.label(&meter.unit)).collect::<Vec<_>>().join(", ")
    } else {
        format!("{} and the limit", meter.custom.iter().map(|t| t.label(&meter.unit)).collect::<Vec<_>>().join(", "))
    };
    let value = meter.custom.iter().map(|t| if t.absolute { format_number(t.value).replace(',', "") } else { format!("{}%", t.value) }).collect::<Vec<_>>().join(", ");
    view! {
        <li class="rounded-lg border border-slate-100 p-3" data-testid="meter-thresholds" data-meter=meter.meter.clone()>
            <div class="flex flex-wrap items-baseline justify-between gap-x-3">
                <span class="font-medium">{meter.name.clone()}</span>
                <span class="text-xs text-slate-500">{format!("limit {} {}", format_number(meter.limit), meter.unit)}</span>
            </div>
            <p class="text-sm text-slate-700" data-testid="thresholds-current">{format!("Alerts at {current}.")}</p>
            {can_manage.then(|| view! {
                <form action=SetAlertThreshold::url() method="post" data-enhance="" class="mt-2 flex flex-col gap-2 md:flex-row md:items-start">
                    <input type="hidden" name="meter" value=meter.meter.clone() />
                    <label class="flex-1 text-sm"><span class="sr-only">{format!("Thresholds for {}", meter.name)}</span>
                        <input name="thresholds" type="text" value=value placeholder="50%, 80%, 100%" data-testid="thresholds-input" class=INPUT />
                    </label>
                    <button type="submit" class=SAVE data-testid="thresholds-save">"Save"</button>
                    <FormError testid="thresholds-error" class="md:self-center" />
                </form>
            })}
        </li>
    }
}

/// Where a new or rolled secret is shown, once.
#[component]
fn SecretSlot() -> impl IntoView {
    view! {
        <div role="status" data-testid="webhook-secret" data-reveal-slot="webhook-secret" hidden class="mb-3 rounded-lg border border-green-300 bg-green-50 p-3">
            <p class="text-sm font-medium text-green-900">"Signing secret for "<span class="break-all" data-json="endpoint.url"></span></p>
            <div class="mt-2 flex flex-col gap-2 md:flex-row">
                <input readonly aria-label="The signing secret" data-testid="webhook-secret-value" data-json="secret" data-copy-source=""
                       class="w-full rounded-md border border-green-300 bg-white px-3 py-2 font-mono text-sm" />
                <button type="button" data-copy="" class="rounded-md bg-green-700 px-3 py-2 text-sm font-semibold text-white hover:bg-green-800">"Copy"</button>
                <button type="button" data-dismiss="" class=SMALL_BUTTON>"Done"</button>
            </div>
            <p class="mt-1 text-xs text-green-900">"Copy it now: it is not shown again. Verify every request with it."</p>
        </div>
    }
}

#[component]
fn EndpointRow(endpoint: WebhookEndpoint, can_manage: bool) -> impl IntoView {
    let status = if endpoint.enabled { "Active".to_owned() } else { format!("Off: {}", endpoint.disabled_reason.clone().unwrap_or_default()) };
    let events = if endpoint.events.is_empty() { "every event".to_owned() } else { endpoint.events.join(", ") };
    let id = endpoint.id.clone();
    let button = move |action: String, label: &'static str, testid: &'static str, extra: Option<(&'static str, &'static str)>, reveal: bool| {
        let id = id.clone();
        view! {
            <form action=action method="post" data-enhance="" data-reveal=reveal.then_some("webhook-secret")>
                <input type="hidden" name="id" value=id />
                {extra.map(|(name, value)| view! { <input type="hidden" name=name value=value /> })}
                <button type="submit" class=SMALL_BUTTON data-testid=testid>{label}</button>
                <FormError />
            </form>
        }
    };
    view! {
        <li class="rounded-lg border border-slate-100 p-3" data-testid="endpoint" data-enabled=endpoint.enabled.to_string()>
            <p class="break-all font-mono text-sm">{endpoint.url.clone()}</p>
            <p class="text-xs text-slate-600">{format!("{status} · {events}")}</p>
            {can_manage.then(|| view! {
                <div class="mt-2 flex flex-wrap gap-2">
                    {endpoint.enabled.then(|| button(TestWebhook::url().to_owned(), "Send test event", "webhook-test", None, false))}
                    {button(RollWebhook::url().to_owned(), "Roll secret", "webhook-roll", None, true)}
                    {if endpoint.enabled {
                        button(EnableWebhook::url().to_owned(), "Turn off", "webhook-disable", Some(("enabled", "false")), false)
                    } else {
                        button(EnableWebhook::url().to_owned(), "Turn on", "webhook-enable", Some(("enabled", "true")), false)
                    }}
                    {button(DeleteWebhook::url().to_owned(), "Delete", "webhook-delete", None, false)}
                </div>
            })}
        </li>
    }
}

#[component]
fn DeliveryRow(delivery: DeliveryView) -> impl IntoView {
    let tone = match delivery.state.as_str() {
        "delivered" => "bg-green-100 text-green-900",
        "failed" => "bg-red-100 text-red-900",
        _ => "bg-amber-100 text-amber-900",
    };
    let when = delivery.created_at.format("%-d %b, %H:%M:%S UTC").to_string();
    view! {
        <li class="py-2 text-sm" data-testid="delivery" data-state=delivery.state.clone() data-event=delivery.event_type.clone()>
            <div class="flex flex-wrap items-baseline gap-x-2 gap-y-1">
                <span class=format!("rounded px-1.5 py-0.5 text-xs font-medium {tone}")>{delivery.state.clone()}</span>
                <span class="font-medium">{delivery.event_type.clone()}</span>
                <span class="text-slate-500">{format!("{} to {}", delivery.channel, delivery.target)}</span>
                <span class="text-xs text-slate-500">{when}</span>
            </div>
            <ol class="mt-1 space-y-0.5 pl-4 text-xs text-slate-600">
                {delivery.attempts.into_iter().map(|a| view! {
                    <li data-testid="attempt">
                        {format!(
                            "#{} {} · {} · {} ms{}",
                            a.attempt,
                            a.at.format("%H:%M:%S"),
                            a.status.map_or("no answer".to_owned(), |s| s.to_string()),
                            a.latency_ms,
                            if a.detail.is_empty() { String::new() } else { format!(" · {}", a.detail.chars().take(120).collect::<String>()) }
                        )}
                    </li>
                }).collect_view()}
            </ol>
        </li>
    }
}
