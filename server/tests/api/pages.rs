//! The page table (`app::pages::PAGES`) is the only list of pages: the router serves
//! exactly its paths, and the session guard applies each page's access rule over HTTP.

use crate::helpers::{spawn_app, ADMIN, OWNER};
use app::pages::{Access, PAGES};
use reqwest::header::LOCATION;
use std::collections::BTreeSet;

#[tokio::test]
async fn the_router_serves_exactly_the_pages_of_the_table() {
    let routed: BTreeSet<String> = leptos_axum::generate_route_list(app::App).iter().map(|r| r.path().to_owned()).collect();
    let table: BTreeSet<String> = PAGES.iter().map(|p| p.path.to_owned()).collect();
    assert_eq!(routed, table, "a page is routed but not in app::pages::PAGES, or the other way round");
}

#[tokio::test]
async fn every_page_applies_its_access_rule() {
    let app = spawn_app().await;
    app.seed_demo().await;
    let owner = app.sign_in(OWNER.0, OWNER.1).await;
    let admin = app.sign_in(ADMIN.0, ADMIN.1).await;
    for page in PAGES {
        let path = page.path;
        let signed_out = app.get(path).await;
        let staff = app.get_as(&admin, path).await;
        let customer = app.get_as(&owner, path).await;
        match page.access {
            Access::Public => {
                assert_ne!(signed_out.headers().get(LOCATION).map(|l| l.to_str().unwrap_or_default().starts_with("/signin")), Some(true), "{path} is public");
                assert!(signed_out.status().is_success() || signed_out.status().is_redirection(), "{path}: {}", signed_out.status());
            }
            Access::SignedIn | Access::Customer | Access::Admin => {
                assert_eq!(signed_out.status(), 303, "{path} needs a signed-in user");
                assert_eq!(signed_out.headers()[LOCATION], format!("/signin?next={path}").as_str(), "{path}");
            }
        }
        match page.access {
            Access::Customer => {
                assert_eq!(staff.status(), 303, "{path}: staff without an account have no customer pages");
                assert_eq!(staff.headers()[LOCATION], "/admin", "{path}");
                assert_eq!(customer.status(), 200, "{path} is a customer's page");
            }
            Access::SignedIn | Access::Admin => {
                assert_eq!(staff.status(), 200, "{path}: an admin may open it");
            }
            Access::Public => {}
        }
    }
}
