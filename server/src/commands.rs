//! The operator subcommands: accounts, users and keys.

use crate::config::{AccountCommand, AuditCommand, KeyCommand, UserCommand};
use crate::open_engine;
use anyhow::Context;
use engine::auth::{Email, KeyName, Password};
use engine::{AccountId, EngineConfig};
use model::{KeyKind, Role};

/// `tollgate account …`
pub async fn account(command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create { store, name, plan, id, seats } => {
            let engine = open_engine(&store, EngineConfig::default()).await?;
            let id = id.as_deref().map(AccountId::parse).transpose()?.unwrap_or_else(engine::ids::new_account_id);
            let new = engine::accounts::NewAccount {
                id: id.clone(),
                name,
                plan_id: plan,
                status: model::LicenseStatus::Active,
                seats,
                starts_at: engine.now(),
                expires_at: None,
            };
            engine.create_account(&new).await.context("cannot add the account")?;
            println!("{id}");
            Ok(())
        }
        AccountCommand::List { store, json } => {
            let engine = open_engine(&store, EngineConfig::default()).await?;
            let accounts = engine.list_accounts().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&accounts)?);
            } else {
                println!("{:<36} {:<28} {:<12} STATUS", "ID", "NAME", "PLAN");
                for a in accounts {
                    println!("{:<36} {:<28} {:<12} {}", a.id, a.name, a.plan, a.status.as_str());
                }
            }
            Ok(())
        }
    }
}

/// `tollgate user …`
pub async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { store, email, account, role, password } => {
            let engine = open_engine(&store, EngineConfig::default()).await?;
            let email = Email::parse(&email)?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let account = account.as_deref().map(AccountId::parse).transpose()?;
            let (password, generated) = match password {
                Some(p) => (p.expose().to_owned(), false),
                None => (engine::auth::generate_password(), true),
            };
            let password = Password::parse(&password)?;
            engine
                .create_user(&email, &password, role, account.as_ref())
                .await
                .context("cannot add the user")?;
            println!("Added {} ({}).", email, role.as_str());
            if generated {
                println!("Password (shown once): {}", password.expose_for_cli());
            }
            Ok(())
        }
    }
}

/// `tollgate key …`
/// `tollgate audit …`.
pub async fn audit(command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { store } => {
            let engine = open_engine(&store, EngineConfig::default()).await?;
            let check = engine.verify_audit().await?;
            match check.broken {
                None => {
                    println!("The audit log is whole: {} entries, each sealed onto the one before it.", check.entries);
                    Ok(())
                }
                Some((_, problem)) => {
                    eprintln!("The audit log is broken at {problem}");
                    std::process::exit(1);
                }
            }
        }
    }
}

pub async fn key(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Create { store, service, account, name, environment } => {
            let engine = open_engine(&store, EngineConfig::default()).await?;
            let name = KeyName::parse(&name)?;
            let (account, kind) = if service {
                (None, KeyKind::Service)
            } else {
                let Some(kind) = KeyKind::customer_environment(&environment) else {
                    anyhow::bail!("--environment must be live or test, not {environment}");
                };
                (account.as_deref().map(AccountId::parse).transpose()?, kind)
            };
            if let Some(id) = &account {
                if !engine.list_accounts().await?.iter().any(|a| &a.id == id) {
                    anyhow::bail!("no account {id}; `tollgate account list` shows them");
                }
            }
            let created = engine.create_key("cli", account.as_ref(), kind, &name, None, engine.now()).await?;
            println!("{}", created.plaintext);
            eprintln!("Created {} key {} ({}). Store it now: it is shown only this once.", kind.tag(), created.key.id, created.key.name);
            Ok(())
        }
        KeyCommand::List { store } => {
            let engine = open_engine(&store, EngineConfig::default()).await?;
            for key in engine.list_service_keys().await? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                println!("{}\t{}…\t{}\t{}", key.id, key.prefix, state, printable(&key.name));
            }
            Ok(())
        }
        KeyCommand::Revoke { store, id } => {
            let engine = open_engine(&store, EngineConfig::default()).await?;
            let key = engine.revoke_service_key("cli", &engine::KeyId::parse(&id)?).await?;
            eprintln!("Revoked service key {} ({}).", key.id, printable(&key.name));
            Ok(())
        }
    }
}

/// Text for a terminal: control characters (escape sequences) shown as `?`.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}
