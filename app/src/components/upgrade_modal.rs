//! The upgrade request modal, opened from a suggestion, a gate or the plan card: the tier
//! comparison, a justification, the 30-day evidence (attached by the server), the contact
//! email, and a direct checkout link when the catalog has one. For a custom-priced tier it
//! is the contact-sales form. Focus is trapped inside, Escape closes it, and focus returns
//! to whatever opened it.

use crate::api::upgrade::{get_upgrade_options, RequestUpgrade};
use crate::components::tiers::{all_features, TierDetails};
use crate::error::AppError;
use leptos::prelude::*;
use model::{TierView, UpgradeOptions};

/// Opens and closes the modal; provided once at the app root.
#[derive(Clone, Copy)]
pub struct UpgradeModal {
    /// `Some(tier)` while open: the tier to preselect (`None` inside: the next one up).
    target: RwSignal<Option<Option<String>>>,
}

impl UpgradeModal {
    /// Opens the modal, remembering the focused element to return focus to it.
    pub fn open(&self, tier: Option<String>) {
        #[cfg(feature = "hydrate")]
        dom::remember_opener();
        self.target.set(Some(tier));
    }

    pub fn close(&self) {
        self.target.set(None);
        #[cfg(feature = "hydrate")]
        dom::return_focus();
    }
}

/// Where the modal is drawn, once per page after the content: an island. Any element
/// with `data-upgrade` opens it, on this page's server HTML or in HTML swapped in later:
/// `data-upgrade="pro"` preselects that tier, an empty value the next one up, and
/// [`SALES`] the contact-sales form.
#[island]
pub fn UpgradeModalHost() -> impl IntoView {
    let modal = UpgradeModal { target: RwSignal::new(None) };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| dom::open_on_click(modal));
    move || modal.target.get().map(|target| view! { <Dialog target modal /> })
}

const FIELD: &str = "mt-1 w-full rounded-md border border-slate-300 px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500";

#[component]
fn Dialog(target: Option<String>, modal: UpgradeModal) -> impl IntoView {
    let options = Resource::new(|| (), |_| get_upgrade_options());
    let dialog = NodeRef::<leptos::html::Div>::new();
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            modal.close();
        }
        "Tab" => {
            #[cfg(feature = "hydrate")]
            if let Some(element) = dialog.get() {
                dom::trap_tab(&element, &ev);
            }
        }
        _ => {}
    };
    view! {
        <div class="fixed inset-0 z-40 bg-slate-900/50" aria-hidden="true"></div>
        // A click on the backdrop (not inside the panel) closes it.
        <div class="fixed inset-0 z-50 overflow-y-auto md:p-8"
             on:click=move |ev| if ev.target().zip(ev.current_target()).is_some_and(|(a, b)| a == b) { modal.close() }>
        <div node_ref=dialog role="dialog" aria-modal="true" aria-labelledby="upgrade-title" data-testid="upgrade-modal"
             class="mx-auto min-h-full w-full max-w-4xl bg-white p-4 shadow-xl md:min-h-0 md:rounded-xl md:p-6"
             on:keydown=on_keydown>
            <Suspense fallback=|| view! { <p class="text-slate-500">"Loading plans…"</p> }>
                {move || options.get().map(|result| match result {
                    Ok(options) => view! { <RequestForm options target=target.clone() modal /> }.into_any(),
                    Err(error) => view! {
                        <div role="alert" class="text-red-800">
                            <p class="font-semibold" id="upgrade-title">"We couldn't load the plans."</p>
                            <p class="text-sm">{error.to_string()}</p>
                            <button type="button" class="mt-3 rounded-md border border-slate-300 px-3 py-1.5" on:click=move |_| modal.close()>"Close"</button>
                        </div>
                    }.into_any(),
                })}
            </Suspense>
        </div>
        </div>
    }
}

/// The target that means "the first custom-priced tier".
pub const SALES: &str = "*sales";

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

#[component]
fn RequestForm(options: UpgradeOptions, target: Option<String>, modal: UpgradeModal) -> impl IntoView {
    let action = ServerAction::<RequestUpgrade>::new();
    let selected = RwSignal::new(initial_tier(&options, target));
    let tiers = StoredValue::new(options.tiers.clone());
    let tier = move || tiers.with_value(|t| t.iter().find(|t| t.id == selected.get()).cloned());
    let sales = move || tier().is_some_and(|t| t.is_sales_led());
    let error_for = move |field: &'static str| {
        move || match action.value().get() {
            Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message),
            _ => None,
        }
    };
    let general_error = move || match action.value().get() {
        Some(Err(AppError::Invalid { field, .. })) if field == "justification" || field == "contact_email" || field == "tier" => None,
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };
    let sent = move || matches!(action.value().get(), Some(Ok(_)));
    let current_rank = options.tiers.iter().find(|t| t.id == options.current_tier).map_or(0, |t| t.rank);
    let features = all_features(&options.tiers);
    let evidence = options.evidence.clone();

    // Focus the selected tier once the form is there, and "Done" once it is sent (the
    // form, and the button that had focus, are hidden then).
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        match action.value().get() {
            Some(Ok(_)) => {
                // The dashboard's live region shows the pending request.
                dom::announce_license_changed();
                dom::focus("[role=dialog] [data-testid=modal-done]");
            }
            // A field to fix gets the focus, next to its message.
            Some(Err(AppError::Invalid { field, .. })) if field == "justification" || field == "contact_email" => {
                dom::focus(&format!("[role=dialog] #{field}"));
            }
            Some(Err(_)) => {}
            None => dom::focus_first_in_dialog(),
        }
    });

    if let Some(pending) = options.pending.clone() {
        return view! {
            <Header title=Signal::stored("Your request is pending".to_owned()) modal />
            <p class="mt-3 text-sm" data-testid="modal-pending">
                {format!("You asked for {} on {}. You will see the answer on your dashboard.", pending.to_plan_name, pending.created_at.format("%b %-d"))}
            </p>
            <button type="button" class="mt-4 rounded-md border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500"
                on:click=move |_| modal.close()>"Close"</button>
        }
        .into_any();
    }

    view! {
        {move || action.value().get().and_then(Result::ok).map(|r| view! {
            <Header title=Signal::stored("Request sent".to_owned()) modal />
            <div role="status" data-testid="request-sent" class="mt-3 rounded-md border border-green-200 bg-green-50 px-3 py-2 text-sm text-green-900">
                {if r.kind == model::RequestKind::Sales {
                    format!("Sales will contact you at {} about {}. Your request is pending.", r.contact_email, r.to_plan_name)
                } else {
                    format!("Your request for {} is pending. You will see the answer on your dashboard.", r.to_plan_name)
                }}
            </div>
            <button type="button" data-testid="modal-done" class="mt-4 rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2"
                on:click=move |_| modal.close()>"Done"</button>
        })}
        <div class:hidden=sent>
            <Header title=Signal::derive(move || if sales() { "Contact sales".to_owned() } else { "Request an upgrade".to_owned() }) modal />
            <ActionForm action attr:class="mt-3 space-y-4" attr:novalidate=true>
                <fieldset>
                    <legend class="text-sm font-semibold">"Choose a plan"</legend>
                    <div class="mt-2 grid grid-cols-1 gap-3 md:grid-cols-4" data-testid="tier-table">
                        {options.tiers.clone().into_iter().map(|t: TierView| {
                            let id = t.id.clone();
                            let available = t.rank > current_rank;
                            let current = t.id == options.current_tier;
                            let for_class = id.clone();
                            let for_check = id.clone();
                            let testid = format!("tier-{}", t.id);
                            let radio_label = format!("{} ({})", t.name, t.price);
                            view! {
                                <label data-testid=testid data-current=current.to_string()
                                    class=move || format!("block rounded-lg border p-3 {} {}",
                                        if selected.get() == for_class { "border-indigo-600 ring-2 ring-indigo-600 bg-indigo-50" } else { "border-slate-200" },
                                        if available { "cursor-pointer" } else { "opacity-70" })
                                    data-selected=move || (selected.get() == id).to_string()>
                                    <input type="radio" name="tier" value=t.id.clone() class="mb-2 h-4 w-4 accent-indigo-600"
                                        disabled=!available prop:checked=move || selected.get() == for_check
                                        aria-label=radio_label
                                        on:change=move |ev| selected.set(event_target_value(&ev)) />
                                    <TierDetails tier=t features=features.clone() current />
                                </label>
                            }
                        }).collect_view()}
                    </div>
                    <FieldError message=Signal::derive(error_for("tier")) id="tier-error" />
                </fieldset>
                <section class="rounded-lg border border-slate-200 bg-slate-50 p-3 text-sm" data-testid="evidence" aria-labelledby="evidence-title">
                    <h3 id="evidence-title" class="font-semibold">{format!("Attached automatically: your last {} days", evidence.days)}</h3>
                    <ul class="mt-1 space-y-0.5">
                        {evidence.meters.into_iter().map(|m| view! {
                            <li><span class="font-medium">{m.name}</span>": "{m.summary}
                                {m.percent_of_limit.map(|p| format!(" · {p}% of your limit now"))}</li>
                        }).collect_view()}
                    </ul>
                    <Show when={let empty = evidence.pain_points.is_empty(); move || !empty}>
                        <p class="mt-2 font-medium">"Where it pinches"</p>
                    </Show>
                    <ul class="list-disc pl-5" data-testid="pain-points">
                        {evidence.pain_points.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                    </ul>
                </section>
                <div>
                    <label for="justification" class="text-sm font-semibold">
                        {move || if sales() { "What do you need?" } else { "Why do you need it?" }}
                    </label>
                    <textarea id="justification" name="justification" rows="3" maxlength="2000" class=FIELD
                        aria-describedby="justification-error"
                        placeholder="We're launching a new integration and expect three times the traffic."></textarea>
                    <FieldError message=Signal::derive(error_for("justification")) id="justification-error" />
                </div>
                <div>
                    <label for="contact_email" class="text-sm font-semibold">"Contact email"</label>
                    <input id="contact_email" name="contact_email" type="email" value=options.contact_email.clone() class=FIELD
                        aria-describedby="contact-error" autocomplete="email" />
                    <FieldError message=Signal::derive(error_for("contact_email")) id="contact-error" />
                </div>
                {move || general_error().map(|message| view! {
                    <p role="alert" data-testid="request-error" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">{message}</p>
                })}
                <div class="flex flex-col gap-2 md:flex-row md:items-center">
                    <button type="submit" data-testid="request-submit" disabled=move || action.pending().get()
                        class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2 disabled:opacity-60">
                        {move || match tier() {
                            Some(t) if t.is_sales_led() => "Send to sales".to_owned(),
                            Some(t) => format!("Request {}", t.name),
                            None => "Send request".to_owned(),
                        }}
                    </button>
                    {move || tier().and_then(|t| t.checkout_url.clone().map(|url| view! {
                        <a href=url target="_blank" rel="noopener noreferrer" data-testid="checkout-link"
                           class="rounded-md border border-indigo-300 px-4 py-2 text-center text-sm font-medium text-indigo-700 hover:bg-indigo-50 focus:outline-none focus:ring-2 focus:ring-indigo-500">
                            {format!("Or buy {} now", t.name)}
                        </a>
                    }))}
                    <button type="button" data-testid="request-cancel" on:click=move |_| modal.close()
                        class="rounded-md border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500 md:ml-auto">
                        "Cancel"
                    </button>
                </div>
            </ActionForm>
        </div>
    }
    .into_any()
}

#[component]
fn Header(#[prop(into)] title: Signal<String>, modal: UpgradeModal) -> impl IntoView {
    view! {
        <div class="flex items-start justify-between gap-4">
            <h2 id="upgrade-title" class="text-lg font-semibold">{move || title.get()}</h2>
            <button type="button" aria-label="Close" data-testid="modal-close" on:click=move |_| modal.close()
                class="rounded-md px-2 py-1 text-slate-500 hover:bg-slate-100 hover:text-slate-900 focus:outline-none focus:ring-2 focus:ring-indigo-500">
                "✕"
            </button>
        </div>
    }
}

#[component]
fn FieldError(message: Signal<Option<String>>, id: &'static str) -> impl IntoView {
    view! {
        <p id=id class="mt-1 text-sm text-red-700" data-testid=id role=move || message.get().map(|_| "alert")>
            {move || message.get()}
        </p>
    }
}

/// The browser side: remembering the opener, trapping Tab, returning focus.
#[cfg(feature = "hydrate")]
mod dom {
    use wasm_bindgen::JsCast;

    const OPENER: &str = "data-modal-opener";
    const FOCUSABLE: &str = "a[href], button:not([disabled]), textarea:not([disabled]), input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex='-1'])";

    fn document() -> Option<web_sys::Document> {
        web_sys::window()?.document()
    }

    /// Opens the modal on a click on (or Enter on) any `data-upgrade` element.
    pub fn open_on_click(modal: super::UpgradeModal) {
        let Some(doc) = document() else { return };
        let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let opener = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("[data-upgrade]").ok().flatten());
            if let Some(opener) = opener {
                ev.prevent_default();
                let tier = opener.get_attribute("data-upgrade").filter(|t| !t.is_empty());
                modal.open(tier);
            }
        });
        let _ = doc.add_event_listener_with_callback("click", listener.as_ref().unchecked_ref());
        listener.forget();
    }

    /// Tells the page's live region that the license (its request) changed.
    pub fn announce_license_changed() {
        if let (Some(window), Ok(event)) = (web_sys::window(), web_sys::Event::new(crate::islands::LICENSE_CHANGED)) {
            let _ = window.dispatch_event(&event);
        }
    }

    pub fn remember_opener() {
        let Some(doc) = document() else { return };
        if let Ok(Some(old)) = doc.query_selector(&format!("[{OPENER}]")) {
            let _ = old.remove_attribute(OPENER);
        }
        if let Some(active) = doc.active_element() {
            let _ = active.set_attribute(OPENER, "");
        }
    }

    pub fn return_focus() {
        let Some(doc) = document() else { return };
        if let Ok(Some(opener)) = doc.query_selector(&format!("[{OPENER}]")) {
            let _ = opener.remove_attribute(OPENER);
            if let Ok(el) = opener.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    }

    /// Radios other than the checked one are not Tab stops, as in the browser's own order.
    fn focusables(root: &web_sys::Element) -> Vec<web_sys::HtmlElement> {
        let Ok(list) = root.query_selector_all(FOCUSABLE) else { return Vec::new() };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
            .filter(|el| match el.dyn_ref::<web_sys::HtmlInputElement>() {
                Some(input) if input.type_() == "radio" => input.checked(),
                _ => true,
            })
            .collect()
    }

    pub fn trap_tab(dialog: &web_sys::HtmlElement, ev: &web_sys::KeyboardEvent) {
        let items = focusables(dialog);
        let (Some(first), Some(last)) = (items.first(), items.last()) else { return };
        let active = document().and_then(|d| d.active_element());
        let is = |el: &web_sys::HtmlElement| active.as_ref().is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>());
        let inside = active.as_ref().is_some_and(|a| dialog.contains(Some(a)));
        if ev.shift_key() && (is(first) || !inside) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && (is(last) || !inside) {
            ev.prevent_default();
            let _ = first.focus();
        }
    }

    pub fn focus(selector: &str) {
        if let Some(el) = document().and_then(|d| d.query_selector(selector).ok().flatten()).and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }

    /// Focuses the checked tier (or the first control) of the open dialog.
    pub fn focus_first_in_dialog() {
        let Some(doc) = document() else { return };
        let target = doc
            .query_selector("[role=dialog] input[type=radio]:checked")
            .ok()
            .flatten()
            .or_else(|| doc.query_selector("[role=dialog] textarea").ok().flatten());
        if let Some(el) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }
}
