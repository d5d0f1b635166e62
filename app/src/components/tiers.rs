//! The tier comparison: every tier's price, limits and features. Cards side by side on a
//! wide screen, stacked on a phone.

use leptos::prelude::*;
use model::quota::format_number;
use model::upgrade::feature_label;
use model::TierView;

/// Every feature some tier has, in tier order, so each card lists the same rows.
pub fn all_features(tiers: &[TierView]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for feature in tiers.iter().flat_map(|t| t.features.iter()) {
        if !out.contains(feature) {
            out.push(feature.clone());
        }
    }
    out
}

/// One tier's price, limits and features. `current` marks the account's own tier.
#[component]
pub fn TierDetails(tier: TierView, features: Vec<String>, #[prop(optional)] current: bool) -> impl IntoView {
    let price = tier.price.to_string();
    view! {
        <div class="flex items-baseline justify-between gap-2">
            <span class="text-base font-semibold" data-testid="tier-name">{tier.name.clone()}</span>
            {current.then(|| view! {
                <span class="rounded-full bg-slate-200 px-2 py-0.5 text-xs font-medium text-slate-700" data-testid="tier-current">"Current plan"</span>
            })}
        </div>
        <p class="mt-1 text-xl font-bold" data-testid="tier-price">{price}</p>
        <dl class="mt-2 space-y-0.5 text-sm">
            {tier.limits.into_iter().map(|l| view! {
                <div class="flex justify-between gap-2">
                    <dt class="text-slate-500">{l.name}</dt>
                    <dd class="text-right tabular-nums">
                        {format!("{} {}", format_number(l.value), l.unit)}
                        <span class="text-slate-500">{match l.period.per_label() { "" => String::new(), per => format!(" {per}") }}</span>
                        {l.soft.then_some(" (soft)")}
                    </dd>
                </div>
            }).collect_view()}
            <div class="flex justify-between gap-2">
                <dt class="text-slate-500">"Requests / min"</dt>
                <dd class="text-right tabular-nums">{format_number(tier.rate_limit_per_minute as f64)}</dd>
            </div>
        </dl>
        <ul class="mt-2 space-y-0.5 text-sm">
            {features.into_iter().map(|f| {
                let has = tier.features.contains(&f);
                view! {
                    // On a phone only what a tier includes is listed, so stacked cards stay short.
                    <li class=if has { "text-slate-800" } else { "hidden text-slate-400 line-through md:block" }>
                        <span aria-hidden="true">{if has { "✓ " } else { "– " }}</span>
                        <span class="sr-only">{if has { "Included: " } else { "Not included: " }}</span>
                        {feature_label(&f)}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
