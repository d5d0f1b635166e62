use leptos::prelude::*;
use model::quota::format_number;
use model::DayCount;

const CHART_ID: &str = "api-calls-chart";

/// The 7-day API-calls chart. The numbers are in the server-rendered HTML as a table, so
/// they are there before the WASM loads (and without it); the browser then draws the
/// chart with ECharts.
#[component]
pub fn UsageChart(series: Vec<DayCount>) -> impl IntoView {
    let total: f64 = series.iter().map(|d| d.value).sum();
    let rows = series.clone();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| draw(&series));
    #[cfg(not(feature = "hydrate"))]
    let _ = series;
    view! {
        <p class="text-sm text-slate-500" data-testid="chart-total">
            {format!("{} calls in 7 days", format_number(total))}
        </p>
        <div id=CHART_ID data-testid="chart" class="mt-2 h-60 w-full min-w-0" role="img" aria-label="Bar chart of API calls per day for the last 7 days; the numbers are in the table below."></div>
        <details class="mt-2 text-sm">
            <summary class="cursor-pointer text-slate-600 hover:text-slate-900">"Show the numbers"</summary>
            <table class="mt-2 w-full text-left" data-testid="chart-table">
                <thead><tr><th class="py-1 font-medium text-slate-500">"Day (UTC)"</th><th class="py-1 text-right font-medium text-slate-500">"API calls"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|d| view! {
                        <tr class="border-t border-slate-100">
                            <td class="py-1" data-day=d.day.to_string()>{d.day.format("%a %b %-d").to_string()}</td>
                            <td class="py-1 text-right tabular-nums" data-value=d.value.to_string()>{format_number(d.value)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}

#[cfg(feature = "hydrate")]
fn draw(series: &[DayCount]) {
    use charming::component::{Axis, Grid};
    use charming::element::{AxisType, Tooltip, Trigger};
    use charming::series::Bar;
    use charming::{Chart, WasmRenderer};

    let Some(window) = web_sys::window() else { return };
    // Without ECharts (blocked or failed to load) the table still carries the numbers.
    if !js_sys::Reflect::has(&window, &wasm_bindgen::JsValue::from_str("echarts")).unwrap_or(false) {
        return;
    }
    let Some(element) = window.document().and_then(|d| d.get_element_by_id(CHART_ID)) else { return };
    let width = u32::try_from(element.client_width()).unwrap_or(0).max(200);
    let height = u32::try_from(element.client_height()).unwrap_or(0).max(160);

    let labels: Vec<String> = series.iter().map(|d| d.day.format("%a %-d").to_string()).collect();
    let values: Vec<f64> = series.iter().map(|d| d.value).collect();
    let chart = Chart::new()
        .grid(Grid::new().left(48).right(8).top(16).bottom(28))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
        .y_axis(Axis::new().type_(AxisType::Value))
        .series(Bar::new().name("API calls").data(values).bar_width("55%"));
    if let Err(err) = WasmRenderer::new(width, height).render(CHART_ID, &chart) {
        leptos::logging::warn!("chart not drawn: {err:?}");
    }
}
