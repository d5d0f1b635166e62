//! `/dashboard`: the customer's license, quotas, 7-day chart and plan.

use crate::api::{get_dashboard, Dashboard};
use crate::components::frame::Frame;
use crate::components::chart::UsageChart;
use crate::components::error_panel::ErrorPanel;
use crate::components::meter::QuotaMeter;
use crate::components::plan_card::PlanCard;
use crate::components::plan_history::PlanHistory;
use crate::components::status_header::LicenseHeader;
use leptos::prelude::*;

/// How often the dashboard refreshes itself without a reload.
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

#[component]
pub fn DashboardPage() -> impl IntoView {
    let refreshes = RwSignal::new(0u32);
    let overview = Resource::new(move || refreshes.get(), |_| get_dashboard());

    // Runs in the browser only: effects do not run during server rendering.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || refreshes.update(|n| *n += 1), REFRESH_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    let refresh = Callback::new(move |()| refreshes.update(|n| *n += 1));

    view! {
        <Frame>
            <Transition fallback=|| view! { <p class="mx-auto max-w-6xl px-4 py-8 text-slate-500">"Loading your usage…"</p> }>
                {move || overview.get().map(|result| match result {
                    Ok(data) => view! { <DashboardView data refresh /> }.into_any(),
                    Err(error) => view! {
                        <main class="mx-auto max-w-6xl px-4 py-6">
                            <ErrorPanel error retry=refresh />
                        </main>
                    }.into_any(),
                })}
            </Transition>
        </Frame>
    }
}

#[component]
fn DashboardView(data: Dashboard, refresh: Callback<()>) -> AnyView {
    let Dashboard { overview: data, chart_option, plan_history } = data;
    let updated = data.generated_at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let updated_iso = data.generated_at.to_rfc3339();
    let last_usage = data
        .last_usage_at
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "never".to_owned());
    let quotas = data.quotas.clone();
    view! {
        <LicenseHeader license=data.license.clone() plan=data.plan.clone() portal=data.billing_portal_url.clone() />
        <main class="mx-auto max-w-6xl px-4 py-6" data-testid="dashboard">
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
                        class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500"
                        on:click=move |_| refresh.run(())
                    >
                        "Refresh"
                    </button>
                </div>
            </div>
            <div class="grid grid-cols-1 gap-4 md:grid-cols-3" data-testid="dashboard-grid">
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
                <PlanHistory changes=plan_history />
            </div>
        </main>
    }
    .into_any()
}
