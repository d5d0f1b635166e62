//! What the islands share in the browser: reading server HTML, sending forms, showing
//! refusals and revealing answers. A leaf below the islands and components that use it.

/// How often a region marked `data-auto-refresh` (the dashboard) refreshes itself.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// While a request waits for the admin, how often its state is checked (one indexed read).
pub const PENDING_POLL: std::time::Duration = std::time::Duration::from_secs(3);
/// The window event that asks the live region to refresh (sent by the upgrade modal when
/// a request is made).
pub const LICENSE_CHANGED: &str = "tollgate:license-changed";

#[cfg(feature = "hydrate")]
pub use inner::*;

#[cfg(feature = "hydrate")]
mod inner {
    use super::{LICENSE_CHANGED, PENDING_POLL, REFRESH_EVERY};
    use crate::error::AppError;
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};

    type Region = NodeRef<leptos::html::Div>;

    /// The element matching `selector` at or above the event's target.
    pub fn closest(ev: &web_sys::Event, selector: &str) -> Option<web_sys::Element> {
        ev.target()?.dyn_into::<web_sys::Element>().ok()?.closest(selector).ok().flatten()
    }

    fn elements(root: &web_sys::Element, selector: &str) -> Vec<web_sys::Element> {
        let Ok(list) = root.query_selector_all(selector) else { return Vec::new() };
        (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect()
    }

    fn location() -> Option<web_sys::Location> {
        Some(web_sys::window()?.location())
    }

    /// Reads the region at `url` (the current page by default), swaps it in, and hydrates
    /// the islands inside it.
    pub async fn refresh(region: Region, error: RwSignal<Option<AppError>>, url: Option<String>) -> bool {
        let url = url.or_else(|| {
            let location = location()?;
            Some(format!("{}{}", location.pathname().ok()?, location.search().ok()?))
        });
        match fetch_fragment(&url.unwrap_or_default(), "[data-live]").await {
            Ok(html) => {
                if let Some(element) = region.get_untracked() {
                    element.set_inner_html(&html);
                    hydrate_islands_in(&element);
                }
                error.set(None);
                true
            }
            Err(e) => {
                error.set(Some(e));
                false
            }
        }
    }

    /// Refresh controls, copy buttons and dismiss buttons.
    pub fn on_click(ev: &web_sys::MouseEvent, refresh: Callback<()>) {
        if closest(ev, "[data-action=refresh]").is_some() {
            ev.prevent_default();
            refresh.run(());
        } else if let Some(button) = closest(ev, "[data-copy]") {
            let source = button.closest("[data-reveal-slot]").ok().flatten().and_then(|slot| slot.query_selector("[data-copy-source]").ok().flatten());
            let text = source.and_then(|s| s.dyn_into::<web_sys::HtmlInputElement>().ok()).map(|input| input.value());
            if let (Some(window), Some(text)) = (web_sys::window(), text) {
                let _ = window.navigator().clipboard().write_text(&text);
                button.set_text_content(Some("Copied"));
            }
        } else if let Some(slot) = closest(ev, "[data-dismiss]").and_then(|b| b.closest("[data-reveal-slot]").ok().flatten()) {
            let _ = slot.set_attribute("hidden", "");
        }
    }

    /// A filter that applies itself when changed.
    pub fn on_change(ev: &web_sys::Event) {
        if closest(ev, "[data-autosubmit]").is_some() {
            if let Some(form) = closest(ev, "form").and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok()) {
                let _ = form.request_submit();
            }
        }
    }

    pub fn on_submit(ev: &web_sys::SubmitEvent, region: Region, error: RwSignal<Option<AppError>>) {
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok()) else { return };
        let Some(mode) = form.get_attribute("data-enhance") else { return };
        ev.prevent_default();
        if form.method().eq_ignore_ascii_case("get") {
            let Ok(data) = web_sys::FormData::new_with_form(&form) else { return };
            let Ok(params) = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data) else { return };
            let action = form.action();
            let url = format!("{}?{}", action.split('?').next().unwrap_or_default(), String::from(params.to_string()));
            leptos::task::spawn_local(async move {
                if refresh(region, error, Some(url.clone())).await {
                    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
                    }
                }
            });
            return;
        }
        leptos::task::spawn_local(async move {
            let Some(answer) = send(&form).await else { return };
            if mode == "replace" {
                let _ = form.set_attribute("hidden", "");
            } else {
                refresh(region, error, None).await;
            }
            if let (Some(name), Some(root)) = (form.get_attribute("data-reveal"), region.get_untracked()) {
                reveal(&root, &name, &answer);
            }
        });
    }

    /// Sends a form to its server function with its submit buttons disabled; shows a
    /// refusal in the form. The answer's body on success.
    pub async fn send(form: &web_sys::HtmlFormElement) -> Option<String> {
        let buttons = elements(form, "[type=submit]");
        for button in &buttons {
            let _ = button.set_attribute("disabled", "");
        }
        let result = post_form(form).await;
        for button in &buttons {
            let _ = button.remove_attribute("disabled");
        }
        show_error(form, result.as_ref().err());
        result.ok()
    }

    /// Shows `error` in the form's slot for its field (focusing the field), or in the
    /// general slot; clears the other slots.
    pub fn show_error(form: &web_sys::HtmlFormElement, error: Option<&AppError>) {
        let field = error
            .and_then(AppError::field)
            .filter(|f| form.query_selector(&format!("[data-error-for=\"{f}\"]")).ok().flatten().is_some())
            .unwrap_or("");
        for slot in elements(form, "[data-error-for]") {
            let slot_field = slot.get_attribute("data-error-for").unwrap_or_default();
            let message = error.filter(|_| slot_field == field).map(ToString::to_string);
            let _ = if message.is_some() { slot.set_attribute("role", "alert") } else { slot.remove_attribute("role") };
            // The general slot has a border: hidden while empty.
            if slot_field.is_empty() {
                let _ = slot.toggle_attribute_with_force("hidden", message.is_none());
            }
            slot.set_text_content(message.as_deref());
        }
        let input = form.query_selector(&format!("[name=\"{field}\"]")).ok().flatten().filter(|_| !field.is_empty() && error.is_some());
        if let Some(input) = input.and_then(|i| i.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = input.focus();
        }
    }

    /// Shows the slot named `name`, filling each `data-json` element with the answer's
    /// value at that dotted path; an element whose value is missing hides its
    /// `data-optional` block.
    fn reveal(root: &web_sys::Element, name: &str, answer: &str) {
        let Ok(Some(slot)) = root.query_selector(&format!("[data-reveal-slot=\"{name}\"]")) else { return };
        let json = js_sys::JSON::parse(answer).unwrap_or(JsValue::NULL);
        for element in elements(&slot, "[data-json]") {
            let path = element.get_attribute("data-json").unwrap_or_default();
            let value = path
                .split('.')
                .filter(|p| !p.is_empty())
                .try_fold(json.clone(), |v, key| if v.is_object() { js_sys::Reflect::get(&v, &JsValue::from_str(key)).ok() } else { None })
                .and_then(|v| v.as_string());
            let Some(value) = value else {
                if let Ok(Some(block)) = element.closest("[data-optional]") {
                    let _ = block.set_attribute("hidden", "");
                }
                continue;
            };
            if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
                input.set_value(&value);
            } else {
                if element.tag_name().eq_ignore_ascii_case("a") {
                    let _ = element.set_attribute("href", &value);
                }
                element.set_text_content(Some(&value));
            }
        }
        let _ = slot.remove_attribute("hidden");
    }

    /// The timers and the window event that trigger a refresh.
    pub fn schedule(region: Region, refresh: Callback<()>) {
        Effect::new(move |_| {
            let auto = move || {
                let marked = region.get_untracked().and_then(|r| r.query_selector("[data-auto-refresh]").ok().flatten());
                if marked.is_some() {
                    refresh.run(());
                }
            };
            if let Ok(handle) = set_interval_with_handle(auto, REFRESH_EVERY) {
                on_cleanup(move || handle.clear());
            }
            let poll = move || {
                let Some(pending) = pending_request(region) else { return };
                leptos::task::spawn_local(async move {
                    if let Ok(state) = crate::api::upgrade::request_state().await {
                        let still_pending = state.is_some_and(|(id, status)| id.as_str() == pending && status == model::RequestStatus::Pending);
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
            follow_live(region, refresh);
        });
    }

    /// Follows the account as the server pushes its changes (`/api/live`, Server-Sent
    /// Events; the browser reconnects by itself): a meter's numbers change in place, and
    /// anything more (a new level or note, ingest, a license change, a notification) reads
    /// the region again. The stream lives as long as the page; only a customer account's
    /// pages (the frame marks them `data-live-account`) open it.
    fn follow_live(region: Region, refresh: Callback<()>) {
        let follows = web_sys::window().and_then(|w| w.document()).and_then(|d| d.query_selector("[data-live-account]").ok().flatten());
        if follows.is_none() {
            return;
        }
        let Ok(source) = web_sys::EventSource::new("/api/live") else { return };
        let on_event = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let Some(data) = ev.data().as_string() else { return };
            if !apply_live(region, &data) {
                refresh.run(());
            }
        });
        let _ = source.add_event_listener_with_callback("live", on_event.as_ref().unchecked_ref());
        on_event.forget();
        std::mem::forget(source);
    }

    /// Applies a live update in place; false when the region must be read again instead.
    fn apply_live(region: Region, data: &str) -> bool {
        let Some(root) = region.get_untracked() else { return true };
        let Ok(update) = js_sys::JSON::parse(data) else { return true };
        let field = |value: &JsValue, key: &str| js_sys::Reflect::get(value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
        if field(&update, "reread").as_bool() == Some(true) {
            return false;
        }
        let meters = js_sys::Array::from(&field(&update, "meters"));
        for meter in meters.iter() {
            let Some(key) = field(&meter, "meter").as_string() else { continue };
            let Ok(Some(element)) = root.query_selector(&format!("[data-testid=\"meter-{key}\"]")) else { continue };
            let note = field(&meter, "note").as_string();
            let shown_note = element.query_selector("[data-testid=meter-note]").ok().flatten().and_then(|n| n.text_content());
            if element.get_attribute("data-level") != field(&meter, "level").as_string() || note != shown_note {
                return false;
            }
            let percent = field(&meter, "percent").as_f64().unwrap_or_default();
            let width = field(&meter, "width").as_f64().unwrap_or_default();
            let text = field(&meter, "text").as_string().unwrap_or_default();
            if let Ok(Some(t)) = element.query_selector("[data-testid=meter-text]") {
                t.set_text_content(Some(&text));
            }
            if let Ok(Some(p)) = element.query_selector("[data-testid=meter-percent]") {
                p.set_text_content(Some(&format!("{percent}%")));
            }
            if let Ok(Some(bar)) = element.query_selector("[role=progressbar]") {
                let _ = bar.set_attribute("aria-valuenow", &width.to_string());
                let label = bar.get_attribute("aria-valuetext").unwrap_or_default();
                let level = label.rsplit_once(", ").map(|(_, l)| l.trim_end_matches(')').to_owned()).unwrap_or_default();
                let _ = bar.set_attribute("aria-valuetext", &format!("{text} ({percent}%, {level})"));
                if let Ok(Some(fill)) = bar.query_selector("div") {
                    let _ = fill.set_attribute("style", &format!("width: {width}%"));
                }
            }
        }
        true
    }

    /// The id of the pending request the region shows, if any.
    fn pending_request(region: Region) -> Option<String> {
        let element = region.get_untracked()?;
        element.query_selector("[data-request-pending]").ok().flatten()?.get_attribute("data-request-pending")
    }

    fn transport(e: gloo_net::Error) -> AppError {
        AppError::Transport(e.to_string())
    }

    /// Reads a page and returns the inner HTML of its element matching `selector`. A page
    /// without it is the sign-in page the server sent instead: the session has ended.
    pub async fn fetch_fragment(url: &str, selector: &str) -> Result<String, AppError> {
        let response = gloo_net::http::Request::get(url).header("Accept", "text/html").send().await.map_err(transport)?;
        if !response.ok() {
            return Err(AppError::Transport(format!("the server answered {}", response.status())));
        }
        let html = response.text().await.map_err(transport)?;
        let parser = web_sys::DomParser::new().map_err(|_| AppError::Internal)?;
        let document = parser.parse_from_string(&html, web_sys::SupportedType::TextHtml).map_err(|_| AppError::Internal)?;
        let found = document.query_selector(selector).ok().flatten().ok_or(AppError::Unauthorized)?;
        sync_outside(&document);
        Ok(found.inner_html())
    }

    /// Elements outside the region that follow its refresh (the header's unread badge):
    /// each `[data-sync=name]` here takes the content of its namesake in the fetched page.
    fn sync_outside(fetched: &web_sys::Document) {
        let Some(here) = web_sys::window().and_then(|w| w.document()) else { return };
        let Ok(list) = fetched.query_selector_all("[data-sync]") else { return };
        for fresh in (0..list.length()).filter_map(|i| list.item(i)?.dyn_into::<web_sys::Element>().ok()) {
            let Some(name) = fresh.get_attribute("data-sync") else { continue };
            if let Ok(Some(current)) = here.query_selector(&format!("[data-sync=\"{name}\"]")) {
                current.set_inner_html(&fresh.inner_html());
            }
        }
    }

    /// Sends a server-rendered form to its server function, URL-encoded as a form would
    /// be, and returns the answer's body; a refusal comes back as the server's typed error.
    pub async fn post_form(form: &web_sys::HtmlFormElement) -> Result<String, AppError> {
        let data = web_sys::FormData::new_with_form(form).map_err(|_| AppError::Internal)?;
        let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).map_err(|_| AppError::Internal)?;
        let response = gloo_net::http::Request::post(&form.action())
            .header("Accept", "application/json")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(String::from(params.to_string()))
            .map_err(transport)?
            .send()
            .await
            .map_err(transport)?;
        let ok = response.ok();
        let body = response.text().await.map_err(transport)?;
        if ok {
            Ok(body)
        } else {
            use leptos::server_fn::error::FromServerFnError;
            Err(AppError::de(leptos::server_fn::Bytes::from(body)))
        }
    }

    /// Hydrates the islands in freshly swapped HTML, through the loader's own hook.
    fn hydrate_islands_in(root: &web_sys::Element) {
        let Some(window) = web_sys::window() else { return };
        let Ok(hook) = js_sys::Reflect::get(&window, &JsValue::from_str("__hydrateIsland")) else { return };
        let Some(hook) = hook.dyn_ref::<js_sys::Function>() else { return };
        for island in elements(root, "leptos-island") {
            let id = island.get_attribute("data-component").unwrap_or_default();
            let _ = hook.call2(&JsValue::NULL, &island, &JsValue::from_str(&id));
        }
    }
}
