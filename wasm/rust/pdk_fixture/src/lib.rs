//! Exports calling the host the Rust PDK way: `#[host_fn]` imports from `extism:host/user`, vars,
//! and `http::request` (Extism's standard `http_request`).
use extism_pdk::*;
use serde::Deserialize;

#[host_fn]
extern "ExtismHost" {
    fn transform(text: String) -> String;
    fn add_i64(a: i64, b: i64) -> i64;
}

/// The input through the host's `transform`.
#[plugin_fn]
pub fn transform_input(input: String) -> FnResult<String> {
    Ok(unsafe { transform(input)? })
}

/// `add_i64(40, 2)`, and the var `from_host` a host function may have set.
#[plugin_fn]
pub fn add_and_var(_: ()) -> FnResult<String> {
    let sum = unsafe { add_i64(40, 2)? };
    let var: Option<String> = var::get("from_host")?;
    Ok(format!("{sum} {}", var.unwrap_or_else(|| "(unset)".into())))
}

#[derive(Deserialize)]
struct Fetch {
    url: String,
    method: Option<String>,
    body: Option<String>,
}

/// `{"url","method","body"}` → `"<status> <body>"`, through `http::request`.
#[plugin_fn]
pub fn fetch(Json(fetch): Json<Fetch>) -> FnResult<String> {
    let request = HttpRequest::new(&fetch.url)
        .with_method(fetch.method.as_deref().unwrap_or("GET"))
        .with_header("x-plugin", "rust-pdk");
    let response = http::request::<String>(&request, fetch.body)?;
    Ok(format!("{} {}", response.status_code(), String::from_utf8_lossy(&response.body())))
}
