//! `server import FILE`: users from a Django `manage.py dumpdata auth.user`
//! dump, each with its primary key (the `user_id` of the tokens Django
//! minted), username, active flag and password hash as they are. Django's
//! `pbkdf2_sha256` hashes log in unchanged, and its `argon2` ones once
//! Django's `argon2` prefix is taken off the PHC string argon2-cffi wrote;
//! any other is kept but cannot match, and is named so its user can be
//! given a new password.
//!
//! The whole file is checked, and checked against the database, before
//! anything is written.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use tower_simplejwt::credentials::{DjangoHash, UserStore};

use crate::{users, Error};

/// One object of the dump.
#[derive(Deserialize)]
struct Record {
    model: String,
    pk: serde_json::Value,
    fields: Fields,
}

/// The fields of `auth.user` (and of custom user models) that matter here.
#[derive(Deserialize)]
struct Fields {
    username: String,
    password: String,
    #[serde(default = "active_by_default")]
    is_active: bool,
}

fn active_by_default() -> bool {
    true
}

/// A user to import.
struct Imported {
    id: i64,
    username: String,
    password_hash: String,
    is_active: bool,
}

/// Reads `file` (`-`: standard input) and adds its users to `database`.
pub async fn run(database: &str, file: &Path) -> Result<(), Error> {
    let text = read(file).map_err(|error| format!("{}: {error}", file.display()))?;
    let imported = parse(&text).map_err(|error| format!("{}: {error}", file.display()))?;
    let users = users::open(database).await?;
    for user in &imported {
        if let Some(taken) = users.find_by_username(&user.username).await? {
            return Err(format!(
                "a user named {:?} already exists (id {}): nothing imported",
                user.username, taken.id
            )
            .into());
        }
        if let Some(taken) = users.find_by_id(&user.id.to_string()).await? {
            return Err(format!(
                "id {} of {:?} is taken by {:?}: nothing imported",
                user.id, user.username, taken.username
            )
            .into());
        }
    }
    for user in &imported {
        users
            .create_with_id(user.id, &user.username, &user.password_hash, user.is_active)
            .await?;
        if let Some(warning) = unusable(user) {
            eprintln!("warning: {warning}");
        }
    }
    let count = imported.len();
    println!("imported {count} user{}", if count == 1 { "" } else { "s" });
    Ok(())
}

fn read(file: &Path) -> std::io::Result<String> {
    match file.as_os_str() == "-" {
        true => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            Ok(text)
        }
        false => std::fs::read_to_string(file),
    }
}

/// The users of a dump: a JSON array of user objects with integer
/// primary keys and distinct usernames.
fn parse(text: &str) -> Result<Vec<Imported>, String> {
    let records: Vec<Record> = serde_json::from_str(text)
        .map_err(|error| format!("not a `manage.py dumpdata auth.user` JSON dump: {error}"))?;
    let (mut ids, mut names) = (HashSet::new(), HashSet::new());
    let mut imported = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        let at = format!("object {index} ({})", record.model);
        let id = record
            .pk
            .as_i64()
            .filter(|id| *id > 0)
            .ok_or_else(|| format!("{at}: pk {} is not a positive integer", record.pk))?;
        let username = record.fields.username;
        if username.trim().is_empty() {
            return Err(format!("{at}: the username is blank"));
        }
        if !ids.insert(id) {
            return Err(format!("{at}: pk {id} appears twice"));
        }
        if !names.insert(username.clone()) {
            return Err(format!("{at}: the username {username:?} appears twice"));
        }
        imported.push(Imported {
            id,
            username,
            password_hash: stored_form(record.fields.password),
            is_active: record.fields.is_active,
        });
    }
    Ok(imported)
}

/// The hash as the password hasher reads it: Django's argon2 hashes are
/// `argon2` followed by a PHC string (`argon2$argon2id$v=19$m=…`).
fn stored_form(django: String) -> String {
    match django.strip_prefix("argon2") {
        Some(phc) if phc.starts_with("$argon2") => phc.to_owned(),
        _ => django,
    }
}

/// Why `user`'s password can never match here, if it cannot.
fn unusable(user: &Imported) -> Option<String> {
    let hash = &user.password_hash;
    let name = &user.username;
    if DjangoHash::parse(hash).is_some() || hash.starts_with("$argon2") {
        return None;
    }
    if hash.is_empty() || hash.starts_with('!') {
        return Some(format!(
            "{name:?} has no usable password in Django: set one with `server changepassword {name}`"
        ));
    }
    let scheme = hash.split('$').next().unwrap_or_default();
    Some(format!(
        "{name:?}'s password hash ({scheme}) cannot be checked here: \
         set a new one with `server changepassword {name}`"
    ))
}
