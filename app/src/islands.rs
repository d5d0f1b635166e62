//! The islands: the only parts of the UI compiled to WASM. Every page is server HTML;
//! these hydrate inside it. Most of them live beside the page they belong to; this module
//! names them all (the browser entry point imports it) and holds the live dashboard.

pub use crate::components::chart::ChartCanvas;
pub use crate::components::upgrade_modal::UpgradeModalHost;
pub use crate::routes::admin::{AwaitingSignIn, ServiceKeys, WebhookEvents};
pub use crate::routes::keys::KeysPanel;
pub use crate::routes::welcome::WelcomeForm;

use crate::error::AppError;
use leptos::prelude::*;

/// How often the dashboard refreshes itself without a reload.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// While a request waits for the admin, how often its state is checked (one indexed read).
pub const PENDING_POLL: std::time::Duration = std::time::Duration::from_secs(3);
/// The window event that asks the live region to refresh (sent by the upgrade modal when
/// a request is made).
pub const LICENSE_CHANGED: &str = "tollgate:license-changed";

/// A page region that refreshes in place: every 5 minutes, on a click on anything marked
/// `data-action="refresh"` inside it, when the upgrade modal sends a request, and every
/// 3 seconds while the region shows a pending request (`data-request-pending`, checked
/// with one cheap server call) until the admin answers.
///
/// A refresh reads the same page from the server and swaps in its `[data-live]` region,
/// so the HTML is rendered by the same server code as the first load, and then hydrates
/// the islands inside it (the chart). A failed read shows the error in place of the
/// region, with a Retry; the frame around it stays.
#[island]
pub fn LiveRegion(children: Children) -> impl IntoView {
    let error = RwSignal::new(None::<AppError>);
    let region = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    let refresh = browser::refresher(region, error);
    #[cfg(not(feature = "hydrate"))]
    let refresh = Callback::new(|()| {});
    #[cfg(feature = "hydrate")]
    browser::schedule(region, refresh);

    let on_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        if browser::is_refresh_click(&ev) {
            ev.prevent_default();
            refresh.run(());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <div on:click=on_click>
            {move || error.get().map(|error| view! {
                <main class="mx-auto max-w-6xl px-4 py-6">
                    <crate::components::error_panel::ErrorPanel error retry=refresh />
                </main>
            })}
            <div node_ref=region data-live="" class:hidden=move || error.with(Option::is_some)>{children()}</div>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::{LICENSE_CHANGED, PENDING_POLL, REFRESH_EVERY};
    use crate::error::AppError;
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};

    type Region = NodeRef<leptos::html::Div>;

    /// Whether a click landed on a refresh control (a button or link marked for it).
    pub fn is_refresh_click(ev: &leptos::ev::MouseEvent) -> bool {
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("[data-action=refresh]").ok().flatten())
            .is_some()
    }

    /// Reads the page again and swaps its live region in.
    pub fn refresher(region: Region, error: RwSignal<Option<AppError>>) -> Callback<()> {
        Callback::new(move |()| {
            leptos::task::spawn_local(async move {
                match fetch_region().await {
                    Ok(html) => {
                        if let Some(element) = region.get_untracked() {
                            element.set_inner_html(&html);
                            hydrate_islands_in(&element);
                        }
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    }

    /// The timers and the window event that trigger a refresh.
    pub fn schedule(region: Region, refresh: Callback<()>) {
        Effect::new(move |_| {
            if let Ok(handle) = set_interval_with_handle(move || refresh.run(()), REFRESH_EVERY) {
                on_cleanup(move || handle.clear());
            }
            let poll = move || {
                let Some(pending) = pending_request(region) else { return };
                leptos::task::spawn_local(async move {
                    if let Ok(state) = crate::api::upgrade::request_state().await {
                        let still_pending = state.is_some_and(|(id, status)| id == pending && status == model::RequestStatus::Pending);
                        if !still_pending {
                            refresh.run(());
                        }
                    }
                });
            };
            if let Ok(handle) = set_interval_with_handle(poll, PENDING_POLL) {
                on_cleanup(move || handle.clear());
            }
            let listener = wasm_bindgen::closure::Closure::<dyn Fn()>::new(move || refresh.run(()));
            if let Some(window) = web_sys::window() {
                let _ = window.add_event_listener_with_callback(LICENSE_CHANGED, listener.as_ref().unchecked_ref());
            }
            listener.forget();
        });
    }

    /// The id of the pending request the region shows, if any.
    fn pending_request(region: Region) -> Option<String> {
        let element = region.get_untracked()?;
        element.query_selector("[data-request-pending]").ok().flatten()?.get_attribute("data-request-pending")
    }

    async fn fetch_region() -> Result<String, AppError> {
        let location = web_sys::window().ok_or_else(|| AppError::Transport("no window".into()))?.location();
        let url = format!("{}{}", location.pathname().unwrap_or_default(), location.search().unwrap_or_default());
        let transport = |e: gloo_net::Error| AppError::Transport(e.to_string());
        let response = gloo_net::http::Request::get(&url).header("Accept", "text/html").send().await.map_err(transport)?;
        if !response.ok() {
            return Err(AppError::Transport(format!("the server answered {}", response.status())));
        }
        let html = response.text().await.map_err(transport)?;
        let parser = web_sys::DomParser::new().map_err(|_| AppError::Internal)?;
        let document = parser.parse_from_string(&html, web_sys::SupportedType::TextHtml).map_err(|_| AppError::Internal)?;
        // A page without the region is the sign-in page the server sent instead.
        let live = document.query_selector("[data-live]").ok().flatten().ok_or(AppError::Unauthorized)?;
        Ok(live.inner_html())
    }

    /// Hydrates the islands in freshly swapped HTML, through the loader's own hook.
    fn hydrate_islands_in(root: &web_sys::Element) {
        let Some(window) = web_sys::window() else { return };
        let Ok(hook) = js_sys::Reflect::get(&window, &JsValue::from_str("__hydrateIsland")) else { return };
        let Some(hook) = hook.dyn_ref::<js_sys::Function>() else { return };
        let Ok(islands) = root.query_selector_all("leptos-island") else { return };
        for i in 0..islands.length() {
            if let Some(island) = islands.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                let id = island.get_attribute("data-component").unwrap_or_default();
                let _ = hook.call2(&JsValue::NULL, &island, &JsValue::from_str(&id));
            }
        }
    }
}
