//! `/upgrade`: the upgrade request as server HTML. It is the upgrade modal's content (the
//! modal reads this page and shows its `[data-upgrade-dialog]` part), and a page of its
//! own that works without WASM: the tier comparison, the 30-day evidence (attached by the
//! server), a justification, the contact email, and a direct checkout link when the
//! catalog has one. For a custom-priced tier it is the contact-sales form.
//!
//! What depends on the chosen tier (the title, the labels, the checkout link) is rendered
//! for every tier and marked `data-show-for`; the modal shows the chosen tier's.

use crate::api::upgrade::{get_upgrade_options, RequestUpgrade};
use crate::components::error_panel::ErrorPanel;
use crate::components::upgrade_modal::SALES;
use crate::components::frame::{FormError, Frame};
use crate::components::tiers::{all_features, TierDetails};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use model::{TierView, UpgradeOptions, UpgradeRequestView};


const FIELD: &str = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500";
const SECONDARY: &str = "rounded-md border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500";
const PRIMARY: &str = "rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2 disabled:opacity-60";

/// `?tier=pro` preselects that tier (an empty or missing one: the next tier up; [`SALES`]:
/// the contact-sales form); `?sent` shows the request just sent.
#[component]
pub fn UpgradePage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let (target, sent) = query.with_untracked(|q| (q.get("tier").filter(|t| !t.is_empty()), q.get("sent").is_some()));
    let options = Resource::new(|| (), |_| get_upgrade_options());
    view! {
        <Frame>
            <main class="mx-auto max-w-4xl px-4 py-6">
                <div data-upgrade-dialog="" class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm md:p-6">
                    <Suspense fallback=|| ()>
                        {move || options.get().map(|result| match result {
                            Ok(options) => view! { <UpgradeContent options target=target.clone() sent /> }.into_any(),
                            Err(error) => view! {
                                <h2 id="upgrade-title" class="sr-only">"Upgrade"</h2>
                                <ErrorPanel error title="We couldn't load the plans." />
                                <a href="/dashboard" role="button" data-close="" class=format!("mt-3 inline-block {SECONDARY}")>"Close"</a>
                            }.into_any(),
                        })}
                    </Suspense>
                </div>
            </main>
        </Frame>
    }
}

/// The tier to preselect: the one asked for, else the next tier up.
fn initial_tier(options: &UpgradeOptions, target: Option<String>) -> String {
    let current_rank = options.tiers.iter().find(|t| t.id == options.current_tier).map_or(0, |t| t.rank);
    let above = |id: &str| options.tiers.iter().any(|t| t.id == id && t.rank > current_rank);
    let target = match target.as_deref() {
        Some(SALES) => options.tiers.iter().find(|t| t.is_sales_led() && t.rank > current_rank).map(|t| t.id.clone()),
        _ => target,
    };
    target
        .filter(|t| above(t))
        .or_else(|| options.tiers.iter().find(|t| t.rank > current_rank).map(|t| t.id.clone()))
        .unwrap_or_default()
}

/// The ids of the tiers for which `pick` holds, for `data-show-for`.
fn tiers_where(tiers: &[TierView], pick: impl Fn(&TierView) -> bool) -> String {
    tiers.iter().filter(|t| pick(t)).map(|t| t.id.as_str()).collect::<Vec<_>>().join(" ")
}

#[component]
fn UpgradeContent(options: UpgradeOptions, target: Option<String>, sent: bool) -> AnyView {
    if let Some(pending) = options.pending.clone() {
        return if sent { view! { <Sent request=pending /> }.into_any() } else { view! { <Pending request=pending /> }.into_any() };
    }
    view! { <RequestForm options target /> }.into_any()
}

#[component]
fn Sent(request: UpgradeRequestView) -> impl IntoView {
    let message = if request.kind == model::RequestKind::Sales {
        format!("Sales will contact you at {} about {}. Your request is pending.", request.contact_email, request.to_plan_name)
    } else {
        format!("Your request for {} is pending. You will see the answer on your dashboard.", request.to_plan_name)
    };
    view! {
        <Header>"Request sent"</Header>
        <div role="status" data-testid="request-sent" class="mt-3 rounded-md border border-green-200 bg-green-50 px-3 py-2 text-sm text-green-900">
            {message}
        </div>
        <a href="/dashboard" role="button" data-testid="modal-done" data-close="" data-autofocus="" class=format!("mt-4 inline-block {PRIMARY}")>"Done"</a>
    }
}

#[component]
fn Pending(request: UpgradeRequestView) -> impl IntoView {
    view! {
        <Header>"Your request is pending"</Header>
        <p class="mt-3 text-sm" data-testid="modal-pending">
            {format!("You asked for {} on {}. You will see the answer on your dashboard.", request.to_plan_name, request.created_at.format("%b %-d"))}
        </p>
        <a href="/dashboard" role="button" data-close="" data-autofocus="" class=format!("mt-4 inline-block {SECONDARY}")>"Close"</a>
    }
}

#[component]
fn RequestForm(options: UpgradeOptions, target: Option<String>) -> impl IntoView {
    let selected = initial_tier(&options, target);
    let current_rank = options.tiers.iter().find(|t| t.id == options.current_tier).map_or(0, |t| t.rank);
    let features = all_features(&options.tiers);
    let sales_tiers = tiers_where(&options.tiers, TierView::is_sales_led);
    let self_tiers = tiers_where(&options.tiers, |t| !t.is_sales_led());
    // Shown for the selected tier only; the island follows the selection.
    let shown = |tiers: &str| tiers.split(' ').any(|t| t == selected);
    let (sales_shown, self_shown) = (shown(&sales_tiers), shown(&self_tiers));
    let evidence = options.evidence;
    let tiers = options.tiers;
    let (sales_title, self_title) = (sales_tiers.clone(), self_tiers.clone());
    view! {
        <Header>
            <span data-show-for=sales_title hidden=!sales_shown>"Contact sales"</span>
            <span data-show-for=self_title hidden=!self_shown>"Request an upgrade"</span>
        </Header>
        <form action=RequestUpgrade::url() method="post" novalidate="" data-upgrade-form="" class="mt-3 space-y-4">
            <fieldset>
                <legend class="text-sm font-semibold">"Choose a plan"</legend>
                <div class="mt-2 grid grid-cols-1 gap-3 md:grid-cols-4" data-testid="tier-table">
                    {tiers.iter().cloned().map(|t| {
                        let available = t.rank > current_rank;
                        let current = t.id == options.current_tier;
                        let state = if available { "cursor-pointer" } else { "opacity-70" };
                        let (testid, checked, label) = (format!("tier-{}", t.id), t.id == selected, format!("{} ({})", t.name, t.price));
                        view! {
                            <label data-testid=testid data-current=current.to_string()
                                class=format!("block rounded-lg border border-slate-200 p-3 has-[:checked]:border-indigo-600 has-[:checked]:bg-indigo-50 has-[:checked]:ring-2 has-[:checked]:ring-indigo-600 {state}")>
                                <input type="radio" name="tier" value=t.id.clone() class="mb-2 h-4 w-4 accent-indigo-600"
                                    disabled=!available checked=checked aria-label=label />
                                <TierDetails tier=t features=features.clone() current />
                            </label>
                        }
                    }).collect_view()}
                </div>
                <FieldError field="tier" id="tier-error" />
            </fieldset>
            <section class="rounded-lg border border-slate-200 bg-slate-50 p-3 text-sm" data-testid="evidence" aria-labelledby="evidence-title">
                <h3 id="evidence-title" class="font-semibold">{format!("Attached automatically: your last {} days", evidence.days)}</h3>
                <ul class="mt-1 space-y-0.5">
                    {evidence.meters.into_iter().map(|m| view! {
                        <li><span class="font-medium">{m.name}</span>": "{m.summary}
                            {m.percent_of_limit.map(|p| format!(" · {p}% of your limit now"))}</li>
                    }).collect_view()}
                </ul>
                {(!evidence.pain_points.is_empty()).then(|| view! { <p class="mt-2 font-medium">"Where it pinches"</p> })}
                <ul class="list-disc pl-5" data-testid="pain-points">
                    {evidence.pain_points.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                </ul>
            </section>
            <div>
                <label for="justification" class="text-sm font-semibold">
                    <span data-show-for=sales_tiers hidden=!sales_shown>"What do you need?"</span>
                    <span data-show-for=self_tiers hidden=!self_shown>"Why do you need it?"</span>
                </label>
                <textarea id="justification" name="justification" rows="3" maxlength="2000" class=FIELD
                    aria-describedby="justification-error"
                    placeholder="We're launching a new integration and expect three times the traffic."></textarea>
                <FieldError field="justification" id="justification-error" />
            </div>
            <div>
                <label for="contact_email" class="text-sm font-semibold">"Contact email"</label>
                <input id="contact_email" name="contact_email" type="email" value=options.contact_email class=FIELD
                    aria-describedby="contact-error" autocomplete="email" />
                <FieldError field="contact_email" id="contact-error" />
            </div>
            <FormError testid="request-error" />
            <div class="flex flex-col gap-2 md:flex-row md:items-center">
                <button type="submit" data-testid="request-submit" class=PRIMARY>
                    {tiers.iter().map(|t| {
                        let label = if t.is_sales_led() { "Send to sales".to_owned() } else { format!("Request {}", t.name) };
                        view! { <span data-show-for=t.id.clone() hidden=!shown(&t.id)>{label}</span> }
                    }).collect_view()}
                </button>
                {tiers.iter().filter_map(|t| t.checkout_url.clone().map(|url| view! {
                    <a href=url target="_blank" rel="noopener noreferrer" data-testid="checkout-link" data-show-for=t.id.clone() hidden=!shown(&t.id)
                       class="rounded-md border border-indigo-300 px-4 py-2 text-center text-sm font-medium text-indigo-700 hover:bg-indigo-50 focus:outline-none focus:ring-2 focus:ring-indigo-500">
                        {format!("Or buy {} now", t.name)}
                    </a>
                })).collect_view()}
                <a href="/dashboard" role="button" data-testid="request-cancel" data-close="" class=format!("text-center md:ml-auto {SECONDARY}")>"Cancel"</a>
            </div>
        </form>
    }
}

/// The dialog's heading, with its close control (in the modal; on the page it leads back).
#[component]
fn Header(children: Children) -> impl IntoView {
    view! {
        <div class="flex items-start justify-between gap-4">
            <h2 id="upgrade-title" class="text-lg font-semibold">{children()}</h2>
            <a href="/dashboard" role="button" aria-label="Close" data-testid="modal-close" data-close=""
                class="rounded-md px-2 py-1 text-slate-500 hover:bg-slate-100 hover:text-slate-900 focus:outline-none focus:ring-2 focus:ring-indigo-500">
                "✕"
            </a>
        </div>
    }
}

/// Where a field's message goes; the modal fills it when the server refuses the field.
#[component]
fn FieldError(field: &'static str, id: &'static str) -> impl IntoView {
    view! { <p id=id data-testid=id data-error-for=field class="mt-1 text-sm text-red-700"></p> }
}
