//! Users, sessions and API keys against a real SQLite file per test.

use chrono::{DateTime, Duration, TimeZone, Utc};
use engine::auth::{KeyName, KeyRejection, SessionToken};
use engine::{db::Db, AccountId, Catalog, Engine, EngineConfig, EngineError};
use model::{KeyKind, Role};

struct T {
    engine: Engine,
    _dir: tempfile::TempDir,
}

async fn engine() -> T {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("a.db").display())).await.expect("db");
    T { engine: Engine::new(db, Catalog::demo().expect("catalog"), EngineConfig::default()), _dir: dir }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).single().expect("time")
}

#[tokio::test]
async fn sign_up_creates_a_free_account_with_its_owner_signed_in() {
    let t = engine().await;
    let (token, viewer) = t.engine.sign_up("New@Example.com", "long enough pw", "New Co", None, t0()).await.expect("sign up");
    assert_eq!(viewer.email, "new@example.com");
    assert_eq!(viewer.role, Role::Owner);
    assert_eq!(viewer.account_name.as_deref(), Some("New Co"));
    let overview = t.engine.overview(viewer.account().expect("account"), t0()).await.expect("overview");
    assert_eq!(overview.plan.tier, "free");
    assert_eq!(t.engine.session(&token, t0()).await.expect("lookup"), Some(viewer));

    let again = t.engine.sign_up("new@example.com", "long enough pw", "Other", None, t0()).await;
    assert!(matches!(again, Err(EngineError::Conflict { field: "email", .. })));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer_and_are_throttled() {
    let t = engine().await;
    t.engine.sign_up("ann@example.com", "right password", "Ann Co", None, t0()).await.expect("sign up");
    let ip = Some([127, 0, 0, 1].into());
    let wrong = t.engine.sign_in("ann@example.com", "wrong password", ip, t0()).await.expect_err("wrong");
    let unknown = t.engine.sign_in("nobody@example.com", "wrong password", ip, t0()).await.expect_err("unknown");
    assert_eq!(wrong.to_string(), unknown.to_string());
    // Five failures for ann so far would be allowed; the sixth is refused, and so is every
    // attempt after it, even with the right password.
    for _ in 0..4 {
        let failure = t.engine.sign_in("ann@example.com", "wrong password", ip, t0()).await;
        assert!(matches!(failure, Err(EngineError::BadCredentials)));
    }
    let sixth = t.engine.sign_in("ann@example.com", "wrong password", ip, t0()).await.expect_err("sixth");
    assert!(matches!(sixth, EngineError::Throttled { .. }), "{sixth}");
    let throttled = t.engine.sign_in("ann@example.com", "right password", ip, t0()).await.expect_err("throttled");
    assert!(matches!(throttled, EngineError::Throttled { retry_after_secs } if retry_after_secs > 0), "{throttled}");
    // Another address may still sign in as someone else.
    t.engine.sign_up("bob@example.com", "bobs password", "Bob Co", None, t0()).await.expect("bob");
    assert!(t.engine.sign_in("bob@example.com", "bobs password", Some([10, 1, 1, 1].into()), t0()).await.is_ok());
}

#[tokio::test]
async fn sessions_end_when_idle_at_their_absolute_expiry_and_at_sign_out() {
    let t = engine().await;
    let (token, viewer) = t.engine.sign_up("ann@example.com", "right password", "Ann Co", None, t0()).await.expect("sign up");
    let config = t.engine.session_config();
    let idle_check = t0() + config.idle - Duration::minutes(1);
    assert!(t.engine.session(&token, idle_check).await.expect("lookup").is_some(), "used just in time: touched");
    assert!(t.engine.session(&token, idle_check + config.idle + Duration::seconds(1)).await.expect("lookup").is_none());

    let (token, _) = t.engine.sign_in("ann@example.com", "right password", None, t0()).await.expect("sign in");
    let mut now = t0();
    while now < t0() + config.absolute - config.idle {
        now += config.idle - Duration::minutes(5);
        assert!(t.engine.session(&token, now).await.expect("lookup").is_some());
    }
    assert!(t.engine.session(&token, t0() + config.absolute).await.expect("lookup").is_none(), "absolute expiry");

    let (token, viewer2) = t.engine.sign_in("ann@example.com", "right password", None, t0()).await.expect("sign in");
    t.engine.end_session(&viewer2).await.expect("sign out");
    assert!(t.engine.session(&token, t0()).await.expect("lookup").is_none());
    assert_eq!(viewer.email, viewer2.email);
}

#[tokio::test]
async fn a_password_change_replaces_the_session_and_can_end_the_others() {
    let t = engine().await;
    let (a, viewer) = t.engine.sign_up("ann@example.com", "first password", "Ann Co", None, t0()).await.expect("sign up");
    let (b, _) = t.engine.sign_in("ann@example.com", "first password", None, t0()).await.expect("second device");
    let bad = t.engine.change_password(&viewer, "not it", "second password", false, t0()).await;
    assert!(bad.expect_err("wrong current").to_string().contains("current password"));

    let c = t.engine.change_password(&viewer, "first password", "second password", false, t0()).await.expect("change");
    assert_ne!(c, a);
    assert!(t.engine.session(&a, t0()).await.expect("a").is_none(), "this session's old id ends");
    assert!(t.engine.session(&b, t0()).await.expect("b").is_some(), "others kept");
    let viewer_c = t.engine.session(&c, t0()).await.expect("c").expect("live");
    let d = t.engine.change_password(&viewer_c, "second password", "third password", true, t0()).await.expect("change");
    assert!(t.engine.session(&b, t0()).await.expect("b").is_none(), "others ended");
    assert!(t.engine.session(&d, t0()).await.expect("d").is_some());
    assert!(t.engine.sign_in("ann@example.com", "third password", None, t0()).await.is_ok());
    assert!(SessionToken::from_cookie(d.expose()).is_some());
}

async fn two_accounts(t: &T) -> (AccountId, AccountId) {
    let (_, a) = t.engine.sign_up("a@example.com", "password a", "A", None, t0()).await.expect("a");
    let (_, b) = t.engine.sign_up("b@example.com", "password b", "B", None, t0()).await.expect("b");
    (a.account.expect("a"), b.account.expect("b"))
}

#[tokio::test]
async fn only_the_hash_of_a_key_is_stored_and_revocation_is_immediate() {
    let t = engine().await;
    let (a, _) = two_accounts(&t).await;
    let name = KeyName::parse("ci").expect("name");
    let created = t.engine.create_key("a@example.com", Some(&a), KeyKind::Live, &name, None, t0()).await.expect("create");
    assert!(created.plaintext.starts_with("tg_live_") && created.plaintext.len() == 40);

    let rows: Vec<(String, String, String, String)> =
        sqlx::query_as("SELECT id, key_hash, prefix, name FROM api_keys").fetch_all(t.engine.db().pool()).await.expect("rows");
    for (id, hash, prefix, name) in &rows {
        for column in [id, hash, prefix, name] {
            assert!(!column.contains(&created.plaintext[8..]), "a column holds the key's secret part");
        }
        assert_eq!(hash.len(), 64);
    }

    let principal = t.engine.authenticate_key(&created.plaintext, t0()).await.expect("valid");
    assert_eq!(principal.account.as_ref(), Some(&a));
    assert_eq!(principal.kind, KeyKind::Live);
    t.engine.revoke_key("a@example.com", &a, &created.key.id, t0()).await.expect("revoke");
    assert_eq!(t.engine.authenticate_key(&created.plaintext, t0()).await, Err(KeyRejection::Revoked));
    let mut forged = created.plaintext.clone();
    forged.replace_range(39.., if forged.ends_with('A') { "B" } else { "A" });
    assert_eq!(t.engine.authenticate_key(&forged, t0()).await, Err(KeyRejection::Unknown));
    assert_eq!(t.engine.authenticate_key("Bearer nonsense", t0()).await, Err(KeyRejection::Malformed));
}

#[tokio::test]
async fn rotation_keeps_the_old_key_for_its_grace_period_only() {
    let t = engine().await;
    let (a, _) = two_accounts(&t).await;
    let old = t.engine.create_key("a", Some(&a), KeyKind::Test, &KeyName::parse("svc").expect("n"), None, t0()).await.expect("old");
    t.engine.authenticate_key(&old.plaintext, t0()).await.expect("cached before rotation");
    let new = t.engine.rotate_key("a", &a, &old.key.id, Duration::hours(1), t0()).await.expect("rotate");
    assert_eq!(new.key.name, "svc");
    assert_eq!(new.key.kind, KeyKind::Test);
    assert!(t.engine.authenticate_key(&old.plaintext, t0() + Duration::minutes(59)).await.is_ok());
    assert_eq!(t.engine.authenticate_key(&old.plaintext, t0() + Duration::minutes(61)).await, Err(KeyRejection::Expired));
    assert!(t.engine.authenticate_key(&new.plaintext, t0() + Duration::days(3)).await.is_ok());
}

#[tokio::test]
async fn keys_of_another_account_are_not_found_and_never_listed() {
    let t = engine().await;
    let (a, b) = two_accounts(&t).await;
    let name = KeyName::parse("b's key").expect("name");
    let b_key = t.engine.create_key("b", Some(&b), KeyKind::Live, &name, None, t0()).await.expect("b key");
    assert!(t.engine.list_keys(&a).await.expect("list").is_empty());
    let rename = t.engine.rename_key("a", &a, &b_key.key.id, &KeyName::parse("mine").expect("n")).await;
    assert!(matches!(rename, Err(EngineError::NotFound("key"))));
    assert!(matches!(t.engine.revoke_key("a", &a, &b_key.key.id, t0()).await, Err(EngineError::NotFound("key"))));
    assert!(matches!(t.engine.rotate_key("a", &a, &b_key.key.id, Duration::zero(), t0()).await, Err(EngineError::NotFound("key"))));
    assert!(t.engine.authenticate_key(&b_key.plaintext, t0()).await.is_ok(), "b's key untouched");
    assert_eq!(t.engine.list_keys(&b).await.expect("list")[0].name, "b's key");
}

#[tokio::test]
async fn an_account_has_at_most_fifty_active_keys() {
    let t = engine().await;
    let (a, _) = two_accounts(&t).await;
    let name = KeyName::parse("k").expect("name");
    let mut first = None;
    for _ in 0..50 {
        let k = t.engine.create_key("a", Some(&a), KeyKind::Live, &name, None, t0()).await.expect("within limit");
        first.get_or_insert(k.key.id);
    }
    let over = t.engine.create_key("a", Some(&a), KeyKind::Live, &name, None, t0()).await;
    assert!(matches!(over, Err(EngineError::LimitReached(_))));
    t.engine.revoke_key("a", &a, &first.expect("first"), t0()).await.expect("revoke");
    assert!(t.engine.create_key("a", Some(&a), KeyKind::Live, &name, None, t0()).await.is_ok());
}

#[tokio::test]
async fn service_keys_belong_to_no_account() {
    let t = engine().await;
    let name = KeyName::parse("backend").expect("name");
    let svc = t.engine.create_key("cli", None, KeyKind::Service, &name, None, t0()).await.expect("service");
    assert!(svc.plaintext.starts_with("tg_svc_"));
    let principal = t.engine.authenticate_key(&svc.plaintext, t0()).await.expect("valid");
    assert_eq!(principal.account, None);
    assert!(t.engine.create_key("cli", None, KeyKind::Live, &name, None, t0()).await.is_err());
    assert_eq!(t.engine.list_service_keys().await.expect("list").len(), 1);
}

#[tokio::test]
async fn pruning_removes_only_expired_sessions() {
    let t = engine().await;
    let (old, _) = t.engine.sign_up("old@example.com", "password one", "Old", None, t0()).await.expect("old");
    let later = t0() + t.engine.session_config().idle + Duration::minutes(1);
    let (fresh, _) = t.engine.sign_in("old@example.com", "password one", None, later).await.expect("fresh");
    assert_eq!(t.engine.prune_sessions(later).await.expect("prune"), 1);
    assert!(t.engine.session(&fresh, later).await.expect("fresh").is_some());
    assert!(t.engine.session(&old, later).await.expect("old").is_none());
    assert_eq!(t.engine.prune_sessions(later).await.expect("again"), 0);
}

#[tokio::test]
async fn a_revocation_made_behind_the_engines_back_takes_effect_within_the_cache_ttl() {
    let t = engine().await;
    let (_, viewer) = t.engine.sign_up("ann@example.com", "right password", "Ann Co", None, t0()).await.expect("sign up");
    let account = viewer.account.expect("account");
    let name = KeyName::parse("ci").expect("name");
    let created = t.engine.create_key("ann", Some(&account), KeyKind::Live, &name, None, t0()).await.expect("key");
    t.engine.authenticate_key(&created.plaintext, t0()).await.expect("valid and now cached");
    // Another instance, or an operator with SQL, revokes the key; this engine is not told.
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
        .bind(t0())
        .bind(created.key.id.as_str())
        .execute(t.engine.db().pool())
        .await
        .expect("revoke in the database");
    let ttl = engine::auth::keys::KEY_CACHE_TTL_SECS;
    let soon = t0() + Duration::seconds(ttl - 1);
    assert!(t.engine.authenticate_key(&created.plaintext, soon).await.is_ok(), "served from memory within the TTL");
    let later = t0() + Duration::seconds(ttl);
    assert_eq!(t.engine.authenticate_key(&created.plaintext, later).await, Err(KeyRejection::Revoked), "read again after the TTL");
}
