use leptos::prelude::*;
use model::{LicenseStatus, LicenseView, PlanView};

/// The license at a glance: tier, status in words and colour, seats, expiry, and a way
/// to renew when the license is not active.
#[component]
pub fn LicenseHeader(license: LicenseView, plan: PlanView, portal: String) -> impl IntoView {
    let (badge, dot) = match license.status {
        LicenseStatus::Active => ("bg-green-100 text-green-800", "bg-green-500"),
        LicenseStatus::Trialing => ("bg-sky-100 text-sky-800", "bg-sky-500"),
        LicenseStatus::PastDue => ("bg-yellow-100 text-yellow-900", "bg-yellow-500"),
        LicenseStatus::Suspended | LicenseStatus::Expired | LicenseStatus::Cancelled => {
            ("bg-red-100 text-red-800", "bg-red-500")
        }
    };
    let expires = license
        .expires_at
        .map(|t| t.format("%b %-d, %Y").to_string())
        .unwrap_or_else(|| "No expiry".to_owned());
    let needs_renewal = license.status != LicenseStatus::Active;
    let renew_label = if license.status == LicenseStatus::Trialing { "Choose a plan" } else { "Renew license" };
    view! {
        <section class="border-b border-slate-200 bg-white" aria-label="License status" data-testid="license-header">
            <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-6 gap-y-2 px-4 py-3 text-sm">
                <span class="font-semibold text-slate-900">{license.account_name.clone()}</span>
                <span>
                    <span class="text-slate-500">"Plan "</span>
                    <span class="font-semibold uppercase tracking-wide" data-testid="license-tier" data-tier=plan.tier.clone()>{plan.name.clone()}</span>
                </span>
                <span class=format!("inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-medium {badge}")
                      data-testid="license-status" data-status=license.status.as_str()>
                    <span class=format!("h-2 w-2 rounded-full {dot}") aria-hidden="true"></span>
                    {license.status.label()}
                </span>
                <span><span class="text-slate-500">"Seats "</span><span data-testid="license-seats">{license.seats}</span></span>
                <span><span class="text-slate-500">"Expires "</span><span data-testid="license-expires">{expires}</span></span>
                {needs_renewal.then(|| view! {
                    <a href=portal data-testid="renew" target="_blank" rel="noopener noreferrer"
                       class="rounded-md bg-indigo-600 px-3 py-1 text-xs font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 md:ml-auto">
                        {renew_label}
                    </a>
                })}
            </div>
        </section>
    }
}
