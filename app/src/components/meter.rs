use leptos::prelude::*;
use model::{QuotaLevel, QuotaStatus};

/// One quota as a progress bar, with its numbers and level written out so colour is
/// never the only signal.
#[component]
pub fn QuotaMeter(quota: QuotaStatus) -> impl IntoView {
    let bar_colour = match quota.level {
        QuotaLevel::Ok => "bg-green-500",
        QuotaLevel::Warning => "bg-yellow-400",
        QuotaLevel::Critical | QuotaLevel::Exceeded => "bg-red-500",
    };
    let level_colour = match quota.level {
        QuotaLevel::Ok => "text-green-700",
        QuotaLevel::Warning => "text-yellow-800",
        QuotaLevel::Critical | QuotaLevel::Exceeded => "text-red-700",
    };
    let shown = quota.percent.clamp(0.0, 100.0);
    let text = quota.usage_text();
    let period = quota.period.per_label();
    let value_text = format!("{text} ({}%, {})", quota.percent, quota.level.label());
    let note = quota.note();
    let refused = quota.hard && quota.limit_reached();
    view! {
        <div data-testid=format!("meter-{}", quota.meter) data-level=quota.level.as_str()>
            <div class="flex flex-wrap items-baseline justify-between gap-x-2 text-sm">
                <span class="font-medium" id=format!("meter-label-{}", quota.meter)>
                    {quota.name.clone()}
                    <span class="font-normal text-slate-500">{if period.is_empty() { String::new() } else { format!(" {period}") }}</span>
                </span>
                <span class="tabular-nums text-slate-700" data-testid="meter-text">{text}</span>
            </div>
            <div
                role="progressbar"
                aria-labelledby=format!("meter-label-{}", quota.meter)
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=shown.to_string()
                aria-valuetext=value_text
                class="mt-1 h-2.5 w-full overflow-hidden rounded-full bg-slate-200"
            >
                <div class=format!("h-full rounded-full {bar_colour}") style=format!("width: {shown}%")></div>
            </div>
            <div class="mt-1 flex flex-wrap justify-between gap-x-2 text-xs">
                <span class=format!("font-medium {level_colour}") data-testid="meter-level">{quota.level.label()}</span>
                <span class="tabular-nums text-slate-500" data-testid="meter-percent">{format!("{}%", quota.percent)}</span>
            </div>
            {note.map(|note| {
                let colour = if refused { "text-red-700 font-medium" } else { "text-amber-800" };
                view! { <p class=format!("mt-1 text-xs {colour}") data-testid="meter-note">{note}</p> }
            })}
        </div>
    }
}
