//! `/dashboard`: the customer's license, quotas, 7-day chart and plan.

use crate::api::Dashboard;
use crate::components::frame::Frame;
use crate::components::chart::UsageChart;
use crate::components::error_panel::ErrorPanel;
use crate::components::meter::QuotaMeter;
use crate::components::plan_card::PlanCard;
use crate::components::plan_history::PlanHistory;
use crate::components::license::{FeatureGate, LicenseContext};
use crate::components::status_header::LicenseHeader;
use crate::components::suggestions::{RequestNotice, SuggestionCards};
use crate::api::upgrade::SetAlertThreshold;
use crate::components::frame::FormError;
use leptos::server_fn::ServerFn;
use crate::islands::LiveRegion;
use leptos::prelude::*;

#[component]
pub fn DashboardPage() -> impl IntoView {
    crate::components::license::provide_license();
    // Loaded by the server before rendering; the live region around it refreshes it in
    // place (every 5 minutes, on Refresh or Retry, after a request, and while one is
    // pending) by reading this page again.
    let overview = crate::preloaded::<Result<Dashboard, crate::error::AppError>>().unwrap_or(Err(crate::error::AppError::Internal));
    view! {
        <Frame>
            <LiveRegion>
                {match overview {
                    Ok(data) => view! { <DashboardView data /> }.into_any(),
                    Err(error) => view! {
                        <main class="mx-auto max-w-6xl px-4 py-6">
                            <ErrorPanel error />
                        </main>
                    }.into_any(),
                }}
            </LiveRegion>
        </Frame>
    }
}

#[component]
fn DashboardView(data: Dashboard) -> AnyView {
    let Dashboard { overview: data, chart_option, plan_history, suggestions } = data;
    let notice = expect_context::<LicenseContext>().license().and_then(|l| l.notice.clone());
    let request_pending = notice.as_ref().is_some_and(|n| n.status == model::RequestStatus::Pending);
    let updated = data.generated_at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let updated_iso = data.generated_at.to_rfc3339();
    let last_usage = data
        .last_usage_at
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "never".to_owned());
    let quotas = data.quotas.clone();
    let quotas_for_alerts = data.quotas.clone();
    view! {
        <LicenseHeader license=data.license.clone() plan=data.plan.clone() portal=data.billing_portal_url.clone() />
        <main class="mx-auto max-w-6xl px-4 py-6" data-testid="dashboard" data-auto-refresh="">
            <div class="mb-4 flex flex-wrap items-baseline justify-between gap-2">
                <h1 class="text-xl font-semibold">"Your usage"</h1>
                <div class="flex items-center gap-3">
                    <p class="flex flex-col text-xs text-slate-500 md:flex-row md:gap-3">
                        <span>"Last updated " <time data-testid="last-updated" datetime=updated_iso>{updated}</time></span>
                        <span>"Last activity " {last_usage}</span>
                    </p>
                    <button
                        type="button"
                        data-testid="refresh"
                        data-action="refresh"
                        class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500"
                    >
                        "Refresh"
                    </button>
                </div>
            </div>
            {notice.map(|request| view! { <RequestNotice request /> })}
            <div class="grid grid-cols-1 gap-4 md:grid-cols-3" data-testid="dashboard-grid">
                <SuggestionCards suggestions portal=data.billing_portal_url.clone() request_pending />
                <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm md:col-span-2" aria-labelledby="quotas-title">
                    <h2 id="quotas-title" class="mb-3 font-semibold">"Quotas"</h2>
                    <div class="space-y-4">
                        {quotas.into_iter().map(|quota| view! { <QuotaMeter quota /> }).collect_view()}
                    </div>
                </section>
                <PlanCard plan=data.plan.clone() portal=data.billing_portal_url.clone() />
                <section class="min-w-0 rounded-xl border border-slate-200 bg-white p-4 shadow-sm md:col-span-3" aria-labelledby="chart-title">
                    <h2 id="chart-title" class="mb-1 font-semibold">"API calls, last 7 days"</h2>
                    <UsageChart series=data.api_calls_7d.clone() option_json=chart_option />
                </section>
                <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm md:col-span-3" aria-labelledby="alerts-title" data-testid="alert-settings">
                    <h2 id="alerts-title" class="mb-1 font-semibold">"Alert thresholds"</h2>
                    <p class="mb-3 text-sm text-slate-600">"Choose from what percentage of a limit each meter warns you (80% by default)."</p>
                    <FeatureGate feature="custom_alert_thresholds">
                        <AlertThresholds quotas=quotas_for_alerts.clone() />
                    </FeatureGate>
                </section>
                <PlanHistory changes=plan_history />
            </div>
        </main>
    }
    .into_any()
}

/// The account's own alert thresholds (the `custom_alert_thresholds` feature).
#[component]
fn AlertThresholds(quotas: Vec<model::QuotaStatus>) -> impl IntoView {
    let input = "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";
    view! {
        <ul class="mb-3 flex flex-wrap gap-2 text-xs" data-testid="alert-current">
            {quotas.iter().map(|q| view! {
                <li class="rounded bg-slate-100 px-2 py-1">{format!("{}: warn at {}%", q.name, q.alert_percent)}</li>
            }).collect_view()}
        </ul>
        // Sent by the live region: it stays on the page, shows a refusal in place, and
        // re-reads the region so the list above shows the new threshold.
        <form action=SetAlertThreshold::url() method="post" data-enhance="" class="flex flex-col gap-2 md:flex-row md:items-end">
            <label class="flex flex-col text-sm">"Meter"
                <select name="meter" class=input data-testid="alert-meter">
                    {quotas.iter().map(|q| view! { <option value=q.meter.clone()>{q.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="flex flex-col text-sm">"Warn at (%)"
                <input name="percent" type="number" min="1" max="100" step="1" placeholder="80" class=input data-testid="alert-percent" />
            </label>
            <button type="submit" data-testid="alert-save" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 disabled:opacity-60">"Save"</button>
            <FormError testid="alert-error" class="md:self-center" />
        </form>
    }
}
