//! The license context: the signed-in account's license, entitlements and quotas, provided
//! once at the app root, and the `FeatureGate` that reads it.

use crate::api::upgrade::{get_license, request_state, AccountLicense};
use crate::components::frame::SessionContext;
use crate::error::AppError;
use leptos::prelude::*;
use model::upgrade::feature_label;

/// How often the license refreshes itself without a reload.
pub const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);
/// While a request waits for the admin, how often its state is checked (one indexed read).
const PENDING_POLL: std::time::Duration = std::time::Duration::from_secs(3);

/// The license context. `version` changes whenever the license should be read again:
/// every 5 minutes, after an action that changes it, when the session changes, and when
/// the admin answers a pending request.
#[derive(Clone, Copy)]
pub struct LicenseContext {
    pub data: Resource<Result<Option<AccountLicense>, AppError>>,
    version: RwSignal<u32>,
}

impl LicenseContext {
    /// Reads the license again (and everything that depends on `version`).
    pub fn changed(&self) {
        self.version.update(|n| *n += 1);
    }

    /// Tracks refreshes: pages whose data follows the license read this.
    pub fn version(&self) -> u32 {
        self.version.get()
    }

    /// Calls [`changed`](Self::changed) when `action` succeeds.
    pub fn follow<S, T>(self, action: S)
    where
        S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
        T: 'static,
    {
        Effect::new(move |_| {
            if matches!(action.get(), Some(Ok(_))) {
                self.changed();
            }
        });
    }
}

/// Provides the license context; called once at the app root, after the session.
pub fn provide_license() {
    let session = expect_context::<SessionContext>();
    let version = RwSignal::new(0u32);
    // Follows the session too: signing in or out reads the license again.
    let data = Resource::new(move || (version.get(), session.version()), |_| get_license());
    let context = LicenseContext { data, version };
    provide_context(context);

    // The browser only: effects do not run on the server.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || context.changed(), REFRESH_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
    // While a request is pending, notice the admin's answer within seconds.
    Effect::new(move |_| {
        let pending = data.get().and_then(Result::ok).flatten().and_then(|l| l.pending_request().map(|r| r.id.clone()));
        if let Some(id) = pending {
            let poll = move || {
                let id = id.clone();
                leptos::task::spawn_local(async move {
                    if let Ok(state) = request_state().await {
                        if state.as_ref().is_none_or(|(newest, status)| *newest != id || *status != model::RequestStatus::Pending) {
                            context.changed();
                        }
                    }
                });
            };
            if let Ok(handle) = set_interval_with_handle(poll, PENDING_POLL) {
                on_cleanup(move || handle.clear());
            }
        }
    });
}

/// Shows `children` when the account's plan includes `feature`; otherwise the `fallback`,
/// or an upgrade prompt naming the plan that unlocks it and what that plan adds. The
/// server enforces the same gate; this one only shapes the page.
#[component]
pub fn FeatureGate(
    #[prop(into)] feature: String,
    children: ChildrenFn,
    #[prop(optional, into)] fallback: Option<ViewFn>,
) -> impl IntoView {
    let context = expect_context::<LicenseContext>();
    let children = StoredValue::new(children);
    let fallback = StoredValue::new(fallback);
    let feature = StoredValue::new(feature);
    view! {
        <Transition fallback=|| ()>
            {move || context.data.get().map(|result| {
                let license = result.ok().flatten();
                let access = license.as_ref().and_then(|l| l.feature(&feature.get_value()));
                match access {
                    Some(access) if access.allowed => children.with_value(|c| c()).into_any(),
                    _ => match fallback.get_value() {
                        Some(fallback) => fallback.run(),
                        None => view! { <UpgradePrompt feature=feature.get_value() access /> }.into_any(),
                    },
                }
            })}
        </Transition>
    }
}

/// Why a feature is locked, which plan unlocks it, what that plan adds, and a way to ask.
#[component]
pub fn UpgradePrompt(feature: String, access: Option<model::FeatureAccess>) -> impl IntoView {
    let modal = expect_context::<crate::components::upgrade_modal::UpgradeModal>();
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
                        on:click=move |_| modal.open(Some(tier.clone()))>
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
