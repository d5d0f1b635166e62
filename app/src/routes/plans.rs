//! `/plans`: the public tier comparison, for people who are not signed in (and a way to
//! ask for a tier for those who are).

use crate::api::upgrade::get_plans;
use crate::components::frame::{Frame, SessionContext};
use crate::components::tiers::{all_features, TierDetails};
use leptos::prelude::*;

#[component]
pub fn PlansPage() -> impl IntoView {
    let plans = Resource::new(|| (), |_| get_plans());
    let signed_in = expect_context::<SessionContext>().0.is_some_and(|u| u.account_name.is_some());
    view! {
        <Frame>
            <main class="mx-auto max-w-6xl px-4 py-6" data-testid="plans-page">
                <h1 class="text-xl font-semibold">"Plans"</h1>
                <p class="mb-4 text-sm text-slate-600">"Every plan's price, limits and features. Limits marked soft are billed over, not refused."</p>
                <Suspense fallback=|| view! { <p class="text-slate-500">"Loading plans…"</p> }>
                    {move || plans.get().map(|result| match result {
                        Ok(tiers) => {
                            let features = all_features(&tiers);
                            view! {
                                <div class="grid grid-cols-1 gap-4 md:grid-cols-4" data-testid="plans-table">
                                    {tiers.into_iter().map(|t| {
                                        let id = t.id.clone();
                                        let sales = t.is_sales_led();
                                        let entry = t.rank == 0;
                                        let testid = format!("plan-{}", t.id);
                                        view! {
                                            <article class="flex flex-col rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid=testid>
                                                <TierDetails tier=t features=features.clone() />
                                                <div class="mt-auto pt-4">
                                                    {if signed_in && !entry {
                                                        view! {
                                                            <button type="button" data-upgrade=id
                                                                class="w-full rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-500 focus:ring-offset-2">
                                                                {if sales { "Contact sales" } else { "Request this plan" }}
                                                            </button>
                                                        }.into_any()
                                                    } else if signed_in {
                                                        ().into_any()
                                                    } else {
                                                        view! {
                                                            <a href="/signup" class="block w-full rounded-md bg-indigo-600 px-3 py-2 text-center text-sm font-semibold text-white hover:bg-indigo-700">
                                                                {if entry { "Start free" } else { "Get started" }}
                                                            </a>
                                                        }.into_any()
                                                    }}
                                                </div>
                                            </article>
                                        }
                                    }).collect_view()}
                                </div>
                            }.into_any()
                        }
                        Err(error) => view! { <p role="alert" class="text-red-800">{error.to_string()}</p> }.into_any(),
                    })}
                </Suspense>
            </main>
        </Frame>
    }
}
