//! The license context: the signed-in account's license, entitlements and quotas, loaded
//! by the server before the page renders, and the `FeatureGate` that reads it.

use crate::api::upgrade::AccountLicense;
use crate::error::AppError;
use leptos::prelude::*;
use model::upgrade::feature_label;

/// The license context, for the page being rendered on the server. In the browser the
/// live region refreshes the page's HTML instead (see `islands::LiveRegion`).
#[derive(Clone)]
pub struct LicenseContext(pub Result<Option<AccountLicense>, AppError>);

impl LicenseContext {
    /// The account's license, when one is signed in and it loaded.
    pub fn license(&self) -> Option<&AccountLicense> {
        self.0.as_ref().ok().and_then(Option::as_ref)
    }
}

/// Provides the license context; called at the top of each page that reads it (the
/// dashboard and the gated pages), whose license the server loaded before rendering.
pub fn provide_license() {
    let license = match crate::preloaded() {
        Some(license) => license,
        None => {
            // A page that reads the license must preload it in `pages::PAGES`; say so
            // rather than show a signed-in customer the signed-out prompts without a trace.
            #[cfg(feature = "ssr")]
            tracing::error!("the license context was not loaded before this page; set its preload in pages::PAGES");
            Ok(None)
        }
    };
    provide_context(LicenseContext(license));
}

/// Shows `children` when the account's plan includes `feature`; otherwise the `fallback`,
/// or an upgrade prompt naming the plan that unlocks it and what that plan adds. The
/// server enforces the same gate; this one only shapes the page.
#[component]
pub fn FeatureGate(
    #[prop(into)] feature: String,
    children: Children,
    #[prop(optional, into)] fallback: Option<ViewFn>,
) -> impl IntoView {
    let access = expect_context::<LicenseContext>().license().and_then(|l| l.feature(&feature));
    match access {
        Some(access) if access.allowed => children().into_any(),
        _ => match fallback {
            Some(fallback) => fallback.run(),
            None => view! { <UpgradePrompt feature access /> }.into_any(),
        },
    }
}

/// Why a feature is locked, which plan unlocks it, what that plan adds, and a way to ask.
#[component]
pub fn UpgradePrompt(feature: String, access: Option<model::FeatureAccess>) -> impl IntoView {
    let label = feature_label(&feature);
    let (title, detail, target, adds) = match &access {
        Some(a) if a.license_inactive => (
            format!("{label} is paused"),
            "Your license is not active. Renew it to use this feature again.".to_owned(),
            None,
            Vec::new(),
        ),
        Some(a) => match &a.required_plan_name {
            Some(name) => (
                format!("{label} is part of the {name} plan"),
                format!("Upgrade to {name} to use it. {name} adds:"),
                a.required_plan.clone(),
                a.adds.clone(),
            ),
            None => (format!("{label} is not available on your plan"), "Contact us to discuss it.".to_owned(), None, Vec::new()),
        },
        None => (format!("{label} needs a signed-in account"), "Sign in to see what your plan includes.".to_owned(), None, Vec::new()),
    };
    let signed_in = access.is_some();
    view! {
        <div class="rounded-xl border border-indigo-200 bg-indigo-50 p-4 text-indigo-950" data-testid="upgrade-prompt" data-feature=feature.clone()>
            <p class="font-semibold" data-testid="upgrade-prompt-title">{title}</p>
            <p class="mt-1 text-sm">{detail}</p>
            <ul class="mt-2 list-disc space-y-0.5 pl-5 text-sm">
                {adds.into_iter().map(|a| view! { <li>{a}</li> }).collect_view()}
            </ul>
            {match target {
                Some(tier) => view! {
                    <button type="button" data-testid="upgrade-prompt-request"
                        class="mt-3 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2"
                        data-upgrade=tier>
                        "Request an upgrade"
                    </button>
                }.into_any(),
                None if signed_in => view! {
                    <a href="/plans" class="mt-3 inline-block text-sm font-medium text-indigo-700 underline">"Compare plans"</a>
                }.into_any(),
                None => view! {
                    <a href="/signin" class="mt-3 inline-block text-sm font-medium text-indigo-700 underline">"Sign in"</a>
                }.into_any(),
            }}
        </div>
    }
}
