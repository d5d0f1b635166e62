//! The browser entry point. The pages are server HTML; only the islands (the live
//! dashboard, charts, the upgrade modal, the key and admin panels) are hydrated.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast;

/// Called by Leptos's island loader once the WASM is instantiated, before it walks the
/// page and hydrates each `<leptos-island>`.
#[wasm_bindgen]
pub fn hydrate() {
    #[allow(unused_imports)]
    use app::islands::*;
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Tests wait for this mark: a click before hydration would be lost silently. The loader
    // hydrates the islands right after this returns, in microtasks, so a zero timeout runs
    // once they are all done.
    if let Some(window) = web_sys::window() {
        let mark = wasm_bindgen::closure::Closure::once_into_js(|| {
            if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        });
        let _ = window.set_timeout_with_callback(mark.unchecked_ref());
    }
}
