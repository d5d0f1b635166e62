use crate::error::AppError;
use leptos::prelude::*;

const RETRY: &str = "mt-3 inline-block rounded-md bg-red-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-800 focus:outline-none focus:ring-2 focus:ring-red-500";

/// An error shown in place of the content that failed, with a way to try again.
///
/// Inside an island `retry` runs in the browser. On a server-rendered page there is no
/// callback: Retry is a link to the same page, which a live region (the dashboard's)
/// intercepts through `data-action="refresh"` to refresh in place.
#[component]
pub fn ErrorPanel(
    error: AppError,
    #[prop(optional, into)] retry: Option<Callback<()>>,
    #[prop(default = "We couldn't load your usage.")] title: &'static str,
) -> impl IntoView {
    let signed_out = error == AppError::Unauthorized;
    view! {
        <div role="alert" data-testid="error" class="rounded-xl border border-red-200 bg-red-50 p-4 text-red-900">
            <p class="font-semibold">{title}</p>
            <p class="mt-1 text-sm" data-testid="error-message">{error.to_string()}</p>
            {signed_out.then(|| view! {
                <a href="/signin" class="mt-2 block text-sm font-medium underline">"Sign in again"</a>
            })}
            {match retry {
                Some(retry) => view! {
                    <button type="button" data-testid="retry" class=RETRY on:click=move |_| retry.run(())>"Retry"</button>
                }.into_any(),
                None => view! {
                    <a href="" role="button" data-testid="retry" data-action="refresh" class=RETRY>"Retry"</a>
                }.into_any(),
            }}
        </div>
    }
}
