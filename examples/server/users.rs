//! `server createuser`, `changepassword` and `deactivate`: users in the
//! SQLite database, with argon2 hashes.

use std::io::{BufRead, IsTerminal};

use tower_simplejwt::credentials::{PasswordHasher, SqliteUserStore, User, UserStore};
use tower_simplejwt::store::sqlite::open_pool;

use crate::{stores, Error};

/// Creates `name` in `database` (the password read from standard input
/// when not given) and says so on standard output.
pub async fn create(
    database: &str,
    name: &str,
    password: Option<String>,
    active: bool,
) -> Result<(), Error> {
    let password = match password {
        Some(password) => password,
        None => read_password()?,
    };
    let users = open(database).await?;
    let hash = PasswordHasher::default().hash(&password)?;
    let id = users.create(name, &hash, active).await?.id;
    println!(
        "created user {name:?} with id {id}{}",
        if active { "" } else { " (inactive)" }
    );
    Ok(())
}

/// Sets the password of `name` and logs out its sessions: its refresh
/// tokens in `token_store` are revoked (its access tokens live on until
/// they expire).
pub async fn change_password(
    database: &str,
    name: &str,
    password: Option<String>,
    token_store: Option<&str>,
) -> Result<(), Error> {
    let password = match password {
        Some(password) => password,
        None => read_password()?,
    };
    let users = open(database).await?;
    let hash = PasswordHasher::default().hash(&password)?;
    let user = found(name, users.set_password_hash(name, &hash).await?)?;
    let sessions = log_out(database, token_store, &user).await?;
    println!("changed the password of {name:?}; {sessions}");
    Ok(())
}

/// Deactivates `name`: it can no longer log in, the tokens it holds are
/// refused, and its refresh tokens in `token_store` are revoked.
pub async fn deactivate(
    database: &str,
    name: &str,
    token_store: Option<&str>,
) -> Result<(), Error> {
    let users = open(database).await?;
    let user = found(name, users.set_active(name, false).await?)?;
    let sessions = log_out(database, token_store, &user).await?;
    println!("deactivated {name:?}; {sessions}");
    Ok(())
}

/// The users of `database`.
pub async fn open(database: &str) -> Result<SqliteUserStore, Error> {
    let pool = open_pool(database)
        .await
        .map_err(|error| format!("--database {database}: {error}"))?;
    Ok(SqliteUserStore::from_pool(pool).await?)
}

fn found(name: &str, user: Option<User>) -> Result<User, Error> {
    user.ok_or_else(|| format!("no user named {name:?}").into())
}

/// Revokes every refresh token of `user`; says how many sessions it ended.
async fn log_out(database: &str, token_store: Option<&str>, user: &User) -> Result<String, Error> {
    let store = stores::open_for_command(database, token_store).await?;
    let sessions = store.revoke_subject(&user.id).await?;
    Ok(match sessions {
        1 => "1 session logged out".to_owned(),
        sessions => format!("{sessions} sessions logged out"),
    })
}

fn read_password() -> Result<String, Error> {
    if std::io::stdin().is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        return Err("the password may not be empty".into());
    }
    Ok(password)
}
