//! `/analytics`: 30- and 90-day charts and a per-meter breakdown (the
//! `advanced_analytics` feature, Pro and up).

use crate::api::upgrade::{get_analytics, MeterSeries};
use crate::components::chart::SeriesChart;
use crate::components::error_panel::ErrorPanel;
use crate::components::frame::Frame;
use crate::components::license::FeatureGate;
use leptos::prelude::*;
use model::quota::format_number;

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    crate::components::license::provide_license();
    view! {
        <Frame>
            <main class="mx-auto max-w-6xl px-4 py-6" data-testid="analytics-page">
                <h1 class="mb-1 text-xl font-semibold">"Analytics"</h1>
                <p class="mb-4 text-sm text-slate-600">"Every meter over the last 30 or 90 days, and how each compares with your limits."</p>
                <FeatureGate feature="advanced_analytics">
                    <Analytics />
                </FeatureGate>
            </main>
        </Frame>
    }
}

#[component]
fn Analytics() -> impl IntoView {
    // The period is in the address (`?days=90`), so it can be linked and needs no WASM.
    let query = leptos_router::hooks::use_query_map();
    let days = query.with_untracked(|q| q.get("days").and_then(|d| d.parse().ok())).filter(|d| *d == 90).unwrap_or(30u32);
    let data = Resource::new(move || days, get_analytics);
    let button = move |n: u32| {
        view! {
            <button type="submit" name="days" value=n.to_string() aria-pressed=(days == n).to_string() data-testid=format!("analytics-{n}")
                class="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium aria-[pressed=true]:border-indigo-600 aria-[pressed=true]:bg-indigo-600 aria-[pressed=true]:text-white hover:bg-slate-100 aria-[pressed=true]:hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500">
                {format!("{n} days")}
            </button>
        }
    };
    view! {
        <form method="get" class="mb-4 flex gap-2" role="group" aria-label="Period">{button(30)}{button(90)}</form>
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || data.get().map(|result| match result {
                Ok(series) => view! { <Breakdown series=series.clone() /><Charts series /> }.into_any(),
                Err(error) => view! { <ErrorPanel error title="We couldn't load the analytics." /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Breakdown(series: Vec<MeterSeries>) -> impl IntoView {
    view! {
        <section class="mb-4 overflow-x-auto rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="breakdown-title">
            <h2 id="breakdown-title" class="mb-2 font-semibold">"Per-meter breakdown"</h2>
            <table class="w-full text-left text-sm" data-testid="breakdown">
                <thead><tr class="text-slate-500">
                    <th class="py-1 pr-3 font-medium">"Meter"</th><th class="py-1 pr-3 text-right font-medium">"Total or level"</th>
                    <th class="py-1 pr-3 text-right font-medium">"Daily average"</th><th class="py-1 pr-3 text-right font-medium">"Peak day"</th>
                    <th class="py-1 text-right font-medium">"Limit"</th>
                </tr></thead>
                <tbody>
                    {series.into_iter().map(|MeterSeries { analytics: m, .. }| view! {
                        <tr class="border-t border-slate-100" data-testid=format!("breakdown-{}", m.meter)>
                            <td class="py-1 pr-3 font-medium">{m.name}</td>
                            <td class="py-1 pr-3 text-right tabular-nums" data-testid="breakdown-total">
                                {format!("{} {}{}", format_number(m.total), m.unit, if m.is_level { " now" } else { "" })}</td>
                            <td class="py-1 pr-3 text-right tabular-nums">{format_number(m.average)}</td>
                            <td class="py-1 pr-3 text-right tabular-nums">{format_number(m.peak)}</td>
                            <td class="py-1 text-right tabular-nums">{m.limit.map_or_else(|| "unlimited".to_owned(), |(v, per)| format!("{} {}", format_number(v), per))}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn Charts(series: Vec<MeterSeries>) -> impl IntoView {
    view! {
        <div class="grid grid-cols-1 gap-4 md:grid-cols-2">
            {series.into_iter().map(|MeterSeries { analytics: m, chart_option }| {
                let label = m.name.clone();
                view! {
                    <section class="min-w-0 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid=format!("chart-{}", m.meter)>
                        <h2 class="mb-1 font-semibold">{format!("{} per day", m.name)}</h2>
                        <SeriesChart series=m.days option_json=chart_option label id=format!("chart-{}", m.meter) />
                    </section>
                }
            }).collect_view()}
        </div>
    }
}
