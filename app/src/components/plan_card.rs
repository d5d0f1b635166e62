use leptos::prelude::*;
use model::PlanView;

/// The current plan, what it includes, and an upgrade call to action below the top tier.
#[component]
pub fn PlanCard(plan: PlanView, portal: String) -> impl IntoView {
    let upgradable = plan.has_higher_tier;
    let features = plan.features.clone();
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="plan-title" data-testid="plan-card">
            <h2 id="plan-title" class="font-semibold">{format!("{} plan", plan.name)}</h2>
            <p class="mt-1 text-2xl font-bold" data-testid="plan-price">{plan.price.to_string()}</p>
            <dl class="mt-3 grid grid-cols-2 gap-2 text-sm">
                <dt class="text-slate-500">"Requests / min"</dt>
                <dd class="text-right tabular-nums" data-testid="plan-rpm">{model::quota::format_number(plan.rate_limit_per_minute as f64)}</dd>
                <dt class="text-slate-500">"Requests / day"</dt>
                <dd class="text-right tabular-nums" data-testid="plan-rpd">{model::quota::format_number(plan.rate_limit_per_day as f64)}</dd>
            </dl>
            <h3 class="mt-4 text-xs font-semibold uppercase tracking-wide text-slate-500">"Included"</h3>
            <ul class="mt-1 flex flex-wrap gap-1.5" data-testid="plan-features">
                {features.into_iter().map(|f| view! {
                    <li class="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-700">{f.replace('_', " ")}</li>
                }).collect_view()}
            </ul>
            {upgradable.then(|| view! {
                <button type="button" data-testid="upgrade-cta" data-upgrade=""
                   class="mt-4 block w-full rounded-md bg-indigo-600 px-4 py-2 text-center text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2">
                    "Compare plans and upgrade"
                </button>
                <button type="button" data-testid="contact-sales" data-upgrade=crate::components::upgrade_modal::SALES
                   class="mt-2 block w-full rounded-md border border-slate-300 px-4 py-2 text-center text-sm font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500">
                    "Contact sales"
                </button>
            })}
            <a href=portal.clone() target="_blank" rel="noopener noreferrer" data-testid="billing-portal"
               class="mt-3 block text-center text-sm text-indigo-700 hover:underline">"Manage billing"</a>
        </section>
    }
}
