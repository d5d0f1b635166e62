//! `/export`: the account's usage as CSV (the `exports` feature, Pro and up).

use crate::api::upgrade::export_usage;
use crate::components::frame::Frame;
use crate::components::license::FeatureGate;
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn ExportPage() -> impl IntoView {
    view! {
        <Frame>
            <main class="mx-auto max-w-3xl px-4 py-6" data-testid="export-page">
                <h1 class="mb-1 text-xl font-semibold">"Export usage"</h1>
                <p class="mb-4 text-sm text-slate-600">"Every meter's daily usage as CSV (day, meter, value), oldest first, for spreadsheets and your own reports."</p>
                <FeatureGate feature="exports">
                    <Exporter />
                </FeatureGate>
            </main>
        </Frame>
    }
}

#[component]
fn Exporter() -> impl IntoView {
    let days = RwSignal::new(30u32);
    let export = Action::new(move |days: &u32| export_usage(*days));
    Effect::new(move |_| {
        if let Some(Ok(csv)) = export.value().get() {
            #[cfg(feature = "hydrate")]
            download(&format!("usage-{}d.csv", days.get_untracked()), &csv);
            #[cfg(not(feature = "hydrate"))]
            let _ = csv;
        }
    });
    let rows = move || match export.value().get() {
        Some(Ok(csv)) => Some(Ok(csv.lines().count().saturating_sub(1))),
        Some(Err(e)) => Some(Err::<usize, AppError>(e)),
        None => None,
    };
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
            <div class="flex flex-col gap-3 md:flex-row md:items-end">
                <label class="flex flex-col text-sm">"Period"
                    <select class="rounded-md border border-slate-300 bg-white px-3 py-2" data-testid="export-days"
                        on:change=move |ev| days.set(event_target_value(&ev).parse().unwrap_or(30))>
                        <option value="7">"Last 7 days"</option>
                        <option value="30" selected>"Last 30 days"</option>
                        <option value="90">"Last 90 days"</option>
                    </select>
                </label>
                <button type="button" data-testid="export-download" disabled=move || export.pending().get()
                    on:click=move |_| { export.dispatch(days.get()); }
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2 disabled:opacity-60">
                    "Download CSV"
                </button>
            </div>
            {move || rows().map(|r| match r {
                Ok(n) => view! { <p role="status" class="mt-3 text-sm text-green-800" data-testid="export-done">{format!("Downloaded {n} rows.")}</p> }.into_any(),
                Err(e) => view! { <p role="alert" class="mt-3 text-sm text-red-800" data-testid="export-error">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

/// Hands the CSV to the browser as a file download.
#[cfg(feature = "hydrate")]
fn download(name: &str, text: &str) {
    use wasm_bindgen::JsCast;
    let run = || -> Option<()> {
        let document = web_sys::window()?.document()?;
        let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/csv");
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
        let link: web_sys::HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
        link.set_href(&url);
        link.set_download(name);
        document.body()?.append_child(&link).ok()?;
        link.click();
        link.remove();
        web_sys::Url::revoke_object_url(&url).ok()
    };
    if run().is_none() {
        leptos::logging::warn!("the browser refused the download");
    }
}
