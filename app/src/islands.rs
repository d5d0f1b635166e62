//! The islands: the only parts of the UI compiled to WASM. Every page is server HTML;
//! these hydrate inside it. This module names them all (the browser entry point imports
//! it) and holds the live region, which most pages use.
//!
//! The WASM carries behaviour, not markup: what the browser shows is rendered by the
//! server, read again when it changes, and marked with `data-` attributes that say what
//! the browser should do with it.

pub use crate::components::chart::ChartCanvas;
pub use crate::components::upgrade_modal::UpgradeModalHost;

#[cfg(feature = "hydrate")]
use crate::browser;
use crate::error::AppError;
use leptos::prelude::*;

pub use crate::browser::LICENSE_CHANGED;

/// A page region that refreshes in place, and whose forms stay on the page.
///
/// A refresh reads the same page from the server and swaps in its `[data-live]` region,
/// so the HTML is rendered by the same server code as the first load, and then hydrates
/// the islands inside it (the chart); elements outside it marked `data-sync` (the header's
/// unread badge) take their fresh content from the same read. A failed read shows the error in place of the
/// region, with a Retry; the frame around it stays. It refreshes:
/// - on a click on anything marked `data-action="refresh"` inside it;
/// - every 5 minutes, if the region is marked `data-auto-refresh`;
/// - when the upgrade modal sends a request, and every 3 seconds while the region shows a
///   pending request (`data-request-pending`, checked with one cheap server call) until
///   the admin answers.
///
/// Forms marked `data-enhance` are sent by the browser instead of navigating:
/// - a GET form (a filter) reads its result page and swaps it in, and the address follows;
/// - a POST form goes to its server function. A refusal is shown in the form's
///   `data-error-for` slot for the field it concerns (else its `data-error-for=""` slot).
///   On success the region refreshes, then the `data-reveal-slot` the form names in
///   `data-reveal` is shown, its `data-json` elements filled from the answer: how a key's
///   plaintext is shown once without ever being stored. `data-enhance="replace"` hides the
///   form instead of refreshing.
/// - In a revealed slot, `data-copy` copies its `data-copy-source` and `data-dismiss`
///   hides it.
#[island]
pub fn LiveRegion(children: Children) -> impl IntoView {
    let error = RwSignal::new(None::<AppError>);
    let region = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    let refresh = Callback::new(move |()| leptos::task::spawn_local(async move { browser::refresh(region, error, None).await; }));
    #[cfg(not(feature = "hydrate"))]
    let refresh = Callback::new(|()| {});
    #[cfg(feature = "hydrate")]
    browser::schedule(region, refresh);

    let on_click = move |ev: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        browser::on_click(&ev, refresh);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        browser::on_change(&ev);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        browser::on_submit(&ev, region, error);
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <div on:click=on_click on:change=on_change on:submit=on_submit>
            {move || error.get().map(|error| view! {
                <main class="mx-auto max-w-6xl px-4 py-6">
                    <crate::components::error_panel::ErrorPanel error retry=refresh />
                </main>
            })}
            <div node_ref=region data-live="" class:hidden=move || error.with(Option::is_some)>{children()}</div>
        </div>
    }
}
