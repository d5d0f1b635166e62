//! The audit log as a hash chain, with the real binary and the real SQLite file: the
//! database refuses to change or delete an entry; `tollgate audit verify` passes on an
//! untouched log and names the entry when someone with the file edits one or removes one;
//! entries written before the chain existed are sealed onto it.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::str::FromStr;

mod support;
use support::tollgate;

fn run(database: &str, args: &[&str]) -> std::process::Output {
    tollgate().args(args).arg("--database").arg(database).output().expect("run tollgate")
}

fn verify(database: &str) -> (bool, String) {
    let output = run(database, &["audit", "verify"]);
    (output.status.success(), format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

async fn connect(database: &str) -> sqlx::SqliteConnection {
    SqliteConnectOptions::from_str(database).expect("url").connect().await.expect("open the file")
}

/// The audited actions, oldest first: (id, action).
async fn entries(conn: &mut sqlx::SqliteConnection) -> Vec<(String, String)> {
    sqlx::query_as("SELECT id, action FROM audit_log ORDER BY rowid").fetch_all(conn).await.expect("entries")
}

#[tokio::test]
async fn the_chain_proves_the_log_untouched_and_names_what_was_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = format!("sqlite://{}", dir.path().join("audit.db").display());
    for args in [
        &["account", "create", "--id", "acc_one", "--name", "One", "--plan", "pro"][..],
        &["account", "create", "--id", "acc_two", "--name", "Two", "--plan", "free"],
        &["key", "create", "--account", "acc_one", "--name", "first"],
        &["key", "create", "--service", "--name", "ops"],
        &["key", "create", "--account", "acc_two", "--name", "second"],
        &["key", "create", "--account", "acc_two", "--name", "third"],
        &["key", "create", "--account", "acc_one", "--name", "fourth"],
    ] {
        assert!(run(&database, args).status.success(), "{args:?}");
    }
    let (ok, said) = verify(&database);
    assert!(ok, "{said}");
    let mut conn = connect(&database).await;
    let logged = entries(&mut conn).await;
    assert!(logged.len() >= 5, "{logged:?}");
    assert!(said.contains(&format!("{} entries", logged.len())), "{said}");

    // The database itself refuses to change or remove an entry.
    let changed = sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE id = $1").bind(&logged[1].0).execute(&mut conn).await;
    assert!(changed.is_err_and(|e| e.to_string().contains("append-only")));
    let removed = sqlx::query("DELETE FROM audit_log WHERE id = $1").bind(&logged[1].0).execute(&mut conn).await;
    assert!(removed.is_err_and(|e| e.to_string().contains("append-only")));

    // An entry written before the chain (no hash) is sealed when the engine next opens
    // the file, in its place.
    sqlx::query("INSERT INTO audit_log (id, at, actor, action) VALUES ('aud_legacy', '2026-12-01 10:00:00+00:00', 'cli', 'legacy.entry')")
        .execute(&mut conn)
        .await
        .expect("an unsealed entry");
    let (ok, said) = verify(&database);
    assert!(ok, "sealed on open: {said}");

    // Someone with the file drops the guard and edits an entry: verify names it.
    let original: Option<String> = sqlx::query_scalar("SELECT after FROM audit_log WHERE id = $1").bind(&logged[2].0).fetch_one(&mut conn).await.expect("read");
    sqlx::query("DROP TRIGGER audit_log_no_update").execute(&mut conn).await.expect("drop the guard");
    sqlx::query("UPDATE audit_log SET after = 'starter' WHERE id = $1").bind(&logged[2].0).execute(&mut conn).await.expect("edit");
    let (ok, said) = verify(&database);
    assert!(!ok, "an edited entry must fail: {said}");
    assert!(said.contains(&logged[2].0) && said.contains("altered"), "{said}");

    // Put back, it passes again; a removed entry is named by the one after it.
    sqlx::query("UPDATE audit_log SET after = $2 WHERE id = $1").bind(&logged[2].0).bind(original).execute(&mut conn).await.expect("restore");
    let (ok, said) = verify(&database);
    assert!(ok, "{said}");
    sqlx::query("DROP TRIGGER audit_log_no_delete").execute(&mut conn).await.expect("drop the guard");
    sqlx::query("DELETE FROM audit_log WHERE id = $1").bind(&logged[3].0).execute(&mut conn).await.expect("remove");
    let (ok, said) = verify(&database);
    assert!(!ok, "a removed entry must fail: {said}");
    assert!(said.contains(&logged[4].0) && said.contains("removed or inserted"), "{said}");
    conn.close().await.expect("close");
}
