use crate::error::AppError;
use leptos::prelude::*;

/// An error shown in place of the content that failed, with a way to try again.
#[component]
pub fn ErrorPanel(
    error: AppError,
    retry: Callback<()>,
    #[prop(default = "We couldn't load your usage.")] title: &'static str,
) -> impl IntoView {
    let signed_out = error == AppError::Unauthorized;
    view! {
        <div role="alert" data-testid="error" class="rounded-xl border border-red-200 bg-red-50 p-4 text-red-900">
            <p class="font-semibold">{title}</p>
            <p class="mt-1 text-sm" data-testid="error-message">{error.to_string()}</p>
            <Show when=move || signed_out>
                <a href="/signin" class="mt-2 inline-block text-sm font-medium underline">"Sign in again"</a>
            </Show>
            <button
                type="button"
                data-testid="retry"
                class="mt-3 rounded-md bg-red-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-red-800 focus:outline-none focus:ring-2 focus:ring-red-500"
                on:click=move |_| retry.run(())
            >
                "Retry"
            </button>
        </div>
    }
}
