use leptos::prelude::*;
use model::quota::format_number;
use model::DayCount;

/// The 7-day API-calls chart. The numbers are in the server-rendered HTML as a table, so
/// they are there before the WASM loads (and without it). The chart itself is an ECharts
/// option built with charming on the server (`option_json`); the browser only hands it to
/// ECharts, which keeps charming's serialiser out of the WASM bundle.
#[component]
pub fn UsageChart(series: Vec<DayCount>, option_json: String) -> impl IntoView {
    let total: f64 = series.iter().map(|d| d.value).sum();
    view! {
        <p class="text-sm text-slate-500" data-testid="chart-total">
            {format!("{} calls in 7 days", format_number(total))}
        </p>
        <ChartCanvas id="api-calls-chart".to_owned() testid="chart".to_owned() class="mt-2 h-60 w-full min-w-0".to_owned()
             label="Bar chart of API calls per day for the last 7 days; the numbers are in the table below.".to_owned() option_json />
        <details class="mt-2 text-sm">
            <summary class="cursor-pointer text-slate-600 hover:text-slate-900">"Show the numbers"</summary>
            <table class="mt-2 w-full text-left" data-testid="chart-table">
                <thead><tr><th class="py-1 font-medium text-slate-500">"Day (UTC)"</th><th class="py-1 text-right font-medium text-slate-500">"API calls"</th></tr></thead>
                <tbody>
                    {series.into_iter().map(|d| view! {
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

/// Any daily series as a chart, with its numbers in a table for screen readers and
/// for when ECharts is not there.
#[component]
pub fn SeriesChart(series: Vec<DayCount>, option_json: String, #[prop(into)] label: String, #[prop(into)] id: String) -> impl IntoView {
    view! {
        <ChartCanvas id testid="series-chart".to_owned() class="h-48 w-full min-w-0".to_owned()
             label=format!("Bar chart of {label} per day; the numbers are in the table below.") option_json />
        <details class="mt-1 text-sm">
            <summary class="cursor-pointer text-slate-600 hover:text-slate-900">"Show the numbers"</summary>
            <table class="mt-2 w-full text-left">
                <tbody>
                    {series.into_iter().rev().map(|d| view! {
                        <tr class="border-t border-slate-100">
                            <td class="py-0.5">{d.day.format("%a %b %-d").to_string()}</td>
                            <td class="py-0.5 text-right tabular-nums">{format_number(d.value)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}

/// The chart's box, an island: the browser hands `option_json` to ECharts once the box
/// is in the page. Everything around it (title, totals, the table) is server HTML.
#[island]
pub fn ChartCanvas(id: String, testid: String, class: String, label: String, option_json: String) -> impl IntoView {
    let chart_ref = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(element) = chart_ref.get() {
            draw(&element, &option_json);
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = option_json;
    view! { <div node_ref=chart_ref id=id data-testid=testid class=class role="img" aria-label=label></div> }
}

/// The ECharts option for a daily series, built with charming. Server only.
#[cfg(feature = "ssr")]
pub fn daily_bar_option(series: &[DayCount], name: &str) -> String {
    use charming::component::{Axis, Grid};
    use charming::element::{AxisType, Tooltip, Trigger};
    use charming::series::Bar;
    use charming::Chart;

    let labels: Vec<String> = series.iter().map(|d| d.day.format("%a %-d").to_string()).collect();
    let values: Vec<f64> = series.iter().map(|d| d.value).collect();
    let chart = Chart::new()
        .grid(Grid::new().left(48).right(8).top(16).bottom(28))
        .tooltip(Tooltip::new().trigger(Trigger::Axis))
        .x_axis(Axis::new().type_(AxisType::Category).data(labels))
        .y_axis(Axis::new().type_(AxisType::Value))
        .series(Bar::new().name(name).data(values).bar_width("55%"));
    serde_json::to_string(&chart).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(feature = "hydrate")]
mod echarts {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        pub type Instance;
        #[wasm_bindgen(js_namespace = echarts, js_name = init)]
        pub fn init(element: &web_sys::HtmlElement) -> Instance;
        #[wasm_bindgen(method, js_name = setOption)]
        pub fn set_option(this: &Instance, option: &JsValue);
        #[wasm_bindgen(method)]
        pub fn resize(this: &Instance);
    }
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The window `resize` listener of each chart on the page (by element id), replaced when
    /// it is redrawn.
    static ON_RESIZE: std::cell::RefCell<std::collections::HashMap<String, wasm_bindgen::closure::Closure<dyn FnMut()>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Keeps the chart as wide as its box when the window changes size (a canvas does not
/// reflow by itself, and would otherwise make the page scroll sideways).
#[cfg(feature = "hydrate")]
fn follow_window_size(window: &web_sys::Window, key: String, instance: echarts::Instance) {
    use wasm_bindgen::JsCast;
    let listener = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || instance.resize());
    ON_RESIZE.with(|slots| {
        let mut slots = slots.borrow_mut();
        if let Some(old) = slots.remove(&key) {
            let _ = window.remove_event_listener_with_callback("resize", old.as_ref().unchecked_ref());
        }
        let _ = window.add_event_listener_with_callback("resize", listener.as_ref().unchecked_ref());
        slots.insert(key, listener);
    });
}

#[cfg(feature = "hydrate")]
fn draw(element: &web_sys::HtmlElement, option_json: &str) {
    let Some(window) = web_sys::window() else { return };
    // Without ECharts (blocked or failed to load) the table still carries the numbers.
    if !js_sys::Reflect::has(&window, &wasm_bindgen::JsValue::from_str("echarts")).unwrap_or(false) {
        return;
    }
    match js_sys::JSON::parse(option_json) {
        Ok(option) => {
            let instance = echarts::init(element);
            instance.set_option(&option);
            follow_window_size(&window, element.id(), instance);
        }
        Err(_) => leptos::logging::warn!("chart option is not JSON; the table below has the numbers"),
    }
}
