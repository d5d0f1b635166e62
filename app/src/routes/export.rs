//! `/export`: the account's usage as CSV (the `exports` feature, Pro and up).

use crate::components::frame::Frame;
use crate::components::license::FeatureGate;
use leptos::prelude::*;

#[component]
pub fn ExportPage() -> impl IntoView {
    crate::components::license::provide_license();
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

/// A plain form: the browser downloads the REST export (`usage.csv`) with the session's
/// cookie, which enforces the same gate on the server.
#[component]
fn Exporter() -> impl IntoView {
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
            <form method="get" action="/api/v1/users/me/usage.csv" class="flex flex-col gap-3 md:flex-row md:items-end">
                <label class="flex flex-col text-sm">"Period"
                    <select name="days" class="rounded-md border border-slate-300 bg-white px-3 py-2" data-testid="export-days">
                        <option value="7">"Last 7 days"</option>
                        <option value="30" selected>"Last 30 days"</option>
                        <option value="90">"Last 90 days"</option>
                    </select>
                </label>
                <button type="submit" data-testid="export-download"
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2">
                    "Download CSV"
                </button>
            </form>
            <p class="mt-3 text-sm text-slate-600">"One row per day and meter: day, meter, value."</p>
        </section>
    }
}
