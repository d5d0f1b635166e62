//! The upgrade request modal, opened from a suggestion, a gate, the plan card or `/plans`.
//! Its content is the server HTML of `/upgrade` (read when the modal opens), so the WASM
//! holds only the behaviour: following the chosen tier, sending the form, showing the
//! server's refusal by its field, trapping focus, closing on Escape and returning focus to
//! whatever opened it.

use crate::error::AppError;
use leptos::prelude::*;

/// The target that means "the first custom-priced tier above the current one".
pub const SALES: &str = "*sales";

/// Where the modal is drawn, once per page after the content: an island. Any element
/// with `data-upgrade` opens it, on this page's server HTML or in HTML swapped in later:
/// `data-upgrade="pro"` preselects that tier, an empty value the next one up, and
/// [`SALES`] the contact-sales form.
#[island]
pub fn UpgradeModalHost() -> impl IntoView {
    let open = RwSignal::new(false);
    let failed = RwSignal::new(None::<AppError>);
    let body = NodeRef::<leptos::html::Div>::new();
    let dialog = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| dom::open_on_click(open, failed, body));

    let close = move || {
        open.set(false);
        #[cfg(feature = "hydrate")]
        dom::return_focus();
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            ev.prevent_default();
            close();
        }
        "Tab" => {
            #[cfg(feature = "hydrate")]
            if let Some(element) = dialog.get() {
                dom::trap_tab(&element, &ev);
            }
        }
        _ => {}
    };
    // One set of listeners for whatever content the server sent.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        if dom::closest(&ev, "[data-close]").is_some() {
            ev.prevent_default();
            close();
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_change = move |_: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        if let Some(element) = body.get() {
            dom::show_selected(&element);
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        dom::submit(&ev, body, failed);
    };
    move || {
        open.get().then(|| view! {
            <div class="fixed inset-0 z-40 bg-slate-900/50" aria-hidden="true"></div>
            // A click on the backdrop (not inside the panel) closes it.
            <div class="fixed inset-0 z-50 overflow-y-auto md:p-8"
                 on:click=move |ev| if ev.target().zip(ev.current_target()).is_some_and(|(a, b)| a == b) { close() }>
                <div node_ref=dialog role="dialog" aria-modal="true" aria-labelledby="upgrade-title" data-testid="upgrade-modal"
                     class="mx-auto min-h-full w-full max-w-4xl bg-white p-4 shadow-xl md:min-h-0 md:rounded-xl md:p-6"
                     on:keydown=on_keydown on:click=on_click on:change=on_change on:submit=on_submit>
                    {move || failed.get().map(|error| view! {
                        <div role="alert" class="text-red-800">
                            <p class="font-semibold" id="upgrade-title">"We couldn't load the plans."</p>
                            <p class="text-sm">{error.to_string()}</p>
                            <button type="button" data-close="" class="mt-3 rounded-md border border-slate-300 px-3 py-1.5">"Close"</button>
                        </div>
                    })}
                    <div node_ref=body><p class="text-slate-500">"Loading plans…"</p></div>
                </div>
            </div>
        })
    }
}

/// The browser side: loading the content, following the selection, sending the form,
/// remembering the opener, trapping Tab, returning focus.
#[cfg(feature = "hydrate")]
mod dom {
    use crate::error::AppError;
    pub use crate::browser::closest;
    use crate::browser::{fetch_fragment, send};
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    type Body = NodeRef<leptos::html::Div>;

    const OPENER: &str = "data-modal-opener";
    const CONTENT: &str = "[data-upgrade-dialog]";
    const FOCUSABLE: &str = "a[href], button:not([disabled]), textarea:not([disabled]), input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex='-1'])";

    fn document() -> Option<web_sys::Document> {
        web_sys::window()?.document()
    }

    fn html(element: web_sys::Element) -> Option<web_sys::HtmlElement> {
        element.dyn_into().ok()
    }

    /// Opens the modal on a click on (or Enter on) any `data-upgrade` element.
    pub fn open_on_click(open: RwSignal<bool>, failed: RwSignal<Option<AppError>>, body: Body) {
        let Some(doc) = document() else { return };
        let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let Some(opener) = closest(&ev, "[data-upgrade]") else { return };
            ev.prevent_default();
            remember_opener();
            let tier = opener.get_attribute("data-upgrade").unwrap_or_default();
            failed.set(None);
            open.set(true);
            let url = format!("/upgrade?tier={}", js_sys::encode_uri_component(&tier));
            leptos::task::spawn_local(load(url, body, failed));
        });
        let _ = doc.add_event_listener_with_callback("click", listener.as_ref().unchecked_ref());
        listener.forget();
    }

    /// Reads the content from the server and shows it, focusing its first control.
    async fn load(url: String, body: Body, failed: RwSignal<Option<AppError>>) {
        match fetch_fragment(&url, CONTENT).await {
            Ok(content) => {
                let Some(element) = body.get_untracked() else { return };
                element.set_inner_html(&content);
                show_selected(&element);
                let target = element
                    .query_selector("input[type=radio]:checked, [data-autofocus]")
                    .ok()
                    .flatten()
                    .or_else(|| element.query_selector("textarea").ok().flatten());
                if let Some(target) = target.and_then(html) {
                    let _ = target.focus();
                }
            }
            Err(error) => {
                if let Some(element) = body.get_untracked() {
                    element.set_inner_html("");
                }
                failed.set(Some(error));
            }
        }
    }

    /// Shows what belongs to the chosen tier (`data-show-for`) and hides the rest.
    pub fn show_selected(root: &web_sys::Element) {
        let Some(selected) = root
            .query_selector("input[name=tier]:checked")
            .ok()
            .flatten()
            .and_then(|el| el.get_attribute("value"))
        else {
            return;
        };
        let Ok(list) = root.query_selector_all("[data-show-for]") else { return };
        for i in 0..list.length() {
            let Some(el) = list.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) else { continue };
            let shown = el.get_attribute("data-show-for").is_some_and(|tiers| tiers.split(' ').any(|t| t == selected));
            let _ = el.toggle_attribute_with_force("hidden", !shown);
        }
    }

    /// Sends the request; on success shows the server's "Request sent", on a refusal its
    /// message by the field it concerns (focused), or above the buttons.
    pub fn submit(ev: &web_sys::SubmitEvent, body: Body, failed: RwSignal<Option<AppError>>) {
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
        leptos::task::spawn_local(async move {
            if send(&form).await.is_some() {
                load("/upgrade?sent".to_owned(), body, failed).await;
                announce_license_changed();
            }
        });
    }

    /// Tells the page's live region that the license (its request) changed.
    fn announce_license_changed() {
        if let (Some(window), Ok(event)) = (web_sys::window(), web_sys::Event::new(crate::browser::LICENSE_CHANGED)) {
            let _ = window.dispatch_event(&event);
        }
    }

    fn remember_opener() {
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
            if let Some(el) = html(opener) {
                let _ = el.focus();
            }
        }
    }

    /// Radios other than the checked one are not Tab stops, as in the browser's own order;
    /// hidden elements are not either.
    fn focusables(root: &web_sys::Element) -> Vec<web_sys::HtmlElement> {
        let Ok(list) = root.query_selector_all(FOCUSABLE) else { return Vec::new() };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
            .filter(|el| el.closest("[hidden]").ok().flatten().is_none())
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
}
