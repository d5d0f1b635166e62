//! Upgrade suggestions as cards, coloured by urgency and saying it in words, and the
//! notice of the account's upgrade request.

use crate::components::when;
use leptos::prelude::*;
use model::{RequestStatus, UpgradeRequestView, UpgradeSuggestion, Urgency};

#[component]
pub fn SuggestionCards(suggestions: Vec<UpgradeSuggestion>, portal: String, request_pending: bool) -> impl IntoView {
    (!suggestions.is_empty()).then(|| view! {
        <section class="md:col-span-3" aria-labelledby="suggestions-title" data-testid="suggestions">
            <h2 id="suggestions-title" class="mb-2 font-semibold">"Suggested for you"</h2>
            <div class="grid grid-cols-1 gap-3 md:grid-cols-2">
                {suggestions.into_iter().map(|s| {
                    let (card, badge) = match s.urgency {
                        Urgency::High => ("border-red-300 bg-red-50", "bg-red-600 text-white"),
                        Urgency::Medium => ("border-amber-300 bg-amber-50", "bg-amber-500 text-slate-900"),
                        Urgency::Low => ("border-sky-200 bg-sky-50", "bg-sky-600 text-white"),
                    };
                    let renew = s.suggested_tier == s.current_tier;
                    let tier = s.suggested_tier.clone();
                    let portal = portal.clone();
                    let urgency = match s.urgency { Urgency::High => "high", Urgency::Medium => "medium", Urgency::Low => "low" };
                    view! {
                        <article class=format!("rounded-xl border p-4 {card}") data-testid="suggestion" data-urgency=urgency data-tier=s.suggested_tier.clone()>
                            <div class="flex flex-wrap items-center justify-between gap-2">
                                <h3 class="font-semibold">{if renew { format!("Renew {}", s.suggested_tier_name) } else { format!("Consider {}", s.suggested_tier_name) }}</h3>
                                <span class=format!("rounded-full px-2 py-0.5 text-xs font-semibold {badge}") data-testid="suggestion-urgency">{s.urgency.label()}</span>
                            </div>
                            <p class="mt-1 text-sm" data-testid="suggestion-reason">{s.reason.clone()}</p>
                            <ul class="mt-2 list-disc pl-5 text-sm">
                                {s.benefits.into_iter().map(|b| view! { <li>{b}</li> }).collect_view()}
                            </ul>
                            {s.roi.map(|roi| view! { <p class="mt-2 text-xs text-slate-700" data-testid="suggestion-roi">{roi.explanation}</p> })}
                            {if renew {
                                view! { <a href=portal target="_blank" rel="noopener noreferrer" class="mt-3 inline-block rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-700">"Renew"</a> }.into_any()
                            } else if request_pending {
                                view! { <p class="mt-3 text-sm font-medium text-slate-600">"Your upgrade request is pending."</p> }.into_any()
                            } else {
                                view! {
                                    <button type="button" data-testid="suggestion-request" data-upgrade=tier
                                        class="mt-3 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2">
                                        {format!("Request {}", s.suggested_tier_name)}
                                    </button>
                                }.into_any()
                            }}
                        </article>
                    }
                }).collect_view()}
            </div>
        </section>
    })
}

/// The account's request: pending, approved or declined (with the admin's reason).
#[component]
pub fn RequestNotice(request: UpgradeRequestView) -> impl IntoView {
    let (class, text) = match request.status {
        RequestStatus::Pending => (
            "border-amber-300 bg-amber-50 text-amber-950",
            format!("Your request for {} is pending (sent {}). We'll update this page when it is answered.", request.to_plan_name, when(&request.created_at)),
        ),
        RequestStatus::Approved => (
            "border-green-300 bg-green-50 text-green-950",
            format!("Your request was approved: you are now on {}.", request.to_plan_name),
        ),
        RequestStatus::Declined => (
            "border-slate-300 bg-slate-100 text-slate-900",
            format!("Your request for {} was declined: {}", request.to_plan_name, request.decline_reason.clone().unwrap_or_default()),
        ),
    };
    view! {
        <div role="status" class=format!("mb-4 rounded-xl border px-4 py-3 text-sm {class}") data-testid="request-notice" data-status=request.status.as_str()
            data-request-pending=(request.status == RequestStatus::Pending).then(|| request.id.to_string())>
            <span class="font-semibold">{request.status.label()}": "</span>{text}
        </div>
    }
}
