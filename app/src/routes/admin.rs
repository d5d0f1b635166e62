//! `/admin`: the operator's console. Anyone else gets a proper 403 page.

use crate::api::upgrade::{list_upgrade_requests, ApproveRequest, DeclineRequest};
use crate::api::admin::{awaiting_signin, list_accounts, list_service_keys, webhook_events, AttachEvent, CreateServiceKey, IssueSigninLink, RevokeServiceKey};
use crate::components::error_panel::ErrorPanel;
use crate::components::frame::{action_error, ActionError, FormError, Frame, SessionContext};
use crate::islands::LiveRegion;
use leptos::server_fn::ServerFn;
use crate::components::when;
use leptos::prelude::*;
use model::Role;

#[component]
pub fn AdminPage() -> impl IntoView {
    view! { <AdminOnly><Console /></AdminOnly> }
}

/// `/admin/requests`: customers' upgrade and sales requests, pending first.
#[component]
pub fn RequestsPage() -> impl IntoView {
    view! { <AdminOnly><RequestsInbox /></AdminOnly> }
}

/// Admins see `children`; anyone else a proper 403 page.
#[component]
fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    // The status must be set before the page streams, so it is decided from the session the
    // server resolved for this request, synchronously.
    #[cfg(feature = "ssr")]
    if crate::state::current_viewer().is_none_or(|v| v.role != Role::Admin) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::FORBIDDEN);
        }
    }
    let is_admin = expect_context::<SessionContext>().0.is_some_and(|u| u.role == Role::Admin);
    view! {
        <Frame>
            {if is_admin { children().into_any() } else { view! { <Forbidden /> }.into_any() }}
        </Frame>
    }
}

#[component]
fn Forbidden() -> impl IntoView {
    view! {
        <main class="mx-auto max-w-xl px-4 py-16 text-center" data-testid="forbidden">
            <p class="text-sm font-semibold text-red-700">"403"</p>
            <h1 class="mt-1 text-2xl font-semibold">"Admins only"</h1>
            <p class="mt-2 text-slate-600">"This page is for the operator's staff. Your account's pages are on your dashboard."</p>
            <a class="mt-6 inline-block rounded-md bg-indigo-600 px-4 py-2 text-white hover:bg-indigo-700" href="/dashboard">"Go to your dashboard"</a>
        </main>
    }
}

#[component]
fn Console() -> impl IntoView {
    let accounts = Resource::new(|| (), |_| list_accounts());
    view! {
        <LiveRegion>
        <main class="mx-auto max-w-6xl px-4 py-6" data-testid="admin-console">
            <h1 class="mb-4 text-xl font-semibold">"Admin console"</h1>
            <section class="mb-6 overflow-x-auto rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="accounts-title">
                <h2 id="accounts-title" class="mb-3 font-semibold">"Accounts"</h2>
                <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                    {move || accounts.get().map(|result| match result {
                        Ok(list) => view! {
                            <table class="w-full text-left text-sm" data-testid="accounts-table">
                                <thead><tr class="text-slate-500">
                                    <th class="py-1 pr-3 font-medium">"Account"</th><th class="py-1 pr-3 font-medium">"Plan"</th>
                                    <th class="py-1 pr-3 font-medium">"Status"</th><th class="py-1 pr-3 font-medium">"Seats"</th>
                                    <th class="py-1 font-medium">"Expires"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|a| view! {
                                        <tr class="border-t border-slate-100">
                                            <td class="py-1 pr-3"><div class="font-medium">{a.name}</div><div class="font-mono text-xs text-slate-500">{a.id.to_string()}</div></td>
                                            <td class="py-1 pr-3">{a.plan}</td>
                                            <td class="py-1 pr-3">{a.status.label()}</td>
                                            <td class="py-1 pr-3 tabular-nums">{a.seats}</td>
                                            <td class="py-1 whitespace-nowrap">{a.expires_at.as_ref().map_or_else(|| "—".to_owned(), when)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error title="We couldn't load the accounts." /> }.into_any(),
                    })}
                </Suspense>
            </section>
            <AwaitingSignIn />
            <WebhookEvents />
            <ServiceKeys />
        </main>
        </LiveRegion>
    }
}

/// Service keys for the operator's backend. A new key's plaintext is shown once: the live
/// region puts the server function's answer into the hidden slot.
#[component]
fn ServiceKeys() -> impl IntoView {
    let service_keys = Resource::new(|| (), |_| list_service_keys());
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="svc-title">
            <h2 id="svc-title" class="mb-1 font-semibold">"Service keys"</h2>
            <p class="mb-3 text-sm text-slate-600">"For the operator's backend: they act for any account on the REST API."</p>
            <form action=CreateServiceKey::url() method="post" data-enhance="" data-reveal="service-key">
                <div class="flex flex-col gap-2 md:flex-row">
                    <input name="name" type="text" required maxlength="100" aria-label="Service key name" placeholder="billing backend"
                           class="min-w-0 flex-1 rounded-md border border-slate-300 px-3 py-2" />
                    <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 font-semibold text-white hover:bg-indigo-700 disabled:opacity-60">"Create service key"</button>
                </div>
                <FormError class="mt-2" />
            </form>
            <div data-reveal-slot="service-key" hidden>
                <p role="status" class="mt-3 break-all rounded-md bg-green-50 px-3 py-2 font-mono text-sm text-green-900" data-testid="new-service-key" data-json="plaintext"></p>
                <p class="mt-1 text-xs text-slate-500">"Copy it now: it will not be shown again."</p>
            </div>
            <Suspense fallback=|| ()>
                <ul class="mt-3 space-y-1 text-sm">
                    {move || service_keys.get().and_then(Result::ok).map(|keys| keys.into_iter().map(|k| view! {
                        <li class="flex flex-wrap items-center gap-x-3" data-testid="service-key-item"><span class="font-medium">{k.name}</span><span class="font-mono text-slate-500">{format!("{}…", k.prefix)}</span>
                            <span class="text-slate-500">{if k.revoked_at.is_some() { "revoked" } else { "active" }}</span>
                            {k.revoked_at.is_none().then(|| view! {
                                <form action=RevokeServiceKey::url() method="post" data-enhance="">
                                    <input type="hidden" name="id" value=k.id.to_string() />
                                    <button type="submit" class="text-red-700 hover:underline" data-testid="revoke-service-key">"Revoke"</button>
                                    <FormError class="mt-1" />
                                </form>
                            })}</li>
                    }).collect_view())}
                </ul>
            </Suspense>
        </section>
    }
}

/// Owners created by a purchase who have not signed in: the admin issues each a
/// single-use sign-in link (until email delivery sends it), shown once.
#[component]
fn AwaitingSignIn() -> impl IntoView {
    let waiting = Resource::new(|| (), |_| awaiting_signin());
    view! {
        <section class="mb-6 overflow-x-auto rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="awaiting-title" data-testid="awaiting-signin">
            <h2 id="awaiting-title" class="mb-1 font-semibold">"Awaiting first sign-in"</h2>
            <p class="mb-3 text-sm text-slate-600">"Customers who bought a plan: send each a sign-in link. A link works once, for 72 hours."</p>
            <Suspense fallback=|| ()>
                {move || waiting.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="text-sm text-slate-500">"Nobody is waiting."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="divide-y divide-slate-100 text-sm">
                            {list.into_iter().map(|w| view! {
                                <li class="flex flex-col gap-2 py-2 md:flex-row md:items-center md:justify-between" data-testid="awaiting-item">
                                    <span><span class="font-medium">{w.email}</span>" · "{w.account_name}" · since "{when(&w.created_at)}</span>
                                    <form action=IssueSigninLink::url() method="post" data-enhance="" data-reveal="signin-link">
                                        <input type="hidden" name="user_id" value=w.user_id.to_string() />
                                        <button type="submit" data-testid="issue-link" class="rounded-md border border-slate-300 px-3 py-1.5 font-medium hover:bg-slate-100 disabled:opacity-60">"Create sign-in link"</button>
                                        <FormError class="mt-2" />
                                    </form>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error title="We couldn't load the list." /> }.into_any(),
                })}
            </Suspense>
            <div data-reveal-slot="signin-link" hidden>
                <p role="status" class="mt-3 break-all rounded-md bg-green-50 px-3 py-2 font-mono text-sm text-green-900">
                    <a href="" data-testid="signin-link" data-json=""></a>
                </p>
                <p class="mt-1 text-xs text-slate-500">"Send this link to the customer (prefix it with this site's address). It is shown once."</p>
            </div>
        </section>
    }
}

const SELECT: &str = "rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";

/// What the billing providers sent, with what Tollgate did about it. The filters are a GET
/// form (`?provider=&outcome=`) that the live region applies in place as they change.
#[component]
fn WebhookEvents() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let (provider, outcome) = query.with_untracked(|q| (q.get("provider").unwrap_or_default(), q.get("outcome").unwrap_or_default()));
    let filter = (provider.clone(), outcome.clone());
    let events = Resource::new(move || filter.clone(), |(p, o)| webhook_events(p, o));
    let option = move |value: &'static str, label: &'static str, chosen: &str| {
        let selected = value == chosen;
        view! { <option value=value selected=selected>{label}</option> }
    };
    view! {
        <section class="mb-6 overflow-x-auto rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="webhooks-title" data-testid="webhook-events">
            <h2 id="webhooks-title" class="mb-1 font-semibold">"Billing webhooks"</h2>
            <p class="mb-3 text-sm text-slate-600">"Events from Whop and Stripe with valid signatures, newest first. Forged or stale requests are only counted (tollgate_webhook_rejected_total). Raw bodies are kept for 30 days."</p>
            <form method="get" action="/admin" data-enhance="" class="mb-3 flex flex-wrap items-center gap-3 text-sm">
                <label class="flex items-center gap-2">"Provider"
                    <select name="provider" class=SELECT data-testid="filter-provider" data-autosubmit="">
                        {[("", "All"), ("whop", "Whop"), ("stripe", "Stripe")].into_iter().map(|(v, l)| option(v, l, &provider)).collect_view()}
                    </select>
                </label>
                <label class="flex items-center gap-2">"Outcome"
                    <select name="outcome" class=SELECT data-testid="filter-outcome" data-autosubmit="">
                        {[("", "All"), ("applied", "applied"), ("provisioned", "provisioned"), ("ignored", "ignored"), ("stale", "stale"), ("unmatched", "unmatched")]
                            .into_iter().map(|(v, l)| option(v, l, &outcome)).collect_view()}
                    </select>
                </label>
                <button type="submit" class="rounded-md border border-slate-300 px-3 py-1.5 font-medium hover:bg-slate-100">"Apply"</button>
            </form>
            <Suspense fallback=|| ()>
                {move || events.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="text-sm text-slate-500">"No events."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="w-full text-left text-sm" data-testid="webhook-table">
                            <thead><tr class="text-slate-500">
                                <th class="py-1 pr-3 font-medium">"Received"</th><th class="py-1 pr-3 font-medium">"Event"</th>
                                <th class="py-1 pr-3 font-medium">"Outcome"</th><th class="py-1 font-medium">"Detail"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|e| {
                                    let attach = (e.outcome == "unmatched").then(|| (e.provider.clone(), e.event_id.clone()));
                                    view! {
                                    <tr class="border-t border-slate-100 align-top" data-testid="webhook-row">
                                        <td class="py-1 pr-3 whitespace-nowrap tabular-nums">{when(&e.received_at)}</td>
                                        <td class="py-1 pr-3 break-all"><div class="font-medium">{e.provider}" · "{e.event_type}</div>
                                            <div class="font-mono text-xs text-slate-500">{e.event_id}{(e.deliveries > 1).then(|| format!(" · delivered {} times", e.deliveries))}</div></td>
                                        <td class="py-1 pr-3">{e.outcome}</td>
                                        <td class="py-1 text-slate-600">{e.detail}{e.account_id.map(|a| format!(" · {a}"))}
                                            {attach.map(|(provider, event_id)| view! {
                                                <form action=AttachEvent::url() method="post" data-enhance="" class="mt-1 flex flex-wrap gap-1" data-testid="attach-event">
                                                    <input type="hidden" name="provider" value=provider />
                                                    <input type="hidden" name="event_id" value=event_id />
                                                    <input name="account_id" required maxlength="64" placeholder="acc_…" aria-label="Account to attach to" class="w-32 rounded border border-slate-300 px-2 py-1 text-xs" />
                                                    <input name="reason" required minlength="3" maxlength="500" placeholder="why" aria-label="Reason" class="min-w-0 flex-1 rounded border border-slate-300 px-2 py-1 text-xs" />
                                                    <button type="submit" class="rounded border border-slate-300 px-2 py-1 text-xs font-medium hover:bg-slate-100">"Attach"</button>
                                                    <FormError class="w-full" />
                                                </form>
                                            })}</td>
                                    </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error title="We couldn't load the events." /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn RequestsInbox() -> impl IntoView {
    let approve = ServerAction::<ApproveRequest>::new();
    let decline = ServerAction::<DeclineRequest>::new();
    // Server HTML: approving or declining posts the form and renders the page again.
    let requests = Resource::new(|| (), |_| list_upgrade_requests());
    view! {
        <main class="mx-auto max-w-6xl px-4 py-6" data-testid="requests-inbox">
            <h1 class="mb-1 text-xl font-semibold">"Upgrade requests"</h1>
            <p class="mb-4 text-sm text-slate-600">"Pending first. Approving changes the plan at once and tells the customer on their dashboard; a decline's reason is shown to them."</p>
            <div class="mb-3 space-y-2">
                <ActionError error=action_error(approve.value()) testid="approve-error" />
                <ActionError error=action_error(decline.value()) testid="decline-error" />
            </div>
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || requests.get().map(|result| match result {
                    Ok(list) if list.is_empty() => view! { <p class="text-sm text-slate-500" data-testid="requests-empty">"No requests yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="space-y-3">
                            {list.into_iter().map(|r| view! { <RequestItem request=r approve decline /> }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error title="We couldn't load the requests." /> }.into_any(),
                })}
            </Transition>
        </main>
    }
}

#[component]
fn RequestItem(request: model::UpgradeRequestView, approve: ServerAction<ApproveRequest>, decline: ServerAction<DeclineRequest>) -> impl IntoView {
    use model::{RequestKind, RequestStatus};
    let pending = request.status == RequestStatus::Pending;
    let badge = match request.status {
        RequestStatus::Pending => "bg-amber-100 text-amber-900",
        RequestStatus::Approved => "bg-green-100 text-green-900",
        RequestStatus::Declined => "bg-slate-200 text-slate-800",
    };
    let approve_id = request.id.to_string();
    let decline_id = request.id.to_string();
    let reason_id = format!("reason-{}", request.id);
    let reason_label = reason_id.clone();
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid="request-item" data-status=request.status.as_str() data-account=request.account_name.clone()>
            <div class="flex flex-wrap items-center gap-2">
                <span class="font-semibold">{request.account_name.clone()}</span>
                <span class="text-sm text-slate-600">{format!("{} → {}", request.from_plan, request.to_plan_name)}</span>
                <span class="rounded bg-slate-100 px-1.5 py-0.5 text-xs">{if request.kind == RequestKind::Sales { "Sales" } else { "Upgrade" }}</span>
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {badge}") data-testid="request-status">{request.status.label()}</span>
                <span class="text-xs text-slate-500 md:ml-auto">{format!("{} · {} · contact {}", when(&request.created_at), request.requested_by, request.contact_email)}</span>
            </div>
            <p class="mt-2 whitespace-pre-wrap break-words text-sm" data-testid="request-justification">{request.justification.clone()}</p>
            <details class="mt-2 text-sm" open=pending>
                <summary class="cursor-pointer text-slate-600">{format!("Evidence: last {} days", request.evidence.days)}</summary>
                <ul class="mt-1 space-y-0.5" data-testid="request-evidence">
                    {request.evidence.meters.iter().map(|m| view! {
                        <li><span class="font-medium">{m.name.clone()}</span>": "{m.summary.clone()}
                            {format!(", peak day {}, active {} days", model::quota::format_number(m.peak_day), m.active_days)}
                            {m.percent_of_limit.map(|p| format!(" · {p}% of limit"))}</li>
                    }).collect_view()}
                </ul>
                <ul class="mt-1 list-disc pl-5 text-amber-900">
                    {request.evidence.pain_points.iter().map(|p| view! { <li>{p.clone()}</li> }).collect_view()}
                </ul>
            </details>
            {request.decline_reason.clone().map(|reason| view! { <p class="mt-2 text-sm text-slate-700">"Declined: "{reason}</p> })}
            {pending.then(move || view! {
                <div class="mt-3 flex flex-col gap-2 md:flex-row md:items-end">
                    <ActionForm action=approve>
                        <input type="hidden" name="id" value=approve_id />
                        <button type="submit" data-testid="approve"
                            class="rounded-md bg-green-700 px-4 py-2 text-sm font-semibold text-white hover:bg-green-800 focus:outline-none focus:ring-2 focus:ring-green-600 focus:ring-offset-2">"Approve"</button>
                    </ActionForm>
                    <ActionForm action=decline attr:class="flex flex-1 flex-col gap-2 md:flex-row md:items-end">
                        <input type="hidden" name="id" value=decline_id />
                        <label class="flex flex-1 flex-col text-sm" for=reason_label>"Reason for declining"
                            <input id=reason_id name="reason" type="text" maxlength="1000" data-testid="decline-reason"
                                class="rounded-md border border-slate-300 px-3 py-2" placeholder="Shown to the customer" />
                        </label>
                        <button type="submit" data-testid="decline"
                            class="rounded-md border border-slate-300 px-4 py-2 text-sm font-medium hover:bg-slate-100 focus:outline-none focus:ring-2 focus:ring-indigo-500">"Decline"</button>
                    </ActionForm>
                </div>
            })}
        </li>
    }
}
