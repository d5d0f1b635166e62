//! The account's plan history on the dashboard: every change of plan or status, newest first.

use crate::components::when;
use leptos::prelude::*;
use model::PlanChange;

fn title_case(s: &str) -> String {
    let s = s.replace('_', " ");
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[component]
pub fn PlanHistory(changes: Vec<PlanChange>) -> impl IntoView {
    view! {
        <section class="min-w-0 rounded-xl border border-slate-200 bg-white p-4 shadow-sm md:col-span-3" aria-labelledby="history-title" data-testid="plan-history">
            <h2 id="history-title" class="mb-2 font-semibold">"Plan history"</h2>
            {if changes.is_empty() {
                view! { <p class="text-sm text-slate-500">"No plan changes yet."</p> }.into_any()
            } else {
                view! {
                        <ol class="divide-y divide-slate-100 text-sm">
                            {changes.into_iter().map(|c| {
                                let plan = match &c.from_plan {
                                    Some(from) if *from != c.to_plan => format!("{} → {}", title_case(from), title_case(&c.to_plan)),
                                    _ => title_case(&c.to_plan),
                                };
                                let status = match &c.from_status {
                                    Some(from) if *from != c.to_status => format!("{} → {}", title_case(from), title_case(&c.to_status)),
                                    _ => title_case(&c.to_status),
                                };
                                view! {
                                    <li class="flex flex-col gap-0.5 py-2 md:flex-row md:items-baseline md:gap-4" data-testid="plan-change">
                                        <span class="shrink-0 text-slate-500 tabular-nums">{when(&c.at)}</span>
                                        <span class="font-medium">{plan}</span>
                                        <span>{status}</span>
                                        <span class="text-slate-500">{c.reason}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                }.into_any()
            }}
        </section>
    }
}
