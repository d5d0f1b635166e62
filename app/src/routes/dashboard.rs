//! `/dashboard`: the customer's license, quotas, 7-day chart and plan.

use crate::api::Dashboard;
use crate::components::frame::Frame;
use crate::components::chart::UsageChart;
use crate::components::error_panel::ErrorPanel;
use crate::components::meter::QuotaMeter;
use crate::components::plan_card::PlanCard;
use crate::components::plan_history::PlanHistory;
use crate::components::license::LicenseContext;
use crate::components::status_header::LicenseHeader;
use crate::components::suggestions::{RequestNotice, SuggestionCards};
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
                    <h2 id="alerts-title" class="mb-1 font-semibold">"Alerts"</h2>
                    <p class="text-sm text-slate-600">
                        "Each meter warns you when it turns amber and again at its limit, under Notifications and by the email and webhooks you choose. "
                        <a href="/settings/alerts" class="font-medium text-indigo-700 underline" data-testid="alert-settings-link">"Alert settings"</a>
                    </p>
                </section>
                <PlanHistory changes=plan_history />
            </div>
        </main>
    }
    .into_any()
}

